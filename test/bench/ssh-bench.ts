/**
 * The benchmark's SSH part (issue 6, items 3 and 4): the real CLI against a real OpenSSH sshd on a
 * host of its own (bench-host.ts: a network namespace behind a 100 Mbit/s veth link), for each
 * method a first refresh (empty state folder) and a refresh when nothing changed (the same folder
 * again). Bytes are read off the link's interface counters. Beside it, in the same run, the
 * baseline an operator would script: OpenSSH's scp of the whole database, then the sqlite3 command.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { ACTIVITY_QUERY } from '../../main/sources/activity-query.js';
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
  TICKS_PER_SECOND,
  machineTicks,
  negotiatedCompression,
  opensshClientOptions,
  runProcess,
  stat,
} from './bench-util.js';
import { BENCH_NOW, type ExpectedCounts, type Manifest, ensureDataset } from './generate.js';

const REPO = resolve(__dirname, '..', '..');
const CLI = join(REPO, 'dist', 'main', 'cli.js');

export type SshMethod =
  | 'remote query'
  | 'SFTP copy'
  | 'SFTP files'
  | 'files by command'
  | 'scp + sqlite3'
  | 'ssh + sqlite3, simplest aggregate';
export type Refresh = 'first' | 'unchanged' | 'few changed';

export interface SshCase {
  method: SshMethod;
  refresh: Refresh;
  accounts: number;
  archiveMb: number;
  /** The database file, or the .dat files in all. */
  dataBytes: number;
  runs: number;
  seconds: Stat;
  /** Off the link's interface: everything that came from the server (IP and TCP headers too). */
  bytesReceived: Stat;
  bytesSent: Stat;
  bytesPerAccount: number;
  peakRssMb: Stat;
  /** The command's own CPU (user + system), children included. */
  clientCpuSeconds: Stat;
  /**
   * The whole machine's busy share of its cores while the command ran: the server's part (sshd,
   * its shell and readers) runs on this machine too.
   */
  machineBusy: Stat;
  /** What the CLI itself says it received inside SSH (ours only). */
  sshPayloadBytes?: Stat;
  /** The method line of ours, as --json says it. */
  said?: string;
  exact: boolean;
  /** What the connections negotiated, server to client (distinct values, `,`-joined). */
  compression?: string;
  /** First refreshes: this case's median time / the scp + sqlite3 baseline's, same data. */
  ratioToBaseline?: number;
  /**
   * Unchanged refreshes by the remote query: this case's median time / the simplest aggregate's
   * run by the server's sqlite3 over ssh, same data (issue 14, row 3).
   */
  ratioToServerAggregate?: number;
  /** A refresh after a few logins: this case's median time / the unchanged refresh's, same data. */
  ratioToUnchanged?: number;
  /** Internal storage by command: this case's median time / the SFTP-only path's, same refresh. */
  ratioToSftpFiles?: number;
  /** Every run's own figures, ours with its --json "fetch" list (method, bytesReceived, seconds). */
  perRun: OneRun[];
}

export interface SshBenchOptions {
  sizes: number[];
  runs: number;
  methods: SshMethod[];
  log: (line: string) => void;
}

interface Server {
  host: BenchHost;
  sshd: SshdInstance;
  user: TestUser;
  /** May run only sftp-server (`restrict,command=…`): internal storage by SFTP alone. */
  sftpUser: TestUser;
  key: string;
  knownHosts: string;
  work: string;
  removeWork: () => void;
}

