import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { SourceRecord } from '../core/activity-record.js';
import { AccountFolder, type ActivityTally } from '../core/count-active.js';
import { type Result, FailureError, fail, ok } from '../core/failure.js';
import type { ActivitySource } from '../core/activity-source.js';
import { fileFailure } from './file-failure.js';
import {
  MAX_ACTIVITY_FILE_BYTES,
  accountActivityRecords,
  lastlog2Records,
} from './internal-storage-records.js';
import { decodeProsodyName } from './prosody-name-encoding.js';

const STORES = ['lastlog2', 'account_activity'] as const;
type Store = (typeof STORES)[number];

/** How many files are read at once: enough to hide latency, few enough to spare the server's disk. */
const READ_CONCURRENCY = 32;

type FileText = { text: string } | { tooLarge: true } | null;

async function readActivityFile(path: string): Promise<FileText> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    // An account deleted while we read is simply gone.
    if ((e as { code?: string }).code === 'ENOENT') return null;
    throw new FailureError(fileFailure(e, path, 'Prosody data file'));
  }
  try {
    const { size } = await handle.stat();
    if (size > MAX_ACTIVITY_FILE_BYTES) return { tooLarge: true };
    return { text: await handle.readFile({ encoding: 'utf8' }) };
  } finally {
    await handle.close();
  }
}

async function listStore(hostDir: string, store: Store): Promise<string[]> {
  try {
    const names = await readdir(join(hostDir, store));
    return names.filter((n) => n.endsWith('.dat')).map((n) => n.slice(0, -'.dat'.length));
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw new FailureError(fileFailure(e, join(hostDir, store), 'Prosody data folder'));
  }
}

async function accountRecords(
  hostDir: string,
  host: string,
  encodedUser: string,
  stores: Record<Store, ReadonlySet<string>>,
): Promise<SourceRecord[]> {
  const user = decodeProsodyName(encodedUser);
  if (user === null) return [{ host, user: encodedUser, skipped: 'malformed', where: 'file name' }];
  const out: SourceRecord[] = [];
  for (const store of STORES) {
    if (!stores[store].has(encodedUser)) continue;
    const file = await readActivityFile(join(hostDir, store, `${encodedUser}.dat`));
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

/**
 * Prosody's internal storage: `<data>/<host>/lastlog2/<user>.dat` and
 * `<data>/<host>/account_activity/<user>.dat`. Files are parsed as data, never executed.
 */
export class InternalStorageSource implements ActivitySource {
  readonly label: string;

  constructor(
    private readonly dataDir: string,
    private readonly includeHost: (host: string) => boolean = () => true,
  ) {
    this.label = `Prosody data folder ${dataDir}`;
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

  private async feedOrThrow(tally: ActivityTally): Promise<void> {
    let hostDirs: string[];
    try {
      const info = await stat(this.dataDir);
      if (!info.isDirectory()) {
        throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
      }
      hostDirs = (await readdir(this.dataDir, { withFileTypes: true }))
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort();
    } catch (e) {
      throw new FailureError(fileFailure(e, this.dataDir, 'Prosody data folder'));
    }
    const folder = new AccountFolder(tally);
    for (const encodedHost of hostDirs) {
      const host = decodeProsodyName(encodedHost);
      if (host === null || !this.includeHost(host)) continue;
      const hostDir = join(this.dataDir, encodedHost);
      const lastlog2 = new Set(await listStore(hostDir, 'lastlog2'));
      const activity = new Set(await listStore(hostDir, 'account_activity'));
      const users = [...new Set([...lastlog2, ...activity])].sort();
      const stores = { lastlog2, account_activity: activity };
      for (let i = 0; i < users.length; i += READ_CONCURRENCY) {
        const batch = users.slice(i, i + READ_CONCURRENCY);
        const results = await Promise.all(
          batch.map((u) => accountRecords(hostDir, host, u, stores)),
        );
        for (const records of results) for (const r of records) folder.add(r);
      }
    }
    folder.flush();
  }
}
