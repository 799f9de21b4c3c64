/**
 * Files in internal storage that are not plain files Prosody wrote: a FIFO, a symlink loop, a file
 * the reader may not open, each named like an account's `.dat`. Each is one counted skip; the rest
 * of the count goes on. Run through the CLI in a child process with a deadline, because a read that
 * blocks (a FIFO opened for reading) blocks the whole process, test runner included.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeDatFile } from '../fixtures/prosody-internal.js';
import { PROJECT_DIR, cliArgv } from '../fixtures/run-built-cli.js';
import { type CountedHost, hostAOf, twoGoodAccounts } from '../fixtures/two-good-accounts.js';

const NOW = 1_795_536_000;
const root = mkdtempSync(join(tmpdir(), 'pau-special-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

const dataFolder = () => twoGoodAccounts(join(root, `${dirs++}-`), NOW);

/** Root reads every file: a test of an unreadable file runs the CLI as the user nobody. */
const asRoot = process.getuid?.() === 0;
const NOBODY = 65534;

function cli(args: string[], uid?: number) {
  // A deadline far above a normal run's second: the read that blocked forever ends here.
  return spawnSync(process.execPath, cliArgv(args), {
    cwd: PROJECT_DIR,
    encoding: 'utf8',
    timeout: 30_000,
    uid,
    env: { ...process.env, TSX_DISABLE_CACHE: '1' },
  });
}

function countLocally(dir: string, uid?: number): CountedHost {
  const run = cli(['--data-dir', dir, '--at', String(NOW), '--json'], uid);
  assert.equal(run.status, 0, `${run.stderr}${run.status === null ? ' (timed out)' : ''}`);
  return hostAOf(run.stdout);
}

test('a FIFO named like an account file is skipped as malformed, not waited on', () => {
  const { dir, lastlog2 } = dataFolder();
  execFileSync('mkfifo', [join(lastlog2, 'carol.dat')]);
  const a = countLocally(dir);
  assert.deepEqual([a.dau, a.wau, a.accounts], [1, 2, 2]);
  assert.equal(a.skippedByReason.malformed, 1);
});

test('a self-linked account file and a link to nothing are skipped as malformed, not a stack trace', () => {
  const { dir, lastlog2 } = dataFolder();
  symlinkSync('carol.dat', join(lastlog2, 'carol.dat'));
  symlinkSync('nowhere', join(lastlog2, 'dan.dat'));
  const a = countLocally(dir);
  assert.deepEqual([a.dau, a.wau, a.accounts], [1, 2, 2]);
  assert.equal(a.skippedByReason.malformed, 2);
});

test('an account file the reader may not open is skipped as malformed; the rest still counts', () => {
  const { dir } = dataFolder();
  chmodSync(root, 0o755);
  for (const d of [join(dir, 'a%2etest'), join(dir, 'a%2etest', 'lastlog2')]) chmodSync(d, 0o755);
  for (const user of ['alice', 'bob']) {
    chmodSync(join(dir, 'a%2etest', 'lastlog2', `${user}.dat`), 0o644);
  }
  const secret = writeDatFile(dir, 'a.test', 'lastlog2', 'carol', 'return {};');
  chmodSync(secret, 0o000);
  const a = countLocally(dir, asRoot ? NOBODY : undefined);
  assert.deepEqual([a.dau, a.wau, a.accounts], [1, 2, 2]);
  assert.equal(a.skippedByReason.malformed, 1);
});

test('when no account file at all may be opened, the count fails with permission denied', () => {
  const { dir } = dataFolder();
  chmodSync(root, 0o755);
  for (const d of [join(dir, 'a%2etest'), join(dir, 'a%2etest', 'lastlog2')]) chmodSync(d, 0o755);
  for (const user of ['alice', 'bob']) {
    chmodSync(join(dir, 'a%2etest', 'lastlog2', `${user}.dat`), 0o600);
  }
  const run = cli(['--data-dir', dir, '--at', String(NOW)], asRoot ? NOBODY : undefined);
  assert.equal(run.status, 1, run.stderr);
  assert.match(
    run.stderr,
    /^prosody-active-users: Permission denied reading the Prosody data file at .*lastlog2\/alice\.dat: run as a user in the prosody group/,
  );
});

for (const option of ['--db', '--data-dir']) {
  test(`${option} pointing at a symlink loop gives one line, not a stack trace`, () => {
    const loop = join(mkdtempSync(join(root, 'loop-')), 'prosody');
    symlinkSync(loop, loop);
    const run = cli([option, loop]);
    assert.equal(run.status, 1);
    assert.equal(run.stdout, '');
    assert.equal(
      run.stderr,
      `prosody-active-users: ${loop} is a loop of symbolic links: point the path at the ${option === '--db' ? 'Prosody SQLite database' : 'Prosody data folder'} itself.\n`,
    );
  });
}
