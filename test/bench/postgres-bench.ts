/**
 * The benchmark's PostgreSQL part (issue 11): the real CLI reads a real PostgreSQL 15 that listens
 * only inside the bench host's network namespace (100 Mbit/s veth link), through the SSH
 * connection alone, with the key line --print-db-recipe prints. A first refresh (empty state
 * folder) and an unchanged one (the same folder again), beside the baseline an operator would
 * script: `ssh -C host psql` running the same aggregate on the server.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { dbRecipe } from '../../main/sources/db-recipe.js';
import { postgresActivityQuery } from '../../main/sources/sql-server-queries.js';
import { type PostgresServer, startPostgres } from '../helpers/postgres-server.js';
import {
  type SshdInstance,
  type TestUser,
  generateKey,
  startSshd,
  stopAllSshd,
} from '../support/sshd.js';
import { type BenchHost, LINK_RATE, createBenchHost } from './bench-host.js';
import {
  GNU_TIME,
  type Stat,
  fmtCount,
  fmtStat,
  opensshClientOptions,
  runProcess,
  stat,
  table,
} from './bench-util.js';

const REPO = resolve(__dirname, '..', '..');
const CLI = join(REPO, 'dist', 'main', 'cli.js');
const DAY = 86_400;

export interface PostgresCase {
  method: 'ours (--sql over SSH)' | 'ssh -C + psql';
  refresh: 'first' | 'unchanged';
  accounts: number;
  runs: number;
  seconds: Stat;
  bytesReceived: Stat;
  bytesPerAccount: number;
  peakRssMb: Stat;
  said?: string;
  exact: boolean;
  ratioToBaseline?: number;
}

export const POSTGRES_TARGETS = {
  firstBytesPerAccount: 40,
  unchangedBytes: 200 * 1000,
  ratioAt1M: 1.5,
};

interface Server {
  host: BenchHost;
  pg: PostgresServer;
  sshd: SshdInstance;
  reader: TestUser;
  operator: TestUser;
  key: string;
  knownHosts: string;
  work: string;
}

type Figures = Record<string, { dau: number; wau: number; mau: number; accounts: number }>;

/**
 * Prosody's table with `accounts` accounts over three hosts, as mod_lastlog2 writes them (with IP
 * addresses): a login each, a logout for two in three, a registration for one in ten; ages spread
 * over 60 days before `now`.
 */
async function fillDatabase(pg: PostgresServer, name: string, accounts: number, now: number) {
  await pg.psql(`CREATE DATABASE ${name}`);
  const age = `((i::bigint * 7919) % ${60 * DAY})`;
  await pg.psql(
    `CREATE TABLE prosody ("host" TEXT NOT NULL, "user" TEXT NOT NULL, "store" TEXT NOT NULL,
       "key" TEXT NOT NULL, "type" TEXT NOT NULL, "value" TEXT NOT NULL);
     INSERT INTO prosody SELECT 'h' || (i % 3) || '.example', 'user' || i, 'lastlog2', 'login', 'json',
       '{"timestamp":' || (${now} - ${age}) || ',"ip":"2001:db8::' || to_hex(i % 65536) || '"}'
       FROM generate_series(1, ${accounts}) i;
     INSERT INTO prosody SELECT 'h' || (i % 3) || '.example', 'user' || i, 'lastlog2', 'logout', 'json',
       '{"ip":"2001:db8::' || to_hex(i % 65536) || '","timestamp":' || (${now} - ${age} + i % 3600) || '}'
       FROM generate_series(1, ${accounts}) i WHERE i % 3 <> 0;
     INSERT INTO prosody SELECT 'h' || (i % 3) || '.example', 'user' || i, 'lastlog2', 'registered', 'json',
       '{"timestamp":' || (${now} - ${age} - ${DAY}) || '}'
       FROM generate_series(1, ${accounts}) i WHERE i % 10 = 0;
     CREATE INDEX prosody_index ON prosody ("host", "user", "store", "key");`,
    name,
  );
  await pg.psql('VACUUM ANALYZE prosody', name);
}

