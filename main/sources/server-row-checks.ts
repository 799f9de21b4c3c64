import type { AccountCode } from './activity-query.js';
import type { CheckedHostTotals } from './account-cache.js';
import { isDigest } from './account-digest.js';

/** Checks on values read from a server's answer, which is untrusted. */
export const isTime = (x: unknown) => x === null || (typeof x === 'number' && Number.isFinite(x));
export const isCount = (x: unknown) => typeof x === 'number' && Number.isInteger(x) && x >= 0;
export const isAccountCode = (x: unknown): x is AccountCode => x === 0 || x === 1 || x === 2;

/**
 * One host's totals as the server queries give them: host, accounts, the three skip counts,
 * enabled, disabled, missing, has_roles (0/1), and from the remote SQLite query the accounts'
 * digest (account-digest.ts); null when they do not fit.
 */
export function toHostTotals(fields: readonly unknown[]): CheckedHostTotals | null {
  const [host, n, a, b, c, enabled, disabled, missing, roles, digest] = fields;
  const counts = [n, a, b, c, enabled, disabled, missing];
  if (fields.length !== 9 && fields.length !== 10) return null;
  if (typeof host !== 'string' || !counts.every(isCount)) return null;
  if (roles !== 0 && roles !== 1) return null;
  if (fields.length === 10 && !isDigest(digest)) return null;
  return {
    host,
    accounts: n as number,
    notAnEvent: a as number,
    malformed: b as number,
    noTimestamp: c as number,
    enabled: enabled as number,
    disabled: disabled as number,
    missing: missing as number,
    hasRoles: roles === 1,
    ...(fields.length === 10 ? { digest: digest as number } : {}),
  };
}