async function startServer(log: (line: string) => void): Promise<Server> {
  // The work folder holds the baseline's copy of the database (up to GBs): removed on Ctrl-C too
  // (bench-host's signal handler exits, which runs this hook).
  const work = mkdtempSync(join(os.tmpdir(), 'pau-bench-ssh-'));
  const removeWork = () => rmSync(work, { recursive: true, force: true });
  process.on('exit', removeWork);
  let host: BenchHost | undefined;
  try {
    // PAU_BENCH_SUBNET=auto: a network of its own, beside another benchmark running (same machine).
    host = createBenchHost(process.env.PAU_BENCH_SUBNET === 'auto' ? { subnet: 'auto' } : {});
    log(`  test host: network namespace ${host.namespace}, ${LINK_RATE} each way (tbf)`);
    const sshd = await startSshd({
      passwordAuth: false,
      listenAddress: host.serverAddress,
      // LogLevel DEBUG1 (the command line wins over the config's VERBOSE) for the "kex:" lines that
      // say which compression each connection negotiated: a few lines a connection, none a packet.
      commandPrefix: [...host.inside, '/bin/sh', '-c', 'exec "$@" -o LogLevel=DEBUG1', 'sh'],
      hostKeyTypes: ['ed25519'],
    });
    const key = await generateKey('ed25519');
    const user = await sshd.addUser('bench', { authorizedKeys: [key.authorizedKey] });
    const sftpUser = await sshd.addUser('benchsftp', {
      authorizedKeys: [`restrict,command="/usr/lib/openssh/sftp-server" ${key.authorizedKey}`],
    });
    const knownHosts = join(work, 'known_hosts');
    writeFileSync(knownHosts, sshd.knownHostsLine());
    return { host, sshd, user, sftpUser, key: key.privatePath, knownHosts, work, removeWork };
  } catch (e) {
    await stopAllSshd();
    host?.destroy();
    removeWork();
    process.off('exit', removeWork);
    throw e;
  }
}

async function stopServer(s: Server): Promise<void> {
  await s.sshd.stop();
  s.host.destroy();
  s.removeWork();
  process.off('exit', s.removeWork);
}

/**
 * The generated data is ours: the SSH user may read it, as Prosody's group would. Only the
 * dataset's own folder and the data root get bits added; the folders above the root (/tmp) are
 * never changed, only checked.
 */
function makeReadable(manifest: Manifest): void {
  const datasetDir = dirname(manifest.path);
  const dataRoot = dirname(datasetDir);
  execFileSync('chmod', ['-R', 'o+rX', datasetDir]);
  chmodSync(dataRoot, statSync(dataRoot).mode | 0o005);
  for (let dir = dirname(dataRoot); ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) {
      throw new Error(
        `the SSH user cannot reach ${manifest.path}: ${dir} is not searchable by others (chmod o+x it, or set PAU_BENCH_DATA elsewhere)`,
      );
    }
    if (dir === dirname(dir)) break;
  }
}

function sameFigures(
  expected: Record<string, ExpectedCounts>,
  got: Record<string, unknown>,
): boolean {
  const names = Object.keys(expected).sort();
  if (names.join() !== Object.keys(got).sort().join()) return false;
  return names.every((h) =>
    (['dau', 'wau', 'mau', 'accounts', 'new1d', 'new7d', 'new30d', 'skipped'] as const).every(
      (f) => (expected[h] as ExpectedCounts)[f] === (got[h] as Record<string, unknown>)[f],
    ),
  );
}

export interface Fetch {
  method: string;
  bytesReceived: number;
  seconds: number;
}

export interface OneRun {
  seconds: number;
  rx: number;
  tx: number;
  rssMb: number;
  /** The command's user + system CPU, from GNU time. */
  clientCpu: number;
  /** CPU the whole machine spent (every core, every process) while the command ran. */
  machineCpu: number;
  /** machineCpu's share of what the cores had in that time (0 to 1). */
  machineBusy: number;
  payload?: number;
  said?: string;
  fetch?: Fetch[];
  /** server->client compression the connection negotiated, from sshd's log (ssh connections). */
  compression?: string;
  exact: boolean;
}

/** One command under GNU time, with the link's counters read around it. */
async function measured(
  s: Server,
  command: string,
  args: string[],
): Promise<{
  run: Awaited<ReturnType<typeof runProcess>>;
  rx: number;
  tx: number;
  rssMb: number;
  clientCpu: number;
  machineCpu: number;
  machineBusy: number;
  compression?: string;
}> {
  const timeFile = join(s.work, 'time.out');
  const logFrom = s.sshd.log().length;
  const before = s.host.counters();
  const ticksBefore = machineTicks();
  const run = await runProcess(GNU_TIME, ['-f', '%M %U %S', '-o', timeFile, command, ...args]);
  const ticksAfter = machineTicks();
  const after = s.host.counters();
  if (run.code !== 0) throw new Error(`${command} failed (${run.code}): ${run.stderr}`);
  const [rssKb, user, system] = (readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '')
    .split(' ')
    .map(Number);
  const busy = ticksAfter.busy - ticksBefore.busy;
  const compression = negotiatedCompression(s.sshd.log().slice(logFrom));
  return {
    run,
    rx: after.rx - before.rx,
    tx: after.tx - before.tx,
    rssMb: (rssKb ?? NaN) / 1024,
    clientCpu: (user ?? NaN) + (system ?? NaN),
    machineCpu: busy / TICKS_PER_SECOND,
    machineBusy: busy / Math.max(1, ticksAfter.total - ticksBefore.total),
    ...(compression !== undefined ? { compression } : {}),
  };
}

