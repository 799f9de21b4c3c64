import type { HostCounts } from './count-active.js';
import type { LiveSnapshot, LoadedModules, ModuleGauges } from './live-snapshot.js';
import { type TimingSlack, emptySlack } from './timing-slack.js';
import { getOwn, setOwn } from './host-record.js';

/** How Prosody's own last gauges compare with our figures. */
export type GaugeComparison =
  /** Equal in all three windows. */
  | 'equal'
  /** Different, but within what its hourly timing allows (accounts that moved since). */
  | 'explained'
  /** Different beyond that: something else counts differently (see the warning). */
  | 'unexplained'
  /** The module publishes no gauges for this host (not loaded, or statistics off). */
  | 'not-published';

/** One host's health, as the live server showed it. */
export interface HostHealth {
  modules: LoadedModules;
  /** The module's last gauges, shown next to ours. */
  gauges: ModuleGauges | null;
  comparison: GaugeComparison;
  /** True when neither mod_lastlog2 nor mod_account_activity is loaded: no new record is written. */
  activityModuleMissing: boolean;
  /** Sentences for the operator, most serious first. */
  warnings: string[];
}

/** The live part of a report. */
export interface LiveReport {
  known: boolean;
  /** How the live server was reached (when known). */
  via?: string;
  /** Why it could not be (when not known). */
  reason?: string;
  /** The SSH account lacks the access: the CLI then prints how to grant it. */
  accessRefused?: boolean;
  /** Every VirtualHost the live server has, whether or not it has records. */
  hosts: Record<string, HostHealth>;
}

function within(ours: number, theirs: number, down: number, up: number): boolean {
  return theirs >= ours - down && theirs <= ours + up;
}

/**
 * Compares the module's gauges with ours. The module counted at some moment within one period
 * before us, so accounts that came in since (`recent`) or left a window since (`leftSince`) may
 * account for a difference; anything beyond is unexplained.
 */
export function compareGauges(
  ours: Pick<HostCounts, 'dau' | 'wau' | 'mau'>,
  gauges: ModuleGauges | null,
  slack: TimingSlack,
): GaugeComparison {
  if (gauges === null) return 'not-published';
  if (gauges.d1 === ours.dau && gauges.d7 === ours.wau && gauges.d30 === ours.mau) return 'equal';
  const ok =
    within(ours.dau, gauges.d1, slack.recent, slack.leftSince.d1) &&
    within(ours.wau, gauges.d7, slack.recent, slack.leftSince.d7) &&
    within(ours.mau, gauges.d30, slack.recent, slack.leftSince.d30);
  return ok ? 'explained' : 'unexplained';
}

const fig = (a: number, b: number, c: number) => `${a}/${b}/${c}`;

/** The health of every host the live server has, next to our figures for them. */
export function evaluateLive(
  snapshot: LiveSnapshot | undefined,
  hosts: Readonly<Record<string, HostCounts>>,
  slack: Readonly<Record<string, TimingSlack>>,
): LiveReport | undefined {
  if (snapshot === undefined) return undefined;
  if (!snapshot.known) {
    return {
      known: false,
      reason: snapshot.reason,
      accessRefused: snapshot.accessRefused,
      hosts: {},
    };
  }
  const out: Record<string, HostHealth> = {};
  for (const name of Object.keys(snapshot.hosts).sort()) {
    const live = snapshot.hosts[name]!;
    const ours = getOwn(hosts, name) ?? { dau: 0, wau: 0, mau: 0 };
    const comparison = compareGauges(ours, live.gauges, getOwn(slack, name) ?? emptySlack());
    const activityModuleMissing = !live.modules.lastlog2 && !live.modules.accountActivity;
    const warnings: string[] = [];
    if (activityModuleMissing) {
      warnings.push(
        `mod_lastlog2 is not loaded on ${name}: no login is recorded any more, so the figures will stop moving. Add "lastlog2" to modules_enabled and reload Prosody.`,
      );
    }
    if (!live.modules.measureActiveUsers) {
      warnings.push(
        `mod_measure_active_users is not loaded on ${name}: Prosody publishes no figures of its own to compare with.`,
      );
    } else if (live.gauges === null) {
      warnings.push(
        `mod_measure_active_users publishes no figures for ${name}: statistics are off (set statistics = "internal").`,
      );
    } else if (comparison === 'unexplained') {
      const g = live.gauges;
      const zero = g.d1 === 0 && g.d7 === 0 && g.d30 === 0;
      warnings.push(
        `Prosody's own figures for ${name} (${fig(g.d1, g.d7, g.d30)}) differ from ours (${fig(ours.dau, ours.wau, ours.mau)}) by more than open sessions and its hourly count explain` +
          (zero
            ? ': all zero, perhaps it has not counted since Prosody started (it counts 15 s after start).'
            : '.'),
      );
    }
    setOwn(out, name, {
      modules: live.modules,
      gauges: live.gauges,
      comparison,
      activityModuleMissing,
      warnings,
    });
  }
  return { known: true, via: snapshot.via, hosts: out };
}
