// A throwaway, real MariaDB (Debian's mariadb-server 10.11) on loopback, for tests:
// mariadb-install-db into a temp folder, mariadbd on a free port with its socket in that folder.
// The admin is root over the socket (unix_socket authentication, as the test runs as root).

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './prosody-server.js';

const run = promisify(execFile);

export interface MariadbServer {
  port: number;
  socket: string;
  /** Runs SQL as root over the socket with the mariadb client; returns stdout (tab-separated). */
  sql(statements: string, database?: string): Promise<string>;
  stop(): Promise<void>;
}

/** Waits for the TCP port, or for the Unix socket when the server sits in another namespace. */
async function waitForPort(
  at: number | string,
  child: ChildProcess,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mariadbd exited (${child.exitCode})`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = typeof at === 'number' ? net.connect(at, '127.0.0.1') : net.connect(at);
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`mariadbd not listening after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * `prefix` runs mariadbd inside something else, e.g. `ip netns exec NAME`: its 127.0.0.1 is then
 * that namespace's own. The socket's folder may be entered by every user (unix_socket logins).
 */
export async function startMariadb(
  options: {
    prefix?: string[];
    /** mariadbd's --bind-address (a comma list); 127.0.0.1 by default. */
    bind?: string;
  } = {},
): Promise<MariadbServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pau-mariadb-'));
  const prefix = options.prefix ?? [];
  const data = path.join(dir, 'data');
  const socket = path.join(dir, 'sock');
  // A temp folder of its own: with the shared /tmp, two installs at once (test files run two at a
  // time) remove each other's '#sql-temptable-…' and one aborts with "Unknown table tmp_user_sys".
  const tmp = path.join(dir, 'tmp');
  mkdirSync(tmp);
  await run('mariadb-install-db', [
    '--no-defaults',
    `--datadir=${data}`,
    `--tmpdir=${tmp}`,
    '--user=root',
    '--auth-root-authentication-method=socket',
    '--skip-test-db',
  ]);
  const port = await freePort();
  if (prefix.length > 0) chmodSync(dir, 0o755);
  let output = '';
  const [command, ...args] = [
    ...prefix,
    'mariadbd',
    '--no-defaults',
    `--datadir=${data}`,
    `--tmpdir=${tmp}`,
    '--user=root',
    `--port=${port}`,
    `--bind-address=${options.bind ?? '127.0.0.1'}`,
    `--socket=${socket}`,
    `--pid-file=${path.join(dir, 'pid')}`,
    '--skip-log-bin',
    '--innodb-buffer-pool-size=64M',
  ];
  const child = spawn(command!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-8000)));
  child.stderr.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-8000)));
  const kill = () => child.kill('SIGKILL');
  process.on('exit', kill);
  try {
    await waitForPort(prefix.length > 0 ? socket : port, child, 30_000);
  } catch (e) {
    kill();
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(e as Error).message}\n${output}`);
  }
  return {
    port,
    socket,
    async sql(statements, database) {
      const { stdout } = await run(
        'mariadb',
        [
          '--no-defaults',
          '-S',
          socket,
          '-u',
          'root',
          '-N',
          '-B',
          ...(database ? [database] : []),
          '-e',
          statements,
        ],
        { maxBuffer: 64 * 1024 * 1024 },
      );
      return stdout;
    },
    async stop() {
      child.kill('SIGTERM');
      const exited = await Promise.race([
        new Promise<boolean>((r) => child.once('exit', () => r(true))),
        new Promise<boolean>((r) => setTimeout(() => r(false), 10_000)),
      ]);
      if (!exited && child.exitCode === null) child.kill('SIGKILL');
      process.off('exit', kill);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
