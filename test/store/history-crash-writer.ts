/**
 * Child process for the crash test in history-db.test.ts:
 *   node --import tsx history-crash-writer.ts DB COMMITTED PARTIAL_HOSTS
 * records COMMITTED refreshes through HistoryDb.record, then starts one more record() of a refresh
 * with PARTIAL_HOSTS hosts. Halfway through its rows (inside the transaction), reading the next
 * host's figures prints one JSON line to stdout and blocks; the parent kills the process there.
 * The half refresh is large enough to overflow SQLite's page cache, so its uncommitted pages have
 * already been spilled into the WAL file when the kill comes: recovery must ignore them.
 */
import { statSync, writeSync } from 'node:fs';
import type { Figures, RefreshSuccess } from '../../main/core/monitor-types.js';
import { HistoryDb } from '../../main/store/history-db.js';

export const CRASH_BASE_AT = 1_795_536_000;
export const CRASH_HOSTS = ['*', 'a.test', 'b.test'];

export function crashFigures(i: number): Figures {
  return {
    dau: i,
    wau: 2 * i,
    mau: 3 * i,
    accounts: 10 + i,
    new1d: 0,
    new7d: 1,
    new30d: 2,
    newestEvent: CRASH_BASE_AT + i,
  };
}

function walSize(path: string): number {
  try {
    return statSync(`${path}-wal`).size;
  } catch {
    return 0;
  }
}

function main(): void {
  const [path, committedArg, partialArg] = process.argv.slice(2);
  if (!path || !committedArg || !partialArg) throw new Error('usage: DB COMMITTED PARTIAL_HOSTS');
  const committed = Number(committedArg);
  const partialHosts = Number(partialArg);

  const opened = HistoryDb.open(path);
  if (!opened.ok) throw new Error(JSON.stringify(opened.failure));
  const db = opened.value;
  for (let i = 0; i < committed; i++) {
    db.record({
      ok: true,
      profile: 'crash',
      at: CRASH_BASE_AT + i * 3600,
      hosts: Object.fromEntries(CRASH_HOSTS.map((h) => [h, crashFigures(i)])),
      method: 'sqlite',
      bytesReceived: 1000 + i,
      seconds: 0.25,
    });
  }
  const walAfterCommits = walSize(path);

  const half = Math.floor(partialHosts / 2);
  const hosts: Record<string, Figures> = {};
  for (let i = 0; i < partialHosts; i++) {
    const figures = crashFigures(i);
    if (i === half) {
      // Read by record() while it inserts this host's row: the rows before it are written.
      Object.defineProperty(figures, 'dau', {
        enumerable: true,
        get() {
          writeSync(
            1,
            JSON.stringify({ written: half, walAfterCommits, walNow: walSize(path) }) + '\n',
          );
          // Block the whole process, mid-transaction, until the parent's SIGKILL (or give up).
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
          process.exit(4);
        },
      });
    }
    hosts[`host-${String(i).padStart(6, '0')}.${'x'.repeat(200)}.example`] = figures;
  }
  const partial: RefreshSuccess = {
    ok: true,
    profile: 'crash',
    at: CRASH_BASE_AT + committed * 3600,
    hosts,
    method: 'sqlite',
    bytesReceived: 1,
    seconds: 1,
  };
  db.record(partial);
  // Not reached unless record() read the figures before starting its transaction.
  writeSync(1, JSON.stringify({ error: 'record() returned' }) + '\n');
  process.exit(3);
}

if (require.main === module) main();