/** The figures a plain aggregate gives, to check ours against (an independent formulation). */
async function expectedFigures(pg: PostgresServer, name: string, now: number): Promise<Figures> {
  const out = await pg.psql(
    `SELECT host, count(*) FILTER (WHERE ${now} - last < ${DAY}),
       count(*) FILTER (WHERE ${now} - last < ${7 * DAY}),
       count(*) FILTER (WHERE ${now} - last < ${30 * DAY}), count(*)
     FROM (SELECT host, "user", max(((value::json) ->> 'timestamp')::bigint)
             FILTER (WHERE "key" IN ('login', 'logout')) AS last
           FROM prosody GROUP BY host, "user") a GROUP BY host`,
    name,
  );
  const figures: Figures = {};
  for (const line of out.trim().split('\n')) {
    const [host, dau, wau, mau, accounts] = line.split('|');
    figures[host!] = {
      dau: Number(dau),
      wau: Number(wau),
      mau: Number(mau),
      accounts: Number(accounts),
    };
  }
  return figures;
}

async function startServer(log: (line: string) => void): Promise<Server> {
  const work = mkdtempSync(join(os.tmpdir(), 'pau-bench-pg-'));
  const host = createBenchHost();
  log(`  test host: network namespace ${host.namespace}, ${LINK_RATE} each way (tbf)`);
  try {
    const pg = await startPostgres({ prefix: host.inside });
    const sshd = await startSshd({
      passwordAuth: false,
      listenAddress: host.serverAddress,
      commandPrefix: host.inside,
      hostKeyTypes: ['ed25519'],
    });
    const key = await generateKey('ed25519');
    const recipe = dbRecipe(
      {
        engine: 'postgresql',
        user: 'postgres',
        database: 'x',
        endpoint: { tcp: { host: '127.0.0.1', port: pg.port } },
      },
      key.authorizedKey,
    );
    const reader = await sshd.addUser('pgreader', {
      authorizedKeys: [recipe.split('\n').find((l) => l.startsWith('restrict,'))!],
    });
    const operator = await sshd.addUser('pgoperator', { authorizedKeys: [key.authorizedKey] });
    const knownHosts = join(work, 'known_hosts');
    writeFileSync(knownHosts, sshd.knownHostsLine());
    return { host, pg, sshd, reader, operator, key: key.privatePath, knownHosts, work };
  } catch (e) {
    await stopAllSshd();
    host.destroy();
    rmSync(work, { recursive: true, force: true });
    throw e;
  }
}

interface OneRun {
  seconds: number;
  rx: number;
  rssMb: number;
  said?: string;
  figures?: Figures;
  exact: boolean;
}

async function measured(s: Server, command: string, args: string[], env?: NodeJS.ProcessEnv) {
  const timeFile = join(s.work, 'time.out');
  const before = s.host.counters();
  const run = await runProcess(GNU_TIME, ['-f', '%M', '-o', timeFile, command, ...args], {
    env: { ...process.env, ...env },
  });
  const after = s.host.counters();
  if (run.code !== 0) throw new Error(`${command} failed (${run.code}): ${run.stderr}`);
  const rssKb = Number(readFileSync(timeFile, 'utf8').trim().split('\n').pop());
  return { run, rx: after.rx - before.rx, rssMb: rssKb / 1024 };
}

async function ours(
  s: Server,
  db: string,
  now: number,
  state: string,
  expected: Figures,
): Promise<OneRun> {
  const m = await measured(
    s,
    process.execPath,
    [
      CLI,
      '--ssh',
      `${s.reader.name}@${s.host.serverAddress}:${s.sshd.port}`,
      '--identity',
      s.key,
      '--known-hosts',
      s.knownHosts,
      '--ssh-config',
      '/dev/null',
      '--sql',
      `postgres://postgres@127.0.0.1:${s.pg.port}/${db}`,
      '--state-dir',
      state,
      '--at',
      String(now),
      '--json',
    ],
    { PROSODY_ACTIVE_USERS_DB_PASSWORD: s.pg.password },
  );
  const out = JSON.parse(m.run.stdout) as {
    hosts: Figures;
    fetch: { method: string }[];
  };
  const exact = Object.entries(expected).every(([h, e]) =>
    (['dau', 'wau', 'mau', 'accounts'] as const).every((f) => out.hosts[h]?.[f] === e[f]),
  );
  return { seconds: m.run.seconds, rx: m.rx, rssMb: m.rssMb, said: out.fetch[0]?.method, exact };
}

