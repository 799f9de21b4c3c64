/**
 * What the live server told about itself at counting time, through whatever adapter reached it
 * (main/ssh/admin-socket-probe.ts). Pure data: the union with stored records and the health
 * verdicts are computed from it in core.
 */

/** The activity modules a host depends on, as the server has them loaded right now. */
export interface LoadedModules {
  /** mod_lastlog2: writes the login/logout records everything here is counted from. */
  lastlog2: boolean;
  /** Prosody 13's mod_account_activity: the newer source of the same timestamps. */
  accountActivity: boolean;
  /** prosody-modules' mod_measure_active_users: Prosody's own DAU/WAU/MAU gauges. */
  measureActiveUsers: boolean;
}

/** mod_measure_active_users' last published gauges for one host. */
export interface ModuleGauges {
  d1: number;
  d7: number;
  d30: number;
}

/** One VirtualHost as the live server sees it. */
export interface LiveHost {
  /** Accounts (the part before the @) with at least one session open, each once. */
  online: readonly string[];
  modules: LoadedModules;
  /** The module's last gauges; null when it publishes none (not loaded, or no statistics). */
  gauges: ModuleGauges | null;
  /**
   * What decides the host's counting rule, as the running server has it (see account-rule.ts):
   * its version, the authentication provider loaded, measure_active_users_count_disabled.
   */
  facts?: { version?: string; authentication?: string; countDisabled?: boolean };
}

/** The live view, or why there is none. Never a failure: the stored records count without it. */
export type LiveSnapshot =
  | { known: true; via: string; hosts: Record<string, LiveHost> }
  | {
      known: false;
      /** One sentence: why the live server could not be asked. */
      reason: string;
      /** True when the SSH account lacks the access (rather than the server being unreachable). */
      accessRefused: boolean;
    };

/** Asks the live server what stored records cannot tell. Never fails: a reason comes back. */
export interface LiveProbe {
  probe(): Promise<LiveSnapshot>;
}

/** The union needs the online accounts of a host as a set. */
export function onlineSets(snapshot: LiveSnapshot | undefined): Map<string, ReadonlySet<string>> {
  const sets = new Map<string, ReadonlySet<string>>();
  if (snapshot?.known) {
    for (const [host, live] of Object.entries(snapshot.hosts)) sets.set(host, new Set(live.online));
  }
  return sets;
}
