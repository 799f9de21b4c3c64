/**
 * SIGTERM in watch mode while a refresh waits on a server that never answers: the CLI stops within
 * a few seconds (systemd's stop timeout is 90 s) and records nothing of the abandoned refresh. The
 * server is a real TCP listener that accepts and stays silent (sshd cannot be made to stall in its
 * greeting); the connect timeout is 600 s, so only stopping early ends the run in time.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { type Socket, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { HistoryDb } from '../../main/store/history-db.js';
import { PROJECT_DIR, cliArgv } from '../fixtures/run-built-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'pau-watch-stop-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('SIGTERM during a refresh against a silent server stops at once and records nothing of it', async () => {
  const sockets: Socket[] = [];
  let connected!: () => void;
  const firstConnection = new Promise<void>((r) => (connected = r));
  const silent = createServer((s) => {
    sockets.push(s);
    connected();
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as { port: number }).port;
  const stateDir = join(dir, 'state');
  const child = spawn(
    process.execPath,
    cliArgv([
      '--watch',
      '--ssh',
      `watcher@127.0.0.1:${port}`,
      '--ssh-config',
      '/dev/null',
      '--known-hosts',
      join(dir, 'known_hosts'),
      '--timeout',
      '600',
      '--state-dir',
      stateDir,
    ]),
    { cwd: PROJECT_DIR, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.resume();
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  try {
    await firstConnection;
    child.kill('SIGTERM');
    // Far below the 600 s the refresh would wait, and below systemd's 90 s.
    const bound = new Promise<'still running'>((r) =>
      setTimeout(() => r('still running'), 30_000).unref(),
    );
    const code = await Promise.race([exited, bound]);
    assert.equal(code, 0, stderr);
  } finally {
    child.kill('SIGKILL');
    for (const s of sockets) s.destroy();
    silent.close();
  }
  const history = HistoryDb.open(join(stateDir, 'history.sqlite'));
  assert.ok(history.ok);
  assert.deepEqual(history.value.refreshes(), []);
  history.value.close();
});
