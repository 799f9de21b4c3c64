/**
 * Which accounts mod_measure_active_users counts on a host, as the server it runs on decides it.
 *
 * Read from the module and Prosody's own code, and checked against real 0.12.3 and 13.0.1:
 * - 0.12 has no `usermanager.user_is_enabled`, so `measure_active_users_count_disabled` defaults to
 *   true and every user with lastlog2 records counts.
 * - 13 counts a user only when `user_is_enabled(user, host)` is true, unless the option is true.
 *   With internal_hashed (the default) that reads the `accounts` store: a `disabled` account and a
 *   user with no account at all are left out. Every other provider (internal_plain, anonymous,
 *   ldap, …) has no `is_enabled`; the call then lands on the null provider, returns nil, and the
 *   module counts nobody on that host (only open sessions).
 */

/** What is known of one account besides its activity. */
export type AccountStatus =
  /** An account exists and is not disabled. */
  | 'enabled'
  /** An account exists with `disabled` set (anything but false, as Lua reads it). */
  | 'disabled'
  /** The source read the accounts store and found no account for this user. */
  | 'missing'
  /** The source did not read accounts (it cannot, or this host's rule does not need it). */
  | 'unknown';

export type CountingRule =
  /** Every user with records (0.12, or 13 with measure_active_users_count_disabled = true). */
  | 'all-records'
  /** Only users with an existing, enabled account (13 with internal_hashed). */
  | 'enabled-accounts'
  /** Nobody (13 with an authentication provider that cannot say "enabled"). */
  | 'nobody';

/** How a host's rule was found, from the surest to the least sure. */
export type RuleBasis = 'version' | 'data' | 'assumed';

export interface RuleDecision {
  rule: CountingRule;
  basis: RuleBasis;
  /** One short clause saying why, for notices and `--json`. */
  reason: string;
}

/**
 * What is known about one host (or, with host null, about every host of a server). Unknown facts
 * are left out; a source adds what it learns.
 */
export interface HostFacts {
  /** The server's Prosody version, e.g. "13.0.1" or "0.12.3". */
  version?: string;
  /** The `authentication` option as Prosody resolves it for the host; absent = the default. */
  authentication?: string;
  /** The `measure_active_users_count_disabled` option, when set. */
  countDisabled?: boolean;
  /** Whether the config was read at all (so that an absent `authentication` means the default). */
  configRead?: boolean;
  /** The host has at least one `account_roles` entry: only Prosody 13 writes that store. */
  hasRoles?: boolean;
}

/** Later facts win, field by field; `hasRoles` once true stays true. */
export function mergeFacts(a: HostFacts, b: HostFacts): HostFacts {
  const out: HostFacts = { ...a };
  for (const [k, v] of Object.entries(b) as [keyof HostFacts, unknown][]) {
    if (v === undefined) continue;
    if (k === 'hasRoles') out.hasRoles = (a.hasRoles ?? false) || (v as boolean);
    else (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

/** The major version of a version string: 0 for "0.12.3", 13 for "13.0.1", null when unreadable. */
export function prosodyMajor(version: string): number | null {
  const m = /^\s*(\d{1,4})\.(\d{1,4})/.exec(version);
  return m ? Number(m[1]) : null;
}

const DEFAULT_AUTH = 'internal_hashed';

function ruleOf13(facts: HostFacts, basis: RuleBasis, why: string): RuleDecision {
  if (facts.countDisabled === true) {
    return {
      rule: 'all-records',
      basis,
      reason: `${why}, with measure_active_users_count_disabled = true: every user with records counts`,
    };
  }
  const auth = facts.authentication ?? DEFAULT_AUTH;
  const authKnown = facts.authentication !== undefined || facts.configRead === true;
  if (auth === DEFAULT_AUTH) {
    return {
      rule: 'enabled-accounts',
      basis: authKnown ? basis : 'assumed',
      reason:
        `${why}, authentication internal_hashed${authKnown ? '' : ' (the default; config not read)'}: ` +
        'only existing, enabled accounts count',
    };
  }
  return {
    rule: 'nobody',
    basis,
    reason:
      `${why}, authentication ${auth} has no "enabled" check: Prosody 13's module counts nobody ` +
      '(set measure_active_users_count_disabled = true to count everyone)',
  };
}

/** The rule for one host, from what is known about it. Pure: facts in, decision out. */
export function decideRule(facts: HostFacts): RuleDecision {
  const major = facts.version === undefined ? null : prosodyMajor(facts.version);
  if (major !== null && major >= 13) {
    return ruleOf13(facts, 'version', `Prosody ${facts.version?.trim()}`);
  }
  // Only Prosody 13 writes account_roles, so they win over a 0.12 version file, which on a machine
  // with two Prosody installs may belong to the other one.
  if (facts.hasRoles === true) {
    return ruleOf13(facts, 'data', 'Prosody 13 (the host has account_roles entries)');
  }
  if (major !== null) {
    return {
      rule: 'all-records',
      basis: 'version',
      reason: `Prosody ${facts.version?.trim()}: every user with records counts`,
    };
  }
  if (facts.countDisabled === true) {
    return {
      rule: 'all-records',
      basis: 'data',
      reason: 'measure_active_users_count_disabled = true: every user with records counts',
    };
  }
  return {
    rule: 'all-records',
    basis: 'assumed',
    reason:
      'version unknown and no account_roles entries (Prosody 0.12 never writes them): ' +
      'counted as Prosody 0.12 does, every user with records',
  };
}

/** Whether a rule needs each account's status: sources skip reading accounts when it does not. */
export function ruleNeedsAccounts(rule: CountingRule): boolean {
  return rule === 'enabled-accounts';
}