/** The CPU figures of a measured command, as a run keeps them. */
const cpuOf = (m: { clientCpu: number; machineCpu: number; machineBusy: number }) => ({
  clientCpu: m.clientCpu,
  machineCpu: m.machineCpu,
  machineBusy: m.machineBusy,
});

function cliArgs(s: Server, source: string[], stateDir: string, user: TestUser): string[] {
  return [
    CLI,
    '--ssh',
    `${user.name}@${s.host.serverAddress}:${s.sshd.port}`,
    '--identity',
    s.key,
    '--known-hosts',
    s.knownHosts,
    '--ssh-config',
    '/dev/null',
    ...source,
    '--state-dir',
    stateDir,
    '--at',
    String(BENCH_NOW),
    '--json',
    '--verbose',
  ];
}

async function ours(
  s: Server,
  manifest: Manifest,
  source: string[],
  stateDir: string,
  user: TestUser = s.user,
): Promise<OneRun> {
  const m = await measured(s, process.execPath, cliArgs(s, source, stateDir, user));
  const out = JSON.parse(m.run.stdout) as { hosts: Record<string, unknown>; fetch: Fetch[] };
  return {
    seconds: m.run.seconds,
    rx: m.rx,
    tx: m.tx,
    rssMb: m.rssMb,
    ...cpuOf(m),
    ...(m.compression !== undefined ? { compression: m.compression } : {}),
    payload: out.fetch.reduce((n, f) => n + f.bytesReceived, 0),
    said: out.fetch[0]?.method,
    fetch: out.fetch.map(({ method, bytesReceived, seconds }) => ({
      method,
      bytesReceived,
      seconds,
    })),
    exact: sameFigures(manifest.expected, out.hosts),
  };
}

/**
 * The simplest aggregate an operator would type, figures included: per account the newest
 * login/logout timestamp (no validation of the values at all), then the three windows per host.
 */
export const SIMPLEST_WINDOWS_QUERY = (now: number) => `SELECT host,
  sum(${now} - t < 86400), sum(${now} - t < 7 * 86400), sum(${now} - t < 30 * 86400)
FROM (SELECT host, user, max(json_extract(value, '$.timestamp')) AS t FROM prosody
  WHERE store = 'lastlog2' AND key IN ('login', 'logout') AND type = 'json' GROUP BY host, user)
GROUP BY host`;

/** ssh to the server and run that aggregate with its sqlite3: the floor for a refresh. */
async function serverAggregate(s: Server, manifest: Manifest): Promise<OneRun> {
  const sql = SIMPLEST_WINDOWS_QUERY(BENCH_NOW).replace(/\s+/g, ' ').trim();
  const m = await measured(s, 'ssh', [
    ...opensshClientOptions(s.key, s.knownHosts),
    '-p',
    String(s.sshd.port),
    `${s.user.name}@${s.host.serverAddress}`,
    `sqlite3 -readonly -batch -bail ${manifest.path} "${sql}"`,
  ]);
  const dau = m.run.stdout
    .trim()
    .split('\n')
    .reduce((n, line) => n + Number(line.split('|')[1] ?? 0), 0);
  const expectedDau = Object.values(manifest.expected).reduce((n, e) => n + e.dau, 0);
  return {
    seconds: m.run.seconds,
    rx: m.rx,
    tx: m.tx,
    rssMb: m.rssMb,
    ...cpuOf(m),
    ...(m.compression !== undefined ? { compression: m.compression } : {}),
    // No validation and no account rule: near the generator's figures, not equal to them.
    exact: dau >= expectedDau,
  };
}

