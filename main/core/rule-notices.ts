import type { ActivityReport } from './count-active.js';

/**
 * The notices that say how hosts were counted when that was not certain or not obvious: a rule
 * taken from the data or assumed, a host where Prosody 13 counts nobody, accounts counted without
 * their account being read. Hosts with the same reason share one line.
 */
export function ruleNotices(report: Pick<ActivityReport, 'hosts' | 'rules'>): string[] {
  const byReason = new Map<string, string[]>();
  const add = (reason: string, host: string): void => {
    const hosts = byReason.get(reason) ?? [];
    hosts.push(host);
    byReason.set(reason, hosts);
  };
  for (const [host, decision] of Object.entries(report.rules)) {
    if (decision.basis !== 'version' || decision.rule === 'nobody') add(decision.reason, host);
  }
  const out = [...byReason].map(([reason, hosts]) => `${hosts.join(', ')}: ${reason}`);
  for (const [host, c] of Object.entries(report.hosts)) {
    if (c.statusUnknown > 0) {
      out.push(
        `${host}: ${c.statusUnknown} account${c.statusUnknown === 1 ? '' : 's'} counted without ` +
          'reading the account (this source does not read accounts); Prosody 13 would leave out ' +
          'disabled and missing ones',
      );
    }
  }
  return out;
}