/** What an operator scripts: psql on the server with the same statement, output over ssh -C. */
async function baseline(s: Server, db: string, accounts: number): Promise<OneRun> {
  const sql = `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; ${postgresActivityQuery()}; COMMIT`;
  const remote = `psql -X -q -A -t -h ${s.pg.socketDir} -p ${s.pg.port} -U postgres -d ${db} -c "${sql.replace(/(["$`\\])/g, '\\$1')}"`;
  const m = await measured(s, 'ssh', [
    '-C',
    ...opensshClientOptions(s.key, s.knownHosts),
    '-p',
    String(s.sshd.port),
    `${s.operator.name}@${s.host.serverAddress}`,
    remote,
  ]);
  // One chunk a line, each `["host", [[user, …], …]]`: every account must be in them.
  const rows = m.run.stdout.match(/\["user\d+"/g)?.length ?? 0;
  return { seconds: m.run.seconds, rx: m.rx, rssMb: m.rssMb, exact: rows === accounts };
}

function summarize(
  method: PostgresCase['method'],
  refresh: PostgresCase['refresh'],
  accounts: number,
  runs: OneRun[],
): PostgresCase {
  const rx = stat(runs.map((r) => r.rx));
  return {
    method,
    refresh,
    accounts,
    runs: runs.length,
    seconds: stat(runs.map((r) => r.seconds)),
    bytesReceived: rx,
    bytesPerAccount: rx.median / accounts,
    peakRssMb: stat(runs.map((r) => r.rssMb)),
    ...(runs.at(-1)?.said ? { said: runs.at(-1)!.said } : {}),
    exact: runs.every((r) => r.exact),
  };
}

export async function benchPostgres(options: {
  sizes: number[];
  runs: number;
  log: (line: string) => void;
}): Promise<PostgresCase[]> {
  const { log } = options;
  log('PostgreSQL over SSH: building the CLI (npm run build)');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: REPO, stdio: 'ignore' });
  const s = await startServer(log);
  const results: PostgresCase[] = [];
  try {
    for (const accounts of options.sizes) {
      const db = `bench${accounts}`;
      const now = Math.floor(Date.now() / 1000);
      log(`  PostgreSQL, ${fmtCount(accounts)} accounts: filling the table`);
      await fillDatabase(s.pg, db, accounts, now);
      const expected = await expectedFigures(s.pg, db, now);
      // Unmeasured: the server's cache warm, as on a server that runs.
      const warm = mkdtempSync(join(s.work, 'warm-'));
      await ours(s, db, now, warm, expected);
      rmSync(warm, { recursive: true, force: true });
      const first: OneRun[] = [];
      const unchanged: OneRun[] = [];
      const base: OneRun[] = [];
      for (let r = 1; r <= options.runs; r++) {
        const state = mkdtempSync(join(s.work, 'state-'));
        first.push(await ours(s, db, now, state, expected));
        unchanged.push(await ours(s, db, now, state, expected));
        rmSync(state, { recursive: true, force: true });
        base.push(await baseline(s, db, accounts));
        log(
          `    run ${r}/${options.runs}: first ${first.at(-1)!.seconds.toFixed(2)} s ${first.at(-1)!.rx} B; unchanged ${unchanged.at(-1)!.seconds.toFixed(2)} s ${unchanged.at(-1)!.rx} B; psql ${base.at(-1)!.seconds.toFixed(2)} s ${base.at(-1)!.rx} B`,
        );
      }
      const baseCase = summarize('ssh -C + psql', 'first', accounts, base);
      const firstCase = summarize('ours (--sql over SSH)', 'first', accounts, first);
      firstCase.ratioToBaseline = firstCase.seconds.median / baseCase.seconds.median;
      results.push(
        firstCase,
        summarize('ours (--sql over SSH)', 'unchanged', accounts, unchanged),
        baseCase,
      );
      await s.pg.psql(`DROP DATABASE ${db}`);
    }
  } finally {
    await stopAllSshd();
    await s.pg.stop();
    s.host.destroy();
    rmSync(s.work, { recursive: true, force: true });
  }
  return results;
}

