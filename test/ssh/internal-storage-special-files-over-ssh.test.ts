/**
 * Internal storage over SFTP against a real OpenSSH sshd on loopback, with files named like
 * accounts' `.dat` that are not plain files Prosody wrote. Each is one counted skip; nothing waits
 * on a FIFO, here or on the server (whose sftp process would stay stuck in open() for good).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runBuiltCliAsync } from '../fixtures/run-built-cli.js';
import { hostAOf, twoGoodAccounts } from '../fixtures/two-good-accounts.js';
import { sshCliOptions, startSshTestHost } from '../helpers/ssh-test-host.js';
import type { GeneratedKey, SshdInstance, TestUser } from '../support/sshd.js';

const NOW = 1_795_536_000;

let sshd: SshdInstance;
let key: GeneratedKey;
let reader: TestUser;
let work: string;
let knownHosts: string;
let dirs = 0;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pau-special-ssh-'));
  ({ sshd, key, knownHosts } = await startSshTestHost(work));
  reader = await sshd.addUser('specialreader', { authorizedKeys: [key.authorizedKey] });
});

after(async () => {
  await sshd?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** The data folder on the server. */
const remoteData = () => twoGoodAccounts(join(sshd.dir, `data-${dirs++}-`), NOW);

async function countOverSsh(dir: string, ...rest: string[]) {
  return runBuiltCliAsync([
    ...sshCliOptions(reader.name, sshd.port, key.privatePath, knownHosts),
    '--remote-data-dir',
    dir,
    '--no-live',
    '--at',
    String(NOW),
    '--json',
    ...rest,
  ]);
}

/** The reader's processes on the server (its sessions, internal-sftp), until they are all gone. */
async function readerProcessesLeft(): Promise<string[]> {
  for (let tries = 0; ; tries++) {
    const left: string[] = [];
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      try {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        if (Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) === reader.uid) {
          left.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '));
        }
      } catch {
        // gone while we looked
      }
    }
    if (left.length === 0 || tries >= 50) return left;
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a FIFO and a link to one are skipped as malformed, and no sftp process is left waiting', async () => {
  const { dir, lastlog2 } = remoteData();
  execFileSync('mkfifo', [join(lastlog2, 'carol.dat')]);
  symlinkSync('carol.dat', join(lastlog2, 'dave.dat'));
  // The default --timeout: a FIFO used to hold the count for 120 s (then 8 × --timeout at least).
  const run = await countOverSsh(dir);
  assert.equal(run.status, 0, `${run.stderr}${run.status === null ? ' (timed out)' : ''}`);
  const a = hostAOf(run.stdout);
  assert.deepEqual([a.dau, a.wau, a.accounts], [1, 2, 2]);
  assert.equal(a.skippedByReason.malformed, 2);
  assert.deepEqual(await readerProcessesLeft(), []);
});

test('a self-linked account file and one the reader may not open are skipped as malformed', async () => {
  const { dir, lastlog2 } = remoteData();
  symlinkSync('carol.dat', join(lastlog2, 'carol.dat'));
  writeFileSync(join(lastlog2, 'erin.dat'), 'return {};', { mode: 0o600 }); // root's, not the reader's
  const run = await countOverSsh(dir);
  assert.equal(run.status, 0, run.stderr);
  const a = hostAOf(run.stdout);
  assert.deepEqual([a.dau, a.wau, a.accounts], [1, 2, 2]);
  assert.equal(a.skippedByReason.malformed, 2);
});
