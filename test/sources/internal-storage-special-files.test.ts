/**
 * Files in internal storage that are not plain files Prosody wrote: a FIFO, a symlink loop, a file
 * the reader may not open, each named like an account's `.dat`. Each is one counted skip; the rest
 * of the count goes on. Run through the CLI in a child process with a deadline, because a read that
 * blocks (a FIFO opened for reading) blocks the whole process, test runner included.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeProsodyInternal } from '../fixtures/prosody-internal.js';
import { PROJECT_DIR, cliArgv } from '../fixtures/run-built-cli.js';

const NOW = 1_795_536_000;
const root = mkdtempSync(join(tmpdir(), 'pau-special-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

/** A data folder with two good accounts on a.test, and the lastlog2 folder to add odd files to. */
function dataFolder(): { dir: string; lastlog2: string } {
  const dir = mkdtempSync(join(root, `${dirs++}-`));
  chmodSync(dir, 0o755);
  writeProsodyInternal(dir, [
    { host: 'a.test', user: 'alice', event: 'login', timestamp: NOW - 60 },
    { host: 'a.test', user: 'bob', event: 'logout', timestamp: NOW - 3 * 86400 },
  ]);
  return { dir, lastlog2: join(dir, 'a%2etest', 'lastlog2') };
}

interface Host {
  dau: number;
  wau: number;
  accounts: number;
  skippedByReason: Record<string, number>;
}

function countLocally(dir: string): Host {
  // A deadline far above a normal run's second: the read that blocked forever ends here.
  const run = spawnSync(
    process.execPath,
    cliArgv(['--data-dir', dir, '--at', String(NOW), '--json']),
    { cwd: PROJECT_DIR, encoding: 'utf8', timeout: 30_000 },
  );
  assert.equal(run.status, 0, `${run.stderr}${run.status === null ? ' (timed out)' : ''}`);
  return (JSON.parse(run.stdout) as { hosts: Record<string, Host> }).hosts['a.test']!;
}

test('a FIFO named like an account file is skipped as malformed, not waited on', () => {
  const { dir, lastlog2 } = dataFolder();
  execFileSync('mkfifo', [join(lastlog2, 'carol.dat')]);
  const a = countLocally(dir);
  assert.deepEqual([a.dau, a.wau, a.accounts], [1, 2, 2]);
  assert.equal(a.skippedByReason.malformed, 1);
});
