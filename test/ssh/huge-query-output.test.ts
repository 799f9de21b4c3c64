/**
 * A server whose query prints without end (issue 15, item 8): a real OpenSSH sshd whose session
 * PATH finds a fake `sqlite3` first, the rest of our script running as it would. The CLI must end
 * with one line, and its memory stay bounded by the output cap, never reach a V8 string's limit.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { writeProsodySqlite } from '../fixtures/prosody-sqlite.js';
import { PROJECT_DIR, cliArgv } from '../fixtures/run-built-cli.js';
import { sshCliOptions, startSshTestHost } from '../helpers/ssh-test-host.js';
import type { GeneratedKey, SshdInstance } from '../support/sshd.js';

let sshd: SshdInstance;
let key: GeneratedKey;
let work: string;
let knownHosts: string;
let remoteDb: string;

/** A user whose `sqlite3` is this shell script. */
async function userWithSqlite(name: string, script: string): Promise<string> {
  const bin = join(sshd.dir, `bin-${name}`);
  mkdirSync(bin, { mode: 0o755 });
  writeFileSync(join(bin, 'sqlite3'), `#!/bin/sh\n${script}\n`);
  chmodSync(join(bin, 'sqlite3'), 0o755);
  const user = await sshd.addUser(name, {
    authorizedKeys: [key.authorizedKey],
    path: `${bin}:/usr/local/bin:/usr/bin:/bin`,
  });
  return user.name;
}

/** Runs the CLI under GNU time: its result, and its peak RSS in MB. */
function countAs(user: string): Promise<{ status: number | null; stderr: string; peakMb: number }> {
  const args = cliArgv([
    ...sshCliOptions(user, sshd.port, key.privatePath, knownHosts),
    '--remote-db',
    remoteDb,
    '--method',
    'query',
    '--timeout',
    '120',
  ]);
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', 'PEAK_KB=%M', process.execPath, ...args], {
      cwd: PROJECT_DIR,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (status) => {
      const kb = Number(/PEAK_KB=(\d+)/.exec(stderr)?.[1]);
      resolve({
        status,
        stderr: stderr.replace(/PEAK_KB=\d+\n?|Command exited with .*\n/g, ''),
        peakMb: kb / 1024,
      });
    });
  });
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pau-huge-output-'));
  ({ sshd, key, knownHosts } = await startSshTestHost(work));
  const dir = mkdtempSync(join(sshd.dir, 'prosody-'));
  chmodSync(dir, 0o755);
  remoteDb = join(dir, 'prosody.sqlite');
  writeProsodySqlite(remoteDb, []);
  chmodSync(remoteDb, 0o644);
});

after(async () => {
  await sshd?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('a query that prints without end', () => {
  test('endless well-formed rows end in one line, with memory bounded by the cap', async () => {
    const user = await userWithSqlite(
      'endlessrows',
      `exec yes '["a.test","someone",1795536000,null,1,0,1234567]'`,
    );
    const run = await countAs(user);
    assert.equal(run.status, 1, run.stderr);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.match(run.stderr, /printed more than 256 MiB/);
    assert.doesNotMatch(run.stderr, /\n\s+at /);
    assert.ok(run.peakMb < 600, `peak RSS ${run.peakMb.toFixed(0)} MB`);
  });

  test('one endless line ends in one line at once', async () => {
    const user = await userWithSqlite('endlessline', `exec yes '["a.test",' | tr -d '\\n'`);
    const run = await countAs(user);
    assert.equal(run.status, 1, run.stderr);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.match(run.stderr, /a row is longer than any of ours/);
    assert.ok(run.peakMb < 300, `peak RSS ${run.peakMb.toFixed(0)} MB`);
  });
});
