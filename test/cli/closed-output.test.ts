import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TOTAL_HOST } from '../../main/core/monitor-types.js';
import { HistoryDb } from '../../main/store/history-db.js';
import { PROJECT_DIR, cliArgv } from '../fixtures/run-built-cli.js';
import { activityRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';

const NOW = 1_795_536_000;
const dir = mkdtempSync(join(tmpdir(), 'pau-closed-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Runs the CLI with its stdout a pipe whose reading end is closed at once, as `| head -c 10` does
 * once it has read enough: the CLI's writes then fail with EPIPE.
 */
function runWithClosedStdout(args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, cliArgv(args), {
      cwd: PROJECT_DIR,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stderr }));
  });
}

function manyHostsDb(): string {
  const path = join(dir, 'prosody.sqlite');
  const rows = [];
  for (let i = 0; i < 2000; i++) {
    rows.push(activityRow({ host: `h${i}.test`, user: 'u', event: 'login', timestamp: NOW - 60 }));
  }
  writeProsodySqlite(path, rows);
  return path;
}

test('a count whose stdout is closed ends quietly with the status of a broken pipe', async () => {
  const db = manyHostsDb();
  for (const format of ['--json', '--openmetrics', '--verbose']) {
    const r = await runWithClosedStdout(['--db', db, format, '--at', String(NOW)]);
    assert.equal(r.status, 141, `${format}: ${r.stderr}`);
    assert.equal(r.stderr.includes('EPIPE'), false, r.stderr);
  }
});

test('history whose stdout is closed ends quietly with the status of a broken pipe', async () => {
  const stateDir = join(dir, 'state');
  mkdirSync(stateDir, { mode: 0o700 }); // private, as the CLI wants it: no warning on stderr
  const opened = HistoryDb.open(join(stateDir, 'history.sqlite'));
  assert.ok(opened.ok);
  const f = { dau: 1, wau: 1, mau: 1, accounts: 1, new1d: 0, new7d: 0, new30d: 0, newestEvent: 1 };
  for (let i = 0; i < 500; i++) {
    opened.value.record({
      ok: true,
      profile: 'p',
      at: NOW + i,
      hosts: { [TOTAL_HOST]: f, 'a.test': f },
      method: 'local read',
      bytesReceived: 0,
      seconds: 0.01,
    });
  }
  opened.value.close();
  for (const format of ['--json', '--csv', '--verbose']) {
    const r = await runWithClosedStdout(['history', '--state-dir', stateDir, format]);
    assert.equal(r.status, 141, `${format}: ${r.stderr}`);
    assert.equal(r.stderr, '');
  }
});
