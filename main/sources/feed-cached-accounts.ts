import type { ActivityTally } from '../core/count-active.js';
import type { AccountCache } from './account-cache.js';
import { EMPTY_FLAG, ROLE_FLAG, accountCodeOf } from './account-packs.js';
import { accountStatus } from './activity-query.js';
import { feedQueryTuple } from './feed-query-rows.js';

/**
 * Adds every account cached under `key` of an included host to the tally, exactly as
 * feedQueryTuple would one by one, but from the packs (account-packs.ts): an account with an
 * open session (it needs its name) and the skip counts (few accounts have any) come as rows, the
 * rest as numbers by slot, which the tally needs no name for.
 */
export function feedCachedAccounts(
  store: AccountCache,
  key: string,
  tally: ActivityTally,
  includeHost: (host: string) => boolean,
): void {
  /** Per host, the slots of accounts counted as rows: their sessions are open. */
  const asRows = new Map<string, Set<number>>();
  for (const [host, users] of tally.online) {
    if (!includeHost(host)) continue;
    const slots = new Set<number>();
    for (const user of users) {
      const held = store.account(key, host, user);
      if (held === null) continue;
      feedQueryTuple(tally, held.tuple);
      slots.add(held.slot);
    }
    asRows.set(host, slots);
  }
  for (const { tuple } of store.skippedAccounts(key)) {
    const [host, user] = tuple;
    if (!includeHost(host) || tally.online.get(host)?.has(user) === true) continue;
    if (tuple[4] > 0) tally.addSkipped(host, 'not-an-event', tuple[4]);
    if (tuple[5] > 0) tally.addSkipped(host, 'malformed', tuple[5]);
    if (tuple[6] > 0) tally.addSkipped(host, 'no-timestamp', tuple[6]);
  }
  for (const pack of store.packs(key)) {
    const { host, first, lastActive, registered, flags } = pack;
    if (!includeHost(host)) continue;
    const skip = asRows.get(host);
    const n = flags.length;
    for (let slot = 0; slot < n; slot++) {
      const f = flags[slot]!;
      if (f & EMPTY_FLAG || skip?.has(first + slot) === true) continue;
      if (f & ROLE_FLAG) tally.noteHasRoles(host);
      const last = lastActive[slot]!;
      const reg = registered[slot]!;
      // NaN is none, as null in the tuple.
      if (last !== last && reg !== reg) {
        tally.touchHost(host);
        continue;
      }
      tally.addActivity(
        host,
        last === last ? last : null,
        reg === reg ? reg : null,
        accountStatus(accountCodeOf(f)),
      );
    }
  }
}
