/**
 * What the database-over-SSH tests share: the lastlog2 rows they load into the database server,
 * sshd inside the test host's namespace, and the built CLI run over it. The SQLite file with the
 * same rows gives the figures every engine must equal.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DAY } from '../../main/core/windows.js';
import type { BenchHost } from '../bench/bench-host.js';
import { type ProsodyRow, activityRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';
import { type CliRun, runBuiltCli, runBuiltCliAsync } from '../fixtures/run-built-cli.js';
import {
  type GeneratedKey,
  type SshdInstance,
  type TestUser,
  generateKey,
  startSshd,
} from '../support/sshd.js';

export const NOW = 1_795_536_000;

/** 300 accounts on three hosts, with logouts, registrations and one undecodable record. */
export function lastlogRows(): ProsodyRow[] {
  const rows: ProsodyRow[] = [];
  for (let i = 0; i < 300; i++) {
    const host = ['a.test', 'b.test', 'c.test'][i % 3]!;
    rows.push(
      activityRow({
        host,
        user: `u${i}`,
        event: 'login',
        timestamp: NOW - (i * DAY) / 7,
        ip: `2001:db8::${i}`,
      }),
    );
    if (i % 4 === 0)
      rows.push(activityRow({ host, user: `u${i}`, event: 'logout', timestamp: NOW - i }));
    if (i % 9 === 0)
      rows.push(
        activityRow({ host, user: `u${i}`, event: 'registered', timestamp: NOW - i * 500 }),
      );
  }
  rows.push({
    host: 'a.test',
    user: 'bad',
    store: 'lastlog2',
    key: 'login',
    type: 'json',
    value: '{oops',
  });
  return rows;
}

/** sshd on the test host's address, run inside its namespace, and a key to log in with. */
export async function startSshdInside(
  host: BenchHost,
): Promise<{ sshd: SshdInstance; key: GeneratedKey }> {
  const sshd = await startSshd({
    passwordAuth: false,
    listenAddress: host.serverAddress,
    commandPrefix: host.inside,
    hostKeyTypes: ['ed25519'],
  });
  const key = await generateKey('ed25519');
  return { sshd, key };
}

export type OverSsh = (user: TestUser, extra: string[], env?: NodeJS.ProcessEnv) => Promise<CliRun>;

/**
 * The figures the same rows give from a SQLite file here, and a runner of the CLI over SSH as
 * `user` (known_hosts and HOME in `local`).
 */
export function cliOverSsh(
  local: string,
  sshd: SshdInstance,
  key: GeneratedKey,
  rows: readonly ProsodyRow[],
): { expected: Record<string, unknown>; overSsh: OverSsh } {
  const knownHosts = join(local, 'known_hosts');
  writeFileSync(knownHosts, sshd.knownHostsLine());
  writeProsodySqlite(join(local, 'same.sqlite'), rows);
  const reference = runBuiltCli([
    '--db',
    join(local, 'same.sqlite'),
    '--at',
    String(NOW),
    '--json',
  ]);
  assert.equal(reference.status, 0, reference.stderr);
  const expected = (JSON.parse(reference.stdout) as { hosts: Record<string, unknown> }).hosts;
  const overSsh: OverSsh = (user, extra, env = {}) =>
    runBuiltCliAsync(
      [
        '--ssh',
        `${user.name}@${sshd.host}:${sshd.port}`,
        '--identity',
        key.privatePath,
        '--known-hosts',
        knownHosts,
        '--at',
        String(NOW),
        '--json',
        ...extra,
      ],
      { PATH: process.env.PATH, HOME: local, ...env },
    );
  return { expected, overSsh };
}

export const hostsOf = (run: CliRun) => (JSON.parse(run.stdout) as { hosts: unknown }).hosts;
