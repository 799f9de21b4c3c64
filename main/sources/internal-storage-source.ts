import type { SourceRecord } from '../core/activity-record.js';
import type { ActivitySource } from '../core/activity-source.js';
import { AccountFolder, type ActivityTally } from '../core/count-active.js';
import { type Result, FailureError, fail, ok } from '../core/failure.js';
import {
  MAX_ACTIVITY_FILE_BYTES,
  accountActivityRecords,
  lastlog2Records,
} from './internal-storage-records.js';
import { localStorageFs } from './local-storage-fs.js';
import { decodeProsodyName } from './prosody-name-encoding.js';
import type { StorageFs } from './storage-fs.js';

const STORES = ['lastlog2', 'account_activity'] as const;
type Store = (typeof STORES)[number];

/** How many files are read at once: enough to hide latency, few enough to spare the server's disk. */
const READ_CONCURRENCY = 32;

export interface InternalStorageOptions {
  fs?: StorageFs;
  includeHost?: (host: string) => boolean;
  /** Says where the data is, for messages; defaults to "Prosody data folder DIR". */
  label?: string;
}

/**
 * Prosody's internal storage: `<data>/<host>/lastlog2/<user>.dat` and
 * `<data>/<host>/account_activity/<user>.dat`. Files are parsed as data, never executed.
 */
export class InternalStorageSource implements ActivitySource {
  readonly label: string;
  private readonly fs: StorageFs;
  private readonly includeHost: (host: string) => boolean;

  constructor(
    private readonly dataDir: string,
    options: InternalStorageOptions = {},
  ) {
    this.fs = options.fs ?? localStorageFs;
    this.includeHost = options.includeHost ?? (() => true);
    this.label = options.label ?? `Prosody data folder ${dataDir}`;
  }

  async feed(tally: ActivityTally): Promise<Result<void>> {
    try {
      await this.feedOrThrow(tally);
      return ok(undefined);
    } catch (e) {
      if (e instanceof FailureError) return fail(e.failure);
      throw e;
    }
  }

  private async listStore(hostDir: string, store: Store): Promise<Set<string>> {
    const entries = (await this.fs.list(this.fs.join(hostDir, store))) ?? [];
    return new Set(
      entries
        .filter((e) => !e.isDir && e.name.endsWith('.dat'))
        .map((e) => e.name.slice(0, -'.dat'.length)),
    );
  }

  private async accountRecords(
    hostDir: string,
    host: string,
    encodedUser: string,
    stores: Record<Store, ReadonlySet<string>>,
  ): Promise<SourceRecord[]> {
    const user = decodeProsodyName(encodedUser);
    if (user === null) {
      return [{ host, user: encodedUser, skipped: 'malformed', where: 'file name' }];
    }
    const out: SourceRecord[] = [];
    for (const store of STORES) {
      if (!stores[store].has(encodedUser)) continue;
      const path = this.fs.join(hostDir, store, `${encodedUser}.dat`);
      const file = await this.fs.readCapped(path, MAX_ACTIVITY_FILE_BYTES);
      if (file === null) continue;
      if ('tooLarge' in file) {
        out.push({ host, user, skipped: 'malformed', where: store });
      } else if (store === 'lastlog2') {
        out.push(...lastlog2Records(host, user, file.text));
      } else {
        out.push(...accountActivityRecords(host, user, file.text));
      }
    }
    return out;
  }

  private async feedOrThrow(tally: ActivityTally): Promise<void> {
    const top = await this.fs.list(this.dataDir);
    if (top === null) {
      throw new FailureError({
        kind: 'not-found',
        path: this.dataDir,
        what: 'Prosody data folder',
      });
    }
    const hostDirs = top
      .filter((e) => e.isDir)
      .map((e) => e.name)
      .sort();
    const folder = new AccountFolder(tally);
    for (const encodedHost of hostDirs) {
      const host = decodeProsodyName(encodedHost);
      if (host === null || !this.includeHost(host)) continue;
      const hostDir = this.fs.join(this.dataDir, encodedHost);
      const lastlog2 = await this.listStore(hostDir, 'lastlog2');
      const activity = await this.listStore(hostDir, 'account_activity');
      const users = [...new Set([...lastlog2, ...activity])].sort();
      const stores = { lastlog2, account_activity: activity };
      // A sliding window of reads. Each account's records reach the folder together, so they
      // stay adjacent whatever order the reads finish in.
      let next = 0;
      const reader = async () => {
        while (next < users.length) {
          const user = users[next++] as string;
          const records = await this.accountRecords(hostDir, host, user, stores);
          for (const r of records) folder.add(r);
        }
      };
      await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, users.length) }, reader));
    }
    folder.flush();
  }
}
