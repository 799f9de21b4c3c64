/**
 * Reading is kind to the server: a real Prosody 0.12 on SQLite in rollback-journal mode (where any
 * reader's lock can make its writes fail), real accounts logging in and out without pause, and
 * the CLI reading the same database over a real sshd again and again, by the remote query and by
 * the SFTP copy. Prosody must log no storage error, every login must be recorded, every read must
 * give figures. A second test holds an ordinary read transaction open instead, and Prosody's
 * writes fail: that is what makes the first test's silence mean something.
 *
 * Facts about Prosody 0.12.3 (util/sql.lua, mod_storage_sql) this relies on, seen here:
 * - A write blocked by a reader fails at COMMIT (no busy timeout is set); LuaDBI says only
 *   "commit failed", and Prosody logs `sql error Error in SQL transaction: commit failed`.
 * - It does not roll that transaction back, so the connection stays stuck: every later read fails
 *   too (`storage_sql error Unable to read from database accounts store for …: commit failed`)
 *   and logins are refused until Prosody restarts.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  copyFileSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { openSshSources } from '../../main/monitor/open-ssh-sources.js';
import { realCliDeps } from '../../main/cli/real-cli-deps.js';
import { runCli } from '../../main/cli/run-cli.js';
import { type ProsodyInstance, cleanupProsody, createProsody } from '../helpers/prosody-server.js';
import { loginLogout } from '../helpers/xmpp-login.js';
import {
  type GeneratedKey,
  type SshdInstance,
  type TestUser,
  generateKey,
  startSshd,
} from '../support/sshd.js';

const HOST = 'kind.test';
const PASSWORD = 'correct horse';
const ACCOUNTS = Array.from({ length: 8 }, (_, i) => `user${i}`);
/** How long logins and reads run side by side, in each of the two tests that do it. */
const SECONDS = Number(process.env.KIND_TEST_SECONDS ?? 15);
/** The longest either run goes on to reach its share of logins and reads on a slow machine. */
const SECONDS_CAP = 4 * SECONDS;
/** Logins each run must see, so that reads really met a stream of commits. */
const MIN_LOGINS = 100;
/** Parallel login loops. */
const LOGIN_LOOPS = 2;
/**
 * The pause each loop makes after a login and logout in the paced test: about 15 logins a second
 * in all, far above what a real server sees. Without a pause the loops reach 100–200 a second
 * (400 commits), and the lock-free query (about 10 ms between its two reads of the file's change
 * counter) then finds the file changed on most tries and says "busy" after three.
 */
const PACED_PAUSE_MS = 100;
/** Every n-th read is an SFTP copy; the others use the remote query. */
const COPY_EVERY = 4;

/** What Prosody 0.12 logs when a storage operation fails (see above), and SQLite's own words. */
const STORAGE_ERROR =
  /Error in SQL transaction|SQL transaction failure|commit failed|Unable to (?:read from|write to) database|database is locked|SQLITE_BUSY/;

let prosody: ProsodyInstance;
let sshd: SshdInstance;
let key: GeneratedKey;
let monitor: TestUser;
let local: string;
let knownHosts: string;
let database: string;

before(async () => {
  local = mkdtempSync(join(tmpdir(), 'pau-kind-'));
  prosody = await createProsody({ storage: 'sql', hosts: [HOST], plainLogins: true });
  for (const user of ACCOUNTS) await prosody.register(user, HOST, PASSWORD);
  await prosody.start();
  // Each account logs in once, so that every read from now on counts all of them.
  for (const user of ACCOUNTS) {
    await loginLogout({ port: prosody.c2sPort, host: HOST, user, password: PASSWORD });
  }
  database = prosody.sqlitePath!;
  [sshd, key] = await Promise.all([startSshd({ passwordAuth: false }), generateKey('ed25519')]);
  knownHosts = join(local, 'known_hosts');
  writeFileSync(knownHosts, sshd.knownHostsLine());

  // As on a Debian server: the monitoring account is in Prosody's group, which may read the data
  // folder and the database (0750 and 0640, root:group), and nothing else.
  const group = await sshd.addGroup('prosody');
  const gid = Number(execFileSync('getent', ['group', group], { encoding: 'utf8' }).split(':')[2]);
  chmodSync(prosody.dir, 0o711);
  chownSync(prosody.dataPath, 0, gid);
  chmodSync(prosody.dataPath, 0o750);
  chownSync(database, 0, gid);
  chmodSync(database, 0o640);
  monitor = await sshd.addUser('monitor', { authorizedKeys: [key.authorizedKey], groups: [group] });
});