/** scp the whole file, then the same aggregate with the sqlite3 command: what an operator scripts. */
async function baseline(s: Server, manifest: Manifest): Promise<OneRun> {
  const local = join(s.work, 'copy.sqlite');
  rmSync(local, { force: true });
  const before = s.host.counters();
  const scp = await measured(s, 'scp', [
    '-q',
    ...opensshClientOptions(s.key, s.knownHosts),
    '-P',
    String(s.sshd.port),
    `${s.user.name}@${s.host.serverAddress}:${manifest.path}`,
    local,
  ]);
  const query = await measured(s, 'sqlite3', [
    '-readonly',
    '-batch',
    '-bail',
    local,
    ACTIVITY_QUERY.replace(/\s+/g, ' ').trim(),
  ]);
  const after = s.host.counters();
  rmSync(local, { force: true });
  return {
    seconds: scp.run.seconds + query.run.seconds,
    rx: after.rx - before.rx,
    tx: after.tx - before.tx,
    rssMb: Math.max(scp.rssMb, query.rssMb),
    clientCpu: scp.clientCpu + query.clientCpu,
    machineCpu: scp.machineCpu + query.machineCpu,
    machineBusy:
      (scp.machineBusy * scp.run.seconds + query.machineBusy * query.run.seconds) /
      (scp.run.seconds + query.run.seconds),
    ...(scp.compression !== undefined ? { compression: scp.compression } : {}),
    // The command prints a row an account: at least every account the generator counted.
    exact:
      query.run.stdout.trim().split('\n').length >=
      Object.values(manifest.expected).reduce((n, e) => n + e.accounts, 0),
  };
}

function summarize(
  method: SshMethod,
  refresh: Refresh,
  manifest: Manifest,
  runs: OneRun[],
): SshCase {
  const rx = stat(runs.map((r) => r.rx));
  const compressions = [
    ...new Set(runs.map((r) => r.compression).filter((c): c is string => c !== undefined)),
  ];
  const payloads = runs.map((r) => r.payload).filter((p): p is number => p !== undefined);
  return {
    method,
    refresh,
    accounts: manifest.spec.accounts,
    archiveMb: manifest.spec.archiveMb,
    dataBytes: manifest.stats.bytes,
    runs: runs.length,
    seconds: stat(runs.map((r) => r.seconds)),
    bytesReceived: rx,
    bytesSent: stat(runs.map((r) => r.tx)),
    bytesPerAccount: rx.median / manifest.spec.accounts,
    peakRssMb: stat(runs.map((r) => r.rssMb)),
    clientCpuSeconds: stat(runs.map((r) => r.clientCpu)),
    machineBusy: stat(runs.map((r) => r.machineBusy)),
    ...(payloads.length > 0 ? { sshPayloadBytes: stat(payloads) } : {}),
    ...(runs[runs.length - 1]?.said ? { said: runs[runs.length - 1]?.said } : {}),
    exact: runs.every((r) => r.exact),
    ...(compressions.length > 0 ? { compression: compressions.join(',') } : {}),
    perRun: runs,
  };
}

