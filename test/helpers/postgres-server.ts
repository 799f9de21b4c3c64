// A throwaway, real PostgreSQL 15 (Debian's package) on loopback, for tests: initdb into a temp
// folder, pg_ctl start on a free port with its socket in that folder. As root it runs as user
// postgres (PostgreSQL refuses to run as root). Stopped and removed by stop().

import { execFile } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './prosody-server.js';

const run = promisify(execFile);
const BIN = '/usr/lib/postgresql/15/bin';

export interface PostgresServer {
  port: number;
  /** Folder holding the Unix socket `.s.PGSQL.<port>`. */
  socketDir: string;
  /** The superuser, who may log in over TCP with `password`. */
  superuser: string;
  password: string;
  /** Runs SQL as the superuser in `database` with psql; returns stdout. */
  psql(sql: string, database?: string): Promise<string>;
  stop(): Promise<void>;
}

const asRoot = process.getuid?.() === 0;

function asPostgres(cmd: string, args: string[]): [string, string[]] {
  return asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
}

/**
 * Starts PostgreSQL. `listen` is the TCP address ('' for the Unix socket only); `prefix` runs
 * every server command inside something else, e.g. `ip netns exec NAME`.
 */
export async function startPostgres(
  options: {
    listen?: string;
    prefix?: string[];
    port?: number;
    /** How Unix-socket logins are checked: trust (default) or peer (the OS user's name). */
    localAuth?: 'trust' | 'peer';
  } = {},
): Promise<PostgresServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pau-pg-'));
  const data = path.join(dir, 'data');
  const pwfile = path.join(dir, 'pw');
  const password = 'test-superuser-pw';
  writeFileSync(pwfile, password);
  if (asRoot) {
    const pg = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    chownSync(dir, pg, gid);
    // Other users reach the socket in it (peer authentication over SSH logs in as them).
    chmodSync(dir, 0o755);
    chownSync(pwfile, pg, gid);
  }
  const port = options.port ?? (await freePort());
  const prefix = options.prefix ?? [];
  const exec = async (cmd: string, args: string[]) => {
    const [c, a] = asPostgres(cmd, args);
    const [c2, ...a2] = [...prefix, c, ...a];
    return run(c2!, a2, { maxBuffer: 64 * 1024 * 1024 });
  };
  await exec(`${BIN}/initdb`, [
    '-D',
    data,
    '-U',
    'postgres',
    '--pwfile',
    pwfile,
    `--auth-local=${options.localAuth ?? 'trust'}`,
    '--auth-host=scram-sha-256',
    '-E',
    'UTF8',
    '--locale=C',
  ]);
  const listen = options.listen ?? '127.0.0.1';
  await exec(`${BIN}/pg_ctl`, [
    '-D',
    data,
    '-l',
    path.join(dir, 'log'),
    '-w',
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses='${listen}' -c fsync=off -c full_page_writes=off`,
    'start',
  ]);
  const server: PostgresServer = {
    port,
    socketDir: dir,
    superuser: 'postgres',
    password,
    async psql(sql, database = 'postgres') {
      const { stdout } = await exec(`${BIN}/psql`, [
        '-h',
        dir,
        '-p',
        String(port),
        '-U',
        'postgres',
        '-d',
        database,
        '-X',
        '-q',
        '-A',
        '-t',
        '-v',
        'ON_ERROR_STOP=1',
        '-c',
        sql,
      ]);
      return stdout;
    },
    async stop() {
      try {
        await exec(`${BIN}/pg_ctl`, ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // Already gone.
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}
