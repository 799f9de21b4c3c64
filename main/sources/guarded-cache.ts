import type { ActivityTally } from '../core/count-active.js';

/**
 * A source's optional local cache, set aside for good the first time it throws: the count goes on
 * without it, and the tally says so once.
 */
export class GuardedCache<C> {
  private broken = false;

  constructor(private readonly cache: C | undefined) {}

  /** The action's answer; undefined when there is no cache, it broke before, or it breaks now. */
  use<T>(tally: ActivityTally, action: (c: C) => T): T | undefined {
    const cache = this.cache;
    if (cache === undefined || this.broken) return undefined;
    try {
      return action(cache);
    } catch (e) {
      this.broken = true;
      tally.notices.push(
        `the local cache could not be used (${e instanceof Error ? e.message : String(e)}); counted without it`,
      );
      return undefined;
    }
  }
}
