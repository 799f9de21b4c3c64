import type { ActivityTally } from '../core/count-active.js';
import {
  type AccountCache,
  type CheckedHostTotals,
  FULL_RECHECK_SECONDS,
  type UnchangedProof,
} from './account-cache.js';
import type { ActivityQueryTuple } from './activity-query.js';
import { feedCachedAccounts } from './feed-cached-accounts.js';

/** The account cache as one query source uses it: its key, and the clock for the daily full fetch. */
export interface KeyedAccountCache {
  store: AccountCache;
  key: string;
  /** This machine's clock, Unix seconds. */
  clock: () => number;
}

/**
 * How far before the newest time held an incremental query starts: commits that land a little out
 * of order, and a server clock stepped back a little, are still caught. Costs a few rows.
 */
export const SINCE_MARGIN_SECONDS = 600;

/**
 * The time to ask changes from, when the cached accounts (written under `stamp`) may be brought up
 * to date; undefined when everything must be fetched.
 */
export function cachedSince(cache: KeyedAccountCache, stamp: string): number | undefined {
  const held = cache.store.snapshot(cache.key);
  const now = cache.clock();
  if (held === null || held.stamp !== stamp || held.serverNow === null) return undefined;
  if (now < held.fullAt || now - held.fullAt >= FULL_RECHECK_SECONDS) return undefined;
  const newest = Math.min(held.newest ?? held.serverNow, held.serverNow);
  return Math.max(0, Math.floor(newest) - SINCE_MARGIN_SECONDS);
}

/**
 * Merges a changes-only answer into the cache and counts every cached account of an included host
 * into `into`; false when the cached accounts no longer match the server's totals.
 */
export function mergeChanges(
  cache: KeyedAccountCache,
  stamp: string,
  answer: {
    accounts: readonly ActivityQueryTuple[];
    totals: readonly CheckedHostTotals[];
    serverNow: number;
    /** Kept with the accounts, for the server's "unchanged" answer next time. */
    proof?: UnchangedProof;
  },
  includeHost: (host: string) => boolean,
  into: ActivityTally,
): boolean {
  const held = cache.store.snapshot(cache.key);
  const info = {
    stamp,
    fullAt: held?.fullAt ?? 0,
    serverNow: answer.serverNow,
    proof: answer.proof ?? null,
  };
  if (!cache.store.merge(cache.key, info, answer.accounts, answer.totals)) return false;
  feedCachedAccounts(cache.store, cache.key, into, includeHost);
  return true;
}