after(async () => {
  await sshd?.stop();
  await cleanupProsody();
  rmSync(local, { recursive: true, force: true });
});

/** Byte 18 of the SQLite header: 1 for a rollback journal, 2 for WAL. Read without any lock. */
function journalByte(path: string): number {
  const header = Buffer.alloc(100);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, header, 0, 100, 0);
  } finally {
    closeSync(fd);
  }
  return header[18]!;
}

interface LoginLog {
  performed: number;
  failures: string[];
  /** Unix second at which each account's last successful login began. */
  lastStarted: Map<string, number>;
}

/** Logs accounts in and out, round robin, while `going` says so; returns what it did. */
async function loginLoops(
  going: (log: LoginLog) => boolean,
  loops: number,
  pauseMs: number,
): Promise<LoginLog> {
  const log: LoginLog = { performed: 0, failures: [], lastStarted: new Map() };
  await Promise.all(
    Array.from({ length: loops }, async (_, loop) => {
      for (let i = loop; going(log); i += loops) {
        const user = ACCOUNTS[i % ACCOUNTS.length]!;
        const started = Math.floor(Date.now() / 1000);
        try {
          await loginLogout({
            port: prosody.c2sPort,
            host: HOST,
            user,
            password: PASSWORD,
            resource: `loop${loop}`,
          });
          log.performed++;
          log.lastStarted.set(user, Math.max(started, log.lastStarted.get(user) ?? 0));
          if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
        } catch (e) {
          log.failures.push(String(e).slice(0, 300));
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    }),
  );
  return log;
}

interface Fetch {
  method: 'query' | 'copy';
  code: number;
  stderr: string;
  figures: { accounts: number; dau: number } | undefined;
  ms: number;
}

/** One in-process run of the CLI over SSH, as users run it. */
async function readOverSsh(method: 'query' | 'copy', home: string): Promise<Fetch> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const started = Date.now();
  const code = await runCli(
    [
      '--ssh',
      `${monitor.name}@127.0.0.1:${sshd.port}`,
      '--identity',
      key.privatePath,
      '--known-hosts',
      knownHosts,
      '--ssh-config',
      '/dev/null',
      '--remote-db',
      database,
      '--method',
      method,
      '--json',
    ],
    {
      ...realCliDeps(),
      stdout: (t) => void stdout.push(t),
      stderr: (t) => void stderr.push(t),
      stderrIsTTY: false,
      sshSources: (options, onStep, onProgress) =>
        openSshSources(options, onStep, onProgress, {
          home,
          localUser: 'tester',
          env: {},
          platform: process.platform,
          prompt: async () => null,
        }),
    },
  );
  let figures: Fetch['figures'];
  if (code === 0) {
    const report = JSON.parse(stdout.join('')) as { hosts: Record<string, Fetch['figures']> };
    figures = report.hosts[HOST];
  }
  return { method, code, stderr: stderr.join(''), figures, ms: Date.now() - started };
}

/** Reads over SSH again and again while `going` says so. */
async function readLoop(going: (fetches: Fetch[]) => boolean): Promise<Fetch[]> {
  const home = mkdtempSync(join(local, 'home-'));
  const fetches: Fetch[] = [];
  for (let i = 1; going(fetches); i++) {
    fetches.push(await readOverSsh(i % COPY_EVERY === 0 ? 'copy' : 'query', home));
  }
  return fetches;
}

/**
 * lastlog2's login and logout timestamps per account. Read from a plain copy of the file: after a
 * failed commit, Prosody 0.12's connection keeps its lock, and an ordinary reader would get
 * SQLITE_BUSY (or, worse, be the next reader in Prosody's way).
 */
function lastlog2(): Map<string, { login?: number; logout?: number }> {
  const copy = join(mkdtempSync(join(local, 'lastlog2-')), 'copy.sqlite');
  copyFileSync(database, copy);
  const db = new Database(copy, { readonly: true, fileMustExist: true });
  const out = new Map<string, { login?: number; logout?: number }>();
  try {
    const rows = db
      .prepare("SELECT user, key, value FROM prosody WHERE host = ? AND store = 'lastlog2'")
      .all(HOST) as Array<{ user: string; key: string; value: string }>;
    for (const row of rows) {
      const entry = out.get(row.user) ?? {};
      const { timestamp } = JSON.parse(row.value) as { timestamp: number };
      if (row.key === 'login') entry.login = timestamp;
      if (row.key === 'logout') entry.logout = timestamp;
      out.set(row.user, entry);
    }
  } finally {
    db.close();
    rmSync(dirname(copy), { recursive: true, force: true });
  }
  return out;
}

function storageErrors(log: string): string[] {
  return log.split('\n').filter((line) => STORAGE_ERROR.test(line));
}

interface SideBySide {
  logins: LoginLog;
  fetches: Fetch[];
  /** Prosody's log while they ran. */
  log: string;
}

/**
 * Logs accounts in and out and reads over SSH at the same time, for SECONDS, and on until both
 * sides did at least their share (a loaded machine is slower, not wrong), but never past
 * SECONDS_CAP: the assertions then say how far short it fell.
 */
async function sideBySide(pauseMs: number, minReads: number): Promise<SideBySide> {
  assert.equal(journalByte(database), 1, 'rollback-journal mode, as Prosody 0.12 leaves it');
  const logBefore = (await prosody.log()).length;
  const started = Date.now();
  const until = started + SECONDS * 1000;
  const cap = started + SECONDS_CAP * 1000;
  let loginsSoFar = 0;
  let readsSoFar = 0;
  const going = () =>
    Date.now() < cap && (Date.now() < until || loginsSoFar < MIN_LOGINS || readsSoFar < minReads);
  const [logins, fetches] = await Promise.all([
    loginLoops(
      (log) => {
        loginsSoFar = log.performed;
        return going();
      },
      LOGIN_LOOPS,
      pauseMs,
    ),
    readLoop((done) => {
      readsSoFar = done.length;
      return going();
    }),
  ]);
  const seconds = (Date.now() - started) / 1000;
  const log = (await prosody.log()).slice(logBefore);
  const queries = fetches.filter((f) => f.method === 'query');
  const copies = fetches.filter((f) => f.method === 'copy');
  const mean = (fs: Fetch[]) => Math.round(fs.reduce((sum, f) => sum + f.ms, 0) / fs.length);
  const busy = fetches.filter((f) =>
    / is locked by a writer: | changed during each of /.test(f.stderr),
  );
  console.log(
    `${seconds.toFixed(1)} s: ${logins.performed} logins (${logins.failures.length} failed), ` +
      `${queries.length} remote queries (mean ${mean(queries)} ms), ` +
      `${copies.length} SFTP copies (mean ${mean(copies)} ms); ` +
      `${fetches.filter((f) => f.code !== 0).length} reads without figures (${busy.length} busy)`,
  );
  return { logins, fetches, log };
}

/** Prosody logged no storage error, every login worked, and lastlog2 holds the last of each. */
function assertNothingLost({ logins, log }: SideBySide): void {
  assert.deepEqual(storageErrors(log), [], 'Prosody logged a storage error');
  assert.deepEqual(logins.failures, []);
  assert.ok(logins.performed >= MIN_LOGINS, `only ${logins.performed} logins`);
  const bound = log.match(new RegExp(`Resource bound: user\\d+@${HOST.replace('.', '\\.')}/`, 'g'));
  assert.equal(bound?.length, logins.performed, 'Prosody bound one resource per login');
  const recorded = lastlog2();
  assert.equal(journalByte(database), 1, 'still in rollback-journal mode');
  assert.equal(logins.lastStarted.size, ACCOUNTS.length);
  assert.equal(recorded.size, ACCOUNTS.length, 'one lastlog2 entry per account');
  for (const [user, startedAt] of logins.lastStarted) {
    const entry = recorded.get(user);
    assert.ok(entry?.login !== undefined && entry.login >= startedAt, `${user}'s last login`);
    assert.ok(entry?.logout !== undefined && entry.logout >= startedAt, `${user}'s last logout`);
  }
}

function assertFigures(f: Fetch): void {
  assert.deepEqual(
    { accounts: f.figures?.accounts, dau: f.figures?.dau },
    { accounts: ACCOUNTS.length, dau: ACCOUNTS.length },
  );
}

test('reading over SSH while accounts log in and out flat out makes Prosody lose no write', async () => {
  const run = await sideBySide(0, 3);
  assertNothingLost(run);
  // Under a storm of commits a read may find no quiet moment: then it says "busy", never more.
  // A busy read asks up to QUERY_ATTEMPTS times with pauses, so each can take seconds here.
  assert.ok(run.fetches.length >= 3, `only ${run.fetches.length} reads`);
  for (const f of run.fetches) {
    if (f.code === 0) assertFigures(f);
    else
      assert.match(
        f.stderr,
        / is locked by a writer: | changed during each of \d+ \w+ \(Prosody kept writing to it\)/,
      );
  }
  assert.ok(
    run.fetches.some((f) => f.code === 0),
    'some reads gave figures',
  );
});

test('at a steady pace of logins, every read over SSH gives figures, and nothing is lost', async () => {
  const run = await sideBySide(PACED_PAUSE_MS, 12);
  assertNothingLost(run);
  assert.deepEqual(
    run.fetches.filter((f) => f.code !== 0).map((f) => `${f.method}: ${f.stderr}`),
    [],
  );
  for (const f of run.fetches) assertFigures(f);
  assert.ok(run.fetches.length >= 12, `only ${run.fetches.length} reads`);
  assert.ok(run.fetches.filter((f) => f.method === 'copy').length >= 2, 'a few SFTP copies');
});

test('a reader that holds a lock makes Prosody lose writes (why we read lock-free)', async () => {
  const before = lastlog2();
  // A new login is recorded with a later second than any before it.
  await new Promise((r) => setTimeout(r, 1100));
  const logBefore = (await prosody.log()).length;
  // An ordinary reader: a read transaction left open holds SQLite's SHARED lock, so Prosody's
  // next write cannot get the EXCLUSIVE lock it needs to commit.
  const db = new Database(database, { readonly: true, fileMustExist: true });
  let logins: LoginLog;
  try {
    db.exec('BEGIN');
    db.prepare('SELECT count(*) FROM prosody').get();
    const until = Date.now() + 3000;
    logins = await loginLoops(() => Date.now() < until, 1, 0);
    db.exec('COMMIT');
  } finally {
    db.close();
  }
  const log = (await prosody.log()).slice(logBefore);
  const errors = storageErrors(log);
  const authenticated = [
    ...log.matchAll(new RegExp(`Authenticated as (user\\d+)@${HOST.replace('.', '\\.')}`, 'g')),
  ].map((m) => m[1]!);
  const after = lastlog2();
  console.log(
    `with a read transaction open for 3 s: ${logins.performed} logins worked, ` +
      `${logins.failures.length} failed, ${authenticated.length} authenticated; ` +
      `Prosody logged ${errors.length} storage errors, the first: ${errors[0] ?? '(none)'}`,
  );
  assert.ok(
    errors.some((line) => / sql\terror\tError in SQL transaction: commit failed$/.test(line)),
    'Prosody logs the failed commit',
  );
  // Prosody accepted a password, and the login it then tried to record is lost.
  assert.ok(authenticated.length > 0);
  for (const user of authenticated) assert.equal(after.get(user)?.login, before.get(user)?.login);
  assert.ok(logins.failures.length > 0, 'and logins fail');
});