function fmtBytes(n: number): string {
  if (n >= 10 * 1000 * 1000) return `${(n / 1e6).toFixed(0)} MB`;
  if (n >= 1000 * 1000) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1000) return `${(n / 1000).toFixed(1)} kB`;
  return `${n} B`;
}

/** The PostgreSQL table and its targets, as the report prints them. */
export function postgresReport(cases: PostgresCase[]): string {
  const rows: string[][] = [
    [
      'accounts',
      'method',
      'refresh',
      'runs',
      'time (s)',
      'received',
      'per account',
      'peak RSS (MB)',
      'ratio to psql',
    ],
  ];
  for (const c of cases) {
    rows.push([
      fmtCount(c.accounts),
      c.said && c.refresh === 'unchanged' ? `${c.method} (${c.said})` : c.method,
      c.refresh,
      String(c.runs),
      fmtStat(c.seconds, 2),
      fmtBytes(c.bytesReceived.median),
      `${c.bytesPerAccount.toFixed(c.bytesPerAccount < 10 ? 2 : 0)} B`,
      fmtStat(c.peakRssMb, 0),
      c.ratioToBaseline !== undefined ? `${c.ratioToBaseline.toFixed(2)} ×` : '',
    ]);
    if (!c.exact) rows.push(['', 'FIGURES WRONG']);
  }
  const lines = [
    `PostgreSQL 15 inside the bench host's namespace (${LINK_RATE} link), read through SSH alone (--sql, a key that`,
    'may only forward to it); the baseline runs psql on the server over ssh -C with the same statement.',
    'Received = bytes off the interface; kB/MB = 1000/1000² bytes; peak RSS in MB of 2^20 bytes.',
    '',
    table(rows),
    '',
    'Targets (issue 11):',
  ];
  const at = (n: number, m: string, r: string) =>
    cases.find((c) => c.accounts === n && c.method === m && c.refresh === r);
  for (const n of [100_000, 1_000_000]) {
    const first = at(n, 'ours (--sql over SSH)', 'first');
    if (first) {
      const met = first.bytesPerAccount <= POSTGRES_TARGETS.firstBytesPerAccount;
      lines.push(
        `  ${met ? '✓' : '✗'} First refresh, ${fmtCount(n)}: ≤ ${POSTGRES_TARGETS.firstBytesPerAccount} B/account; measured ${first.bytesPerAccount.toFixed(1)} B`,
      );
    }
  }
  const unchanged = at(100_000, 'ours (--sql over SSH)', 'unchanged');
  if (unchanged) {
    const met = unchanged.bytesReceived.max <= POSTGRES_TARGETS.unchangedBytes;
    lines.push(
      `  ${met ? '✓' : '✗'} Unchanged refresh, 100 k: ≤ ${fmtBytes(POSTGRES_TARGETS.unchangedBytes)}; measured ${fmtBytes(unchanged.bytesReceived.max)} (highest)`,
    );
  }
  const big = at(1_000_000, 'ours (--sql over SSH)', 'first');
  if (big?.ratioToBaseline !== undefined) {
    const met = big.ratioToBaseline <= POSTGRES_TARGETS.ratioAt1M;
    lines.push(
      `  ${met ? '✓' : '✗'} First refresh, 1 M: ≤ ${POSTGRES_TARGETS.ratioAt1M} × psql's time; measured ${big.ratioToBaseline.toFixed(2)} ×`,
    );
  }
  return lines.join('\n') + '\n';
}