/** One unmeasured run with a state folder of its own, thrown away; its seconds. */
async function warmUp(
  s: Server,
  manifest: Manifest,
  source: string[],
  user: TestUser = s.user,
): Promise<number> {
  const state = mkdtempSync(join(s.work, 'warm-up-'));
  try {
    const run = await ours(s, manifest, source, state, user);
    if (!run.exact) throw new Error(`wrong figures from ${manifest.path} over SSH`);
    return run.seconds;
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
}

/**
 * Unmeasured runs until one is no longer a tenth faster than the one before (at most four): a
 * million accounts are two million small files, about 8 GB of pages, and the kernel keeps pages
 * read once only when they are read again, so one run leaves the cache half warm (measured here:
 * the server's script alone took 45, 24, then 14 s in three runs in a row).
 */
async function warmUntilSteady(
  s: Server,
  manifest: Manifest,
  source: string[],
  log: (line: string) => void,
): Promise<void> {
  let before = Infinity;
  for (let i = 0; i < 4; i++) {
    const seconds = await warmUp(s, manifest, source);
    log(`    warm-up ${i + 1}: ${seconds.toFixed(1)} s`);
    if (seconds > before * 0.9) return;
    before = seconds;
  }
}

/** A first refresh and an unchanged one, `runs` times, each pair with a fresh state folder. */
async function firstAndUnchanged(
  s: Server,
  method: SshMethod,
  manifest: Manifest,
  source: string[],
  runs: number,
  log: (line: string) => void,
  user: TestUser = s.user,
): Promise<SshCase[]> {
  const first: OneRun[] = [];
  const unchanged: OneRun[] = [];
  for (let r = 1; r <= runs; r++) {
    const state = mkdtempSync(join(s.work, 'state-'));
    first.push(await ours(s, manifest, source, state, user));
    unchanged.push(await ours(s, manifest, source, state, user));
    rmSync(state, { recursive: true, force: true });
    const [a, b] = [first.at(-1)!, unchanged.at(-1)!];
    log(
      `    ${method} run ${r}/${runs}: first ${a.seconds.toFixed(2)} s ${a.rx} B; unchanged ${b.seconds.toFixed(2)} s ${b.rx} B (${b.said})`,
    );
  }
  return [
    summarize(method, 'first', manifest, first),
    summarize(method, 'unchanged', manifest, unchanged),
  ];
}

/** How many accounts log in again between the two refreshes of the "few changed" case. */
export const FEW_CHANGED_LOGINS = 1000;

/**
 * Commits `n` new logins to `path` as Prosody does (the old row deleted, a new one inserted), in
 * one transaction: accounts whose last login is within the last day log in again just before
 * BENCH_NOW, which leaves every figure the generator expects as it was.
 */
function commitLogins(path: string, n: number, run: number): number {
  const db = new Database(path);
  try {
    const who = db
      .prepare(
        `SELECT host, user FROM prosody WHERE store = 'lastlog2' AND key = 'login' AND json_valid(value)
           AND json_extract(value, '$.timestamp') BETWEEN ? AND ? ORDER BY rowid LIMIT ? OFFSET ?`,
      )
      .all(BENCH_NOW - 80_000, BENCH_NOW - 3600, n, (run - 1) * n) as {
      host: string;
      user: string;
    }[];
    const drop = db.prepare(
      "DELETE FROM prosody WHERE host = ? AND user = ? AND store = 'lastlog2' AND key = 'login'",
    );
    const put = db.prepare(
      "INSERT INTO prosody (host, user, store, key, type, value) VALUES (?, ?, 'lastlog2', 'login', 'json', ?)",
    );
    db.transaction(() => {
      for (const { host, user } of who) {
        drop.run(host, user);
        put.run(host, user, JSON.stringify({ timestamp: BENCH_NOW - 30 }));
      }
    })();
    return who.length;
  } finally {
    db.close();
  }
}

/**
 * The remote query's refresh after FEW_CHANGED_LOGINS logins (issue 14, row 3): on a copy of the
 * database (the cached data set is never written), a first refresh (unmeasured), the logins
 * committed, then the refresh measured.
 */
async function fewChanged(
  s: Server,
  manifest: Manifest,
  runs: number,
  log: (line: string) => void,
): Promise<SshCase> {
  // Beside the work folder, which the SSH user may not enter.
  const dir = mkdtempSync(join(os.tmpdir(), 'pau-bench-changed-'));
  chmodSync(dir, 0o755);
  const copy = join(dir, 'prosody.sqlite');
  copyFileSync(manifest.path, copy);
  chmodSync(copy, 0o644);
  const source = ['--remote-db', copy, '--method', 'query'];
  const measuredRuns: OneRun[] = [];
  try {
    for (let r = 1; r <= runs; r++) {
      const state = mkdtempSync(join(s.work, 'state-'));
      await ours(s, manifest, source, state);
      const logins = commitLogins(copy, FEW_CHANGED_LOGINS, r);
      measuredRuns.push(await ours(s, manifest, source, state));
      rmSync(state, { recursive: true, force: true });
      const b = measuredRuns.at(-1)!;
      log(
        `    remote query run ${r}/${runs}: after ${logins} logins ${b.seconds.toFixed(2)} s ${b.rx} B (${b.said})`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return summarize('remote query', 'few changed', manifest, measuredRuns);
}

/** The SQLite methods and the baseline, on one database. */
async function benchDatabase(
  server: Server,
  accounts: number,
  options: SshBenchOptions,
  log: (line: string) => void,
): Promise<SshCase[]> {
  const results: SshCase[] = [];
  const archiveMb = accounts >= 100_000 ? 300 : 30;
  const db = await ensureDataset('sqlite', { accounts, hosts: 3, archiveMb, seed: 1 }, { log });
  makeReadable(db);
  log(`  SSH, SQLite, ${accounts} accounts (${archiveMb} MB archive)`);
  // Unmeasured: the server's page cache warm, as on a server that runs.
  await warmUp(server, db, ['--remote-db', db.path, '--method', 'query']);
  const remoteDb = ['--remote-db', db.path];
  for (const [method, flag] of [
    ['remote query', 'query'],
    ['SFTP copy', 'copy'],
  ] as const) {
    if (!options.methods.includes(method)) continue;
    results.push(
      ...(await firstAndUnchanged(
        server,
        method,
        db,
        [...remoteDb, '--method', flag],
        options.runs,
        log,
      )),
    );
  }
  if (options.methods.includes('remote query')) {
    const few = await fewChanged(server, db, options.runs, log);
    const unchanged = results.find((c) => c.method === 'remote query' && c.refresh === 'unchanged');
    if (unchanged) few.ratioToUnchanged = few.seconds.median / unchanged.seconds.median;
    results.push(few);
  }
  const aggregate: SshMethod = 'ssh + sqlite3, simplest aggregate';
  if (options.methods.includes(aggregate)) {
    const runs: OneRun[] = [];
    for (let r = 1; r <= options.runs; r++) {
      runs.push(await serverAggregate(server, db));
      log(`    ${aggregate} run ${r}/${options.runs}: ${runs.at(-1)!.seconds.toFixed(2)} s`);
    }
    const aggCase = summarize(aggregate, 'unchanged', db, runs);
    for (const c of results) {
      if (c.method === 'remote query' && c.refresh !== 'first') {
        c.ratioToServerAggregate = c.seconds.median / aggCase.seconds.median;
      }
    }
    results.push(aggCase);
  }
  if (options.methods.includes('scp + sqlite3')) {
    const base: OneRun[] = [];
    for (let r = 1; r <= options.runs; r++) {
      base.push(await baseline(server, db));
      log(
        `    scp + sqlite3 run ${r}/${options.runs}: ${base.at(-1)!.seconds.toFixed(2)} s ${base.at(-1)!.rx} B`,
      );
    }
    const baseCase = summarize('scp + sqlite3', 'first', db, base);
    for (const c of results) {
      if (c.refresh === 'first') c.ratioToBaseline = c.seconds.median / baseCase.seconds.median;
    }
    results.push(baseCase);
  }
  return results;
}

/** What --ssh-methods names each method. */
export const SSH_METHOD_NAMES: Record<string, SshMethod> = {
  query: 'remote query',
  copy: 'SFTP copy',
  files: 'SFTP files',
  command: 'files by command',
  scp: 'scp + sqlite3',
  aggregate: 'ssh + sqlite3, simplest aggregate',
};

export async function benchSsh(options: SshBenchOptions): Promise<SshCase[]> {
  const { log } = options;
  log('SSH: building the CLI (npm run build)');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: REPO, stdio: 'ignore' });
  const results: SshCase[] = [];
  const server = await startServer(log);
  try {
    for (const accounts of options.sizes) {
      const wants = (m: SshMethod) => options.methods.includes(m);
      const onDatabase: SshMethod[] = [
        'remote query',
        'SFTP copy',
        'scp + sqlite3',
        'ssh + sqlite3, simplest aggregate',
      ];
      if (onDatabase.some(wants)) {
        results.push(...(await benchDatabase(server, accounts, options, log)));
      }
      if (wants('SFTP files') || wants('files by command')) {
        const files = await ensureDataset(
          'internal',
          { accounts, hosts: 3, archiveMb: 0, seed: 1 },
          { log },
        );
        makeReadable(files);
        log(`  SSH, internal storage, ${accounts} accounts`);
        // Unmeasured, as for the database: the server's page and dentry caches warm.
        const source = ['--remote-data-dir', files.path];
        await warmUntilSteady(server, files, source, log);
        // Side by side: the stream by command (a key that may run one) and the SFTP-only path (a
        // key that may run only sftp-server), same data, same run. The stream first, right after
        // the warm-up (which ran it): after the SFTP path's minutes at 1 M the pages read first
        // are no longer all held (measured here: 51.7 s after it, against 32.1 s warm).
        const command = wants('files by command')
          ? await firstAndUnchanged(server, 'files by command', files, source, options.runs, log)
          : [];
        const sftp = wants('SFTP files')
          ? await firstAndUnchanged(
              server,
              'SFTP files',
              files,
              source,
              options.runs,
              log,
              server.sftpUser,
            )
          : [];
        for (const c of command) {
          const base = sftp.find((b) => b.refresh === c.refresh);
          if (base) c.ratioToSftpFiles = c.seconds.median / base.seconds.median;
        }
        results.push(...sftp, ...command);
      }
    }
  } finally {
    await stopServer(server);
  }
  return results;
}
