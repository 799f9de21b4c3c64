import type { HostFacts } from '../core/account-rule.js';
import type { ActivitySource } from '../core/activity-source.js';
import type { ActivityTally } from '../core/count-active.js';
import type { Result } from '../core/failure.js';

/** What is known of a server before reading its records: per host (null: every host). */
export type KnownFacts = ReadonlyArray<readonly [host: string | null, facts: HostFacts]>;

/**
 * A source that also tells the tally what the config and the installed version say about each
 * host's counting rule, before its records arrive (so that internal storage knows whether to read
 * accounts at all).
 */
export function withHostFacts(source: ActivitySource, known: KnownFacts): ActivitySource {
  if (known.length === 0) return source;
  return {
    label: source.label,
    feed(tally: ActivityTally): Promise<Result<void>> {
      for (const [host, facts] of known) tally.noteFacts(host, facts);
      return source.feed(tally);
    },
  };
}
