// A throwaway, real Prosody (Debian's prosody 0.12 + prosody-modules) on loopback, for parity
// tests: seed mod_lastlog2 data exactly as Prosody stores it, start the server, let
// mod_measure_active_users count, and read its gauges from /metrics.
//
// Facts this relies on (checked against prosody 0.12.3 here):
//   * mod_measure_active_users counts 15 s after the module loads, then about hourly; before
//     that its gauges read 0. It logs "<host>:measure_active_users debug Active users (took Ns)".
//   * Starting Prosody does NOT create the SQLite schema (mod_storage_sql connects lazily).
//     `prosodyctl mod_lastlog2 user@host` opens the store and so makes mod_storage_sql run its
//     own create_table(); that is how the schema gets created here, genuinely by Prosody.
//   * Prosody keeps running when it cannot bind a port (it logs "Failed to open server port"),
//     so readiness is taken from its own "Activated service 'c2s' on [127.0.0.1]:PORT" lines
//     plus a TCP connect.
//   * SIGTERM shuts it down within a second or two (stop() sends SIGKILL after 8 s).
//   * mod_posix sets umask 027: Prosody writes directories 0750 and files 0640.

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile, open } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import {
  datFileContent,
  encodeProsodyName,
  encodeProsodyStoreName,
  luaString,
  parseDatFile,
  type LuaTable,
  type LuaValue,
} from './lua-data.js';

export type SeedEvent = 'login' | 'logout' | 'registered' | 'activity';

export interface SeedRecord {
  host: string;
  user: string;
  /** login/logout/registered go to mod_lastlog2's map store; activity to Prosody 13's account_activity. */
  event: SeedEvent;
  /** Unix seconds (an integer, like os.time()). */
  timestamp: number;
  /** Only what mod_lastlog2 writes with lastlog_ip_address = true. */
  ip?: string;
}

/** One row of Prosody's SQL `prosody` table. */
export interface RawRow {
  host: string;
  user: string;
  store: string;
  key: string;
  /** Prosody uses 'string' | 'number' | 'boolean' | 'json' | 'xml'; anything can be inserted here. */
  type: string;
  value: string;
}

/** A file written verbatim under data_path (internal storage only), e.g. a corrupt .dat file. */
export interface RawFile {
  /** Relative to data_path, already encoded, e.g. "example%2eorg/lastlog2/bob.dat". */
  path: string;
  content: string | Buffer;
}

export interface ProsodyOptions {
  storage: 'internal' | 'sql';
  /** VirtualHosts (mod_measure_active_users runs on each). */
  hosts: string[];
  /** MUC components (`Component "x" "muc"`) with mod_lastlog2 loaded. */
  components?: string[];
  /** Allow logins without TLS: internal_plain auth, PLAIN/SCRAM over plaintext c2s. */
  plainLogins?: boolean;
  /** Extra raw Lua lines appended to the global section of the config. */
  extraGlobalConfig?: string;
  /**
   * Which real Prosody runs: Debian's 0.12 (the default) or 13.0 from bookworm-backports,
   * unpacked at /opt/prosody-13 by test/setup-prosody13.sh. A missing binary fails start().
   */
  version?: ProsodyVersion;
  /** Raw Lua lines appended under every `VirtualHost` line, by host (e.g. `authentication = …`). */
  hostConfig?: Record<string, string>;
  /** Give the server an admin socket so that `prosodyctl shell …` works while it runs (0.12 and 13). */
  adminSocket?: boolean;
  /**
   * With storage 'sql': a PostgreSQL or MySQL/MariaDB server instead of SQLite (lua-dbi-postgresql
   * / lua-dbi-mysql). The database must exist; Prosody creates its table.
   */
  sql?: SqlServerSettings;
}

/** Prosody's `sql = { … }` for a database server. */
export interface SqlServerSettings {
  driver: 'PostgreSQL' | 'MySQL';
  database: string;
  username: string;
  password: string;
  host: string;
  port: number;
}

export type ProsodyVersion = '0.12' | '13';

/** Binaries and module folder of each Prosody the tests run. */
export const PROSODY_BUILDS: Record<
  ProsodyVersion,
  { prosody: string; prosodyctl: string; modules: string }
> = {
  '0.12': { prosody: 'prosody', prosodyctl: 'prosodyctl', modules: '/usr/lib/prosody/modules' },
  '13': {
    prosody: '/opt/prosody-13/bin/prosody',
    prosodyctl: '/opt/prosody-13/bin/prosodyctl',
    modules: '/opt/prosody-13/lib/modules',
  },
};

export interface ActiveUsers {
  d1: number;
  d7: number;
  d30: number;
}

export interface ProsodyInstance {
  readonly options: Readonly<ProsodyOptions>;
  /** Temp dir holding config, data, certs (empty), log and pidfile. */
  readonly dir: string;
  readonly configPath: string;
  readonly logPath: string;
  /** Prosody's data_path. */
  readonly dataPath: string;
  /** data_path/prosody.sqlite when storage = 'sql' (schema already created by Prosody). */
  readonly sqlitePath: string | null;
  readonly c2sPort: number;
  readonly httpPort: number;
  readonly running: boolean;
  readonly pid: number | null;
  /** Write records exactly as Prosody would store them. Only while stopped. */
  seed(records: SeedRecord[], extraRows?: RawRow[], extraFiles?: RawFile[]): Promise<void>;
  /** Resolves once Prosody has bound both ports and they accept connections. */
  start(timeoutMs?: number): Promise<void>;
  /** SIGTERM, wait for exit, SIGKILL after timeoutMs. No-op when not running. */
  stop(timeoutMs?: number): Promise<void>;
  /** Run `prosodyctl --config <this config> ...args` (no shell). */
  prosodyctl(...args: string[]): Promise<RunResult>;
  /** `prosodyctl --config … register user host password` (works running or stopped). */
  register(user: string, host: string, password: string): Promise<void>;
  /** Wait for the "Active users (took …)" debug line of each host since the last start(). */
  waitForActiveUsersCount(hosts?: string[], timeoutMs?: number): Promise<void>;
  /** Path of the admin socket (meaningful with `adminSocket: true`). */
  readonly adminSocketPath: string;
  /** `prosodyctl --config … shell LINE` (needs `adminSocket: true` and a running server). */
  shell(line: string): Promise<RunResult>;
  /** Parsed active-user gauges from GET /metrics, by host. */
  metrics(): Promise<Map<string, ActiveUsers>>;
  /** GET /metrics as text. */
  metricsText(): Promise<string>;
  /** The whole log file. */
  log(): Promise<string>;
  /** Path of a user's file in internal storage (whether or not it exists). */
  internalPath(host: string, store: string, user: string): string;
  /** Rows of the SQL `prosody` table (storage = 'sql' only), optionally filtered. */
  sqlRows(filter?: Partial<Pick<RawRow, 'host' | 'user' | 'store' | 'key'>>): RawRow[];
  /** A keyval/map store entry as Prosody would load it, or null when there is none. */
  readStore(host: string, user: string, store?: string): Promise<Record<string, unknown> | null>;
  /** stop() and delete the temp dir (kept when PROSODY_TEST_KEEP=1). */
  dispose(): Promise<void>;
}

const LOOPBACK = '127.0.0.1';
const KEEP = process.env.PROSODY_TEST_KEEP === '1';

// ---------------------------------------------------------------------------
// Process-wide bookkeeping: everything started here is killed when the process ends.

const liveChildren = new Set<ChildProcess>();
const instances = new Set<ProsodyInstanceImpl>();
const tempDirs = new Set<string>();
let handlersInstalled = false;

function killAllSync(): void {
  for (const child of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  liveChildren.clear();
  if (!KEEP) {
    for (const dir of tempDirs) {
      try {
        rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
      } catch {
        // best effort at exit
      }
    }
    tempDirs.clear();
  }
}

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.once('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAllSync();
      // If nobody else handles the signal, die of it as we would have without this handler.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    });
  }
}

/** Stop every Prosody started by this process and delete their temp dirs. For after() hooks. */
export async function cleanupProsody(): Promise<void> {
  await Promise.allSettled([...instances].map((i) => i.dispose()));
  killAllSync();
}

// ---------------------------------------------------------------------------
// Small utilities

const handedOutPorts = new Set<number>();

/** A currently free TCP port on 127.0.0.1 (never the same one twice in this process). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = net.createServer();
      srv.once('error', reject);
      srv.listen(0, LOOPBACK, () => {
        const addr = srv.address();
        const p = typeof addr === 'object' && addr ? addr.port : 0;
        srv.close(() => resolve(p));
      });
    });
    if (port > 0 && !handedOutPorts.has(port)) {
      handedOutPorts.add(port);
      return port;
    }
  }
  throw new Error('freePort: could not find a free port');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: LOOPBACK, port });
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function tail(text: string, lines = 60): string {
  return text.split('\n').slice(-lines).join('\n');
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], timeoutMs = 20_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    liveChildren.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      liveChildren.delete(child);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      liveChildren.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function assertName(kind: string, name: string): void {
  if (name.length === 0 || /[\0\n\r]/.test(name)) {
    throw new Error(`Invalid ${kind} ${JSON.stringify(name)}`);
  }
}

// ---------------------------------------------------------------------------
// Seeding helpers

/** What Prosody's mod_storage_sql does with a stored (type, value) on read. */
function deserializeSqlValue(type: string, value: string): unknown {
  switch (type) {
    case 'string':
      return value;
    case 'number': {
      const n = Number(value);
      if (Number.isNaN(n)) throw new Error(`invalid number ${JSON.stringify(value)}`);
      return n;
    }
    case 'boolean':
      if (value === 'true') return true;
      if (value === 'false') return false;
      throw new Error(`invalid boolean ${JSON.stringify(value)}`);
    case 'json':
      return JSON.parse(value) as unknown;
    default:
      throw new Error(`unhandled type ${type}`);
  }
}

function rawRowToLua(row: RawRow): LuaValue {
  const v = deserializeSqlValue(row.type, row.value);
  const toLua = (x: unknown): LuaValue => {
    if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') return x;
    if (x !== null && typeof x === 'object') {
      const t: LuaTable = {};
      const entries = Array.isArray(x)
        ? x.map((item, i) => [String(i + 1), item] as const)
        : Object.entries(x as Record<string, unknown>);
      for (const [k, item] of entries) t[k] = toLua(item);
      return t;
    }
    throw new Error(`RawRow value cannot be stored in internal storage: ${row.value}`);
  };
  return toLua(v);
}

interface StoreWrite {
  host: string;
  user: string;
  store: string;
  key: string;
  /** For SQL. */
  type: string;
  value: string;
  /** For internal storage. */
  lua: LuaValue;
}

function recordToWrite(r: SeedRecord): StoreWrite {
  assertName('host', r.host);
  assertName('user', r.user);
  if (!Number.isFinite(r.timestamp)) throw new Error(`Bad timestamp ${r.timestamp}`);
  if (r.event === 'activity') {
    return {
      host: r.host,
      user: r.user,
      store: 'account_activity',
      key: 'timestamp',
      type: 'number',
      value: String(r.timestamp),
      lua: r.timestamp,
    };
  }
  const lua: LuaTable = { timestamp: r.timestamp };
  const json: Record<string, unknown> = { timestamp: r.timestamp };
  if (r.ip !== undefined) {
    lua.ip = r.ip;
    json.ip = r.ip;
  }
  return {
    host: r.host,
    user: r.user,
    store: 'lastlog2',
    key: r.event,
    type: 'json',
    value: JSON.stringify(json),
    lua,
  };
}

// ---------------------------------------------------------------------------

class ProsodyInstanceImpl implements ProsodyInstance {
  readonly configPath: string;
  readonly logPath: string;
  readonly dataPath: string;
  readonly sqlitePath: string | null;
  private readonly pidfilePath: string;
  private readonly certsPath: string;
  private child: ChildProcess | null = null;
  private childOutput = '';
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private logOffsetAtStart = 0;
  private disposed = false;

  constructor(
    readonly options: Readonly<ProsodyOptions>,
    readonly dir: string,
    public c2sPort: number,
    public httpPort: number,
  ) {
    this.configPath = path.join(dir, 'prosody.cfg.lua');
    this.logPath = path.join(dir, 'prosody.log');
    this.pidfilePath = path.join(dir, 'prosody.pid');
    this.certsPath = path.join(dir, 'certs');
    this.dataPath = path.join(dir, 'data');
    this.sqlitePath =
      options.storage === 'sql' && options.sql === undefined
        ? path.join(this.dataPath, 'prosody.sqlite')
        : null;
  }

  get running(): boolean {
    return this.child !== null && this.exitInfo === null;
  }

  get pid(): number | null {
    return this.running ? (this.child?.pid ?? null) : null;
  }

  private get build(): (typeof PROSODY_BUILDS)[ProsodyVersion] {
    return PROSODY_BUILDS[this.options.version ?? '0.12'];
  }

  /** Where `prosodyctl shell` finds the running server (adminSocket only). */
  get adminSocketPath(): string {
    return path.join(this.dir, 'admin.sock');
  }

  configText(): string {
    const o = this.options;
    const modules = ['saslauth', 'lastlog2', 'measure_active_users', 'http_openmetrics', 'posix'];
    if (o.adminSocket) modules.push('admin_shell', 'admin_socket');
    const list = (items: string[]): string => `{ ${items.map((i) => `${i};`).join(' ')} }`;
    const lines = [
      '-- Generated by test/helpers/prosody-server.ts: a throwaway test server.',
      'run_as_root = true',
      `pidfile = ${luaString(this.pidfilePath)}`,
      `data_path = ${luaString(this.dataPath)}`,
      `certificates = ${luaString(this.certsPath)}`,
      `plugin_paths = { ${luaString(this.build.modules)} }`,
      `modules_enabled = ${list(modules.map(luaString))}`,
      'statistics = "internal"',
      'statistics_interval = "manual"',
      'openmetrics_allow_cidr = "127.0.0.0/8"',
      `interfaces = { ${luaString(LOOPBACK)} }`,
      `c2s_ports = { ${this.c2sPort} }`,
      `c2s_interfaces = { ${luaString(LOOPBACK)} }`,
      `http_ports = { ${this.httpPort} }`,
      `http_interfaces = { ${luaString(LOOPBACK)} }`,
      'https_ports = { }',
      's2s_ports = { }',
      'c2s_direct_tls_ports = { }',
      's2s_direct_tls_ports = { }',
      'legacy_ssl_ports = { }',
      'component_ports = { }',
      `log = { debug = ${luaString(this.logPath)} }`,
    ];
    if (o.storage === 'sql' && o.sql) {
      const q = o.sql;
      lines.push(
        'storage = "sql"',
        `sql = { driver = ${luaString(q.driver)}, database = ${luaString(q.database)}, username = ${luaString(q.username)}, password = ${luaString(q.password)}, host = ${luaString(q.host)}, port = ${q.port} }`,
      );
    } else if (o.storage === 'sql') {
      lines.push('storage = "sql"', 'sql = { driver = "SQLite3", database = "prosody.sqlite" }');
    } else {
      lines.push('storage = "internal"');
    }
    if (o.plainLogins) {
      lines.push(
        'c2s_require_encryption = false',
        'allow_unencrypted_plain_auth = true',
        'authentication = "internal_plain"',
      );
    }
    if (o.adminSocket) {
      lines.push(`admin_socket = ${luaString(this.adminSocketPath)}`);
    }
    if (o.extraGlobalConfig) lines.push(o.extraGlobalConfig);
    lines.push('');
    for (const host of o.hosts) {
      lines.push(`VirtualHost ${luaString(host)}`);
      const extra = o.hostConfig?.[host];
      if (extra) lines.push(extra);
    }
    for (const comp of o.components ?? []) {
      lines.push(`Component ${luaString(comp)} "muc"`, '\tmodules_enabled = { "lastlog2"; }');
    }
    return lines.join('\n') + '\n';
  }

  async writeConfig(): Promise<void> {
    await writeFile(this.configPath, this.configText(), { mode: 0o640 });
  }

  // ---- storage layout ------------------------------------------------------

  internalPath(host: string, store: string, user: string): string {
    return path.join(
      this.dataPath,
      encodeProsodyName(host),
      encodeProsodyStoreName(store),
      `${encodeProsodyName(user)}.dat`,
    );
  }

  /** Create the SQL schema with Prosody's own mod_storage_sql (prosodyctl opens a store). */
  async createSqlSchema(): Promise<void> {
    const host = this.options.hosts[0] ?? '';
    const res = await this.prosodyctl('mod_lastlog2', `schema-probe@${host}`);
    // The probe user does not exist: mod_lastlog2's command prints "No record found", exit 1.
    const ok = res.code === 0 || /No record found/.test(res.stdout);
    if (this.options.sql) {
      const tables = await this.serverQuery(
        this.options.sql.driver === 'PostgreSQL'
          ? "SELECT 1 FROM information_schema.tables WHERE table_name = 'prosody'"
          : "SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'prosody'",
      );
      if (!ok || tables.length === 0) {
        throw new Error(
          `prosodyctl did not create the ${this.options.sql.driver} schema (exit ${res.code}):\n${res.stdout}\n${res.stderr}`,
        );
      }
      return;
    }
    if (!ok || !this.sqlitePath || !existsSync(this.sqlitePath)) {
      throw new Error(
        `prosodyctl did not create the SQLite schema (exit ${res.code}):\n${res.stdout}\n${res.stderr}`,
      );
    }
    const db = new Database(this.sqlitePath, { readonly: true, fileMustExist: true });
    try {
      const t = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'prosody'")
        .get();
      if (!t) throw new Error(`No "prosody" table in ${this.sqlitePath} after prosodyctl`);
    } finally {
      db.close();
    }
  }

  async seed(
    records: SeedRecord[],
    extraRows: RawRow[] = [],
    extraFiles: RawFile[] = [],
  ): Promise<void> {
    if (this.running) throw new Error('seed() is only allowed while Prosody is stopped');
    const writes = records.map(recordToWrite);
    if (this.options.storage === 'sql') {
      if (extraFiles.length > 0) throw new Error('extraFiles are for internal storage only');
      if (this.options.sql) await this.seedSqlServer(writes, extraRows);
      else this.seedSql(writes, extraRows);
    } else {
      await this.seedInternal(writes, extraRows, extraFiles);
    }
  }

  private seedSql(writes: StoreWrite[], extraRows: RawRow[]): void {
    if (!this.sqlitePath) throw new Error('no sqlite path');
    const db = new Database(this.sqlitePath, { fileMustExist: true });
    try {
      // Like mod_storage_sql's map_store:set_keys(): delete the key, then insert it.
      const del = db.prepare(
        'DELETE FROM "prosody" WHERE "host"=? AND "user"=? AND "store"=? AND "key"=?',
      );
      const ins = db.prepare(
        'INSERT INTO "prosody" ("host","user","store","key","type","value") VALUES (?,?,?,?,?,?)',
      );
      db.transaction(() => {
        for (const w of writes) {
          del.run(w.host, w.user, w.store, w.key);
          ins.run(w.host, w.user, w.store, w.key, w.type, w.value);
        }
        for (const r of extraRows) ins.run(r.host, r.user, r.store, r.key, r.type, r.value);
      })();
    } finally {
      db.close();
    }
  }

  /** Runs one statement on the database server (`?` placeholders); rows as arrays. */
  async serverQuery(sql: string, params: unknown[] = []): Promise<unknown[][]> {
    return (await this.serverBatch([[sql, params]]))[0] ?? [];
  }

  /** Runs statements in order over one connection; each one's rows as arrays. */
  private async serverBatch(statements: [string, unknown[]][]): Promise<unknown[][][]> {
    const q = this.options.sql;
    if (!q) throw new Error('serverQuery() needs the sql option');
    const out: unknown[][][] = [];
    if (q.driver === 'PostgreSQL') {
      const client = new pg.Client({
        host: q.host,
        port: q.port,
        user: q.username,
        password: q.password,
        database: q.database,
      });
      await client.connect();
      try {
        for (const [sql, values] of statements) {
          let n = 0;
          const text = sql.replace(/\?/g, () => `$${++n}`);
          out.push((await client.query({ text, values, rowMode: 'array' })).rows as unknown[][]);
        }
        return out;
      } finally {
        await client.end();
      }
    }
    const conn = await mysql.createConnection({
      host: q.host,
      port: q.port,
      user: q.username,
      password: q.password,
      database: q.database,
      charset: 'utf8mb4',
    });
    try {
      // Prosody quotes names "like this" with ANSI_QUOTES in force: the same here.
      await conn.query("SET SESSION sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES')");
      for (const [sql, values] of statements) {
        const [rows] = await conn.query({ sql, values, rowsAsArray: true });
        out.push(Array.isArray(rows) ? (rows as unknown[][]) : []);
      }
      return out;
    } finally {
      await conn.end();
    }
  }

  private async seedSqlServer(writes: StoreWrite[], extraRows: RawRow[]): Promise<void> {
    const del = 'DELETE FROM "prosody" WHERE "host"=? AND "user"=? AND "store"=? AND "key"=?';
    const ins =
      'INSERT INTO "prosody" ("host","user","store","key","type","value") VALUES (?,?,?,?,?,?)';
    const statements: [string, unknown[]][] = [];
    for (const w of writes) {
      statements.push([del, [w.host, w.user, w.store, w.key]]);
      statements.push([ins, [w.host, w.user, w.store, w.key, w.type, w.value]]);
    }
    for (const r of extraRows)
      statements.push([ins, [r.host, r.user, r.store, r.key, r.type, r.value]]);
    await this.serverBatch(statements);
  }

  private async seedInternal(
    writes: StoreWrite[],
    extraRows: RawRow[],
    extraFiles: RawFile[],
  ): Promise<void> {
    // Group by file; merge with what is already there (Prosody's map set loads, sets, saves).
    const files = new Map<string, { host: string; store: string; entries: [string, LuaValue][] }>();
    const add = (host: string, user: string, store: string, key: string, lua: LuaValue): void => {
      const file = this.internalPath(host, store, user);
      let f = files.get(file);
      if (!f) files.set(file, (f = { host, store, entries: [] }));
      f.entries.push([key, lua]);
    };
    for (const w of writes) add(w.host, w.user, w.store, w.key, w.lua);
    for (const r of extraRows) add(r.host, r.user, r.store, r.key, rawRowToLua(r));

    for (const [file, { entries }] of files) {
      let data: LuaTable = {};
      if (existsSync(file)) {
        const existing = parseDatFile(await readFile(file));
        if (typeof existing === 'object') data = existing;
      }
      for (const [k, v] of entries) data[k] = v;
      await mkdir(path.dirname(file), { recursive: true, mode: 0o750 });
      await writeFile(file, datFileContent(data), { mode: 0o640 });
    }
    for (const f of extraFiles) {
      const file = path.join(this.dataPath, f.path);
      if (!file.startsWith(this.dataPath + path.sep))
        throw new Error(`RawFile outside data_path: ${f.path}`);
      await mkdir(path.dirname(file), { recursive: true, mode: 0o750 });
      await writeFile(file, f.content, { mode: 0o640 });
    }
  }

  sqlRows(filter: Partial<Pick<RawRow, 'host' | 'user' | 'store' | 'key'>> = {}): RawRow[] {
    if (!this.sqlitePath) throw new Error('sqlRows() needs storage = "sql"');
    const cols = (['host', 'user', 'store', 'key'] as const).filter((c) => filter[c] !== undefined);
    const where = cols.length ? ' WHERE ' + cols.map((c) => `"${c}"=?`).join(' AND ') : '';
    const db = new Database(this.sqlitePath, { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      return db
        .prepare(`SELECT "host","user","store","key","type","value" FROM "prosody"${where}`)
        .all(...cols.map((c) => filter[c])) as RawRow[];
    } finally {
      db.close();
    }
  }

  /** sqlRows() on the database server (the sql option). */
  private async serverRows(filter: Pick<RawRow, 'host' | 'user' | 'store'>): Promise<RawRow[]> {
    const rows = await this.serverQuery(
      'SELECT "key","type","value" FROM "prosody" WHERE "host"=? AND "user"=? AND "store"=?',
      [filter.host, filter.user, filter.store],
    );
    return rows.map(([key, type, value]) => ({
      ...filter,
      key: String(key),
      type: String(type),
      value: String(value),
    }));
  }

  async readStore(
    host: string,
    user: string,
    store = 'lastlog2',
  ): Promise<Record<string, unknown> | null> {
    if (this.options.storage === 'sql') {
      const rows = this.options.sql
        ? await this.serverRows({ host, user, store })
        : this.sqlRows({ host, user, store });
      if (rows.length === 0) return null;
      const out: Record<string, unknown> = {};
      for (const r of rows) {
        const v = deserializeSqlValue(r.type, r.value);
        if (r.key !== '') out[r.key] = v;
        else if (v && typeof v === 'object') Object.assign(out, v);
      }
      return out;
    }
    const file = this.internalPath(host, store, user);
    let content: Buffer;
    try {
      content = await readFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    const data = parseDatFile(content);
    if (typeof data !== 'object') throw new Error(`${file} does not hold a table`);
    return data;
  }

  // ---- process control -----------------------------------------------------

  private async currentLogSize(): Promise<number> {
    try {
      return (await stat(this.logPath)).size;
    } catch {
      return 0;
    }
  }

  /** Log text written since the last start(). */
  private async logSinceStart(): Promise<string> {
    let fh;
    try {
      fh = await open(this.logPath, 'r');
    } catch {
      return '';
    }
    try {
      const size = (await fh.stat()).size;
      const len = Math.max(0, size - this.logOffsetAtStart);
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, this.logOffsetAtStart);
      return buf.toString('utf8');
    } finally {
      await fh.close();
    }
  }

  private async failure(message: string): Promise<Error> {
    const log = await this.logSinceStart();
    const exit = this.exitInfo
      ? ` (exited with code ${this.exitInfo.code}, signal ${this.exitInfo.signal})`
      : '';
    return new Error(
      `Prosody [${this.dir}]: ${message}${exit}\n--- log tail ---\n${tail(log)}` +
        (this.childOutput.trim() ? `\n--- stdout/stderr ---\n${tail(this.childOutput, 30)}` : ''),
    );
  }

  async start(timeoutMs = 20_000): Promise<void> {
    if (this.disposed) throw new Error('instance disposed');
    if (this.running) throw new Error('Prosody is already running');
    for (let attempt = 1; ; attempt++) {
      const result = await this.startOnce(timeoutMs);
      if (result === 'ok') return;
      // A port was taken between freePort() and bind: pick new ones and try again.
      await this.kill();
      if (attempt >= 3) throw await this.failure('could not bind its ports after 3 attempts');
      this.c2sPort = await freePort();
      this.httpPort = await freePort();
      await this.writeConfig();
    }
  }

  private async startOnce(timeoutMs: number): Promise<'ok' | 'port-in-use'> {
    this.logOffsetAtStart = await this.currentLogSize();
    this.exitInfo = null;
    this.childOutput = '';
    if (path.isAbsolute(this.build.prosody) && !existsSync(this.build.prosody)) {
      // A missing version is a failure, never a skip: CI installs both.
      throw new Error(
        `Prosody ${this.options.version} is not installed at ${this.build.prosody}: run test/setup-prosody13.sh (test/setup-system.sh does)`,
      );
    }
    const child = spawn(this.build.prosody, ['--config', this.configPath, '-F'], {
      cwd: this.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    liveChildren.add(child);
    const onOutput = (d: Buffer): void => {
      this.childOutput = (this.childOutput + d.toString('utf8')).slice(-20_000);
    };
    child.stdout?.on('data', onOutput);
    child.stderr?.on('data', onOutput);
    child.once('error', (err) => {
      this.childOutput += `\nspawn error: ${err.message}`;
      this.exitInfo ??= { code: null, signal: null };
      liveChildren.delete(child);
    });
    child.once('exit', (code, signal) => {
      this.exitInfo = { code, signal };
      liveChildren.delete(child);
    });

    const c2sRe = new RegExp(
      `Activated service 'c2s' on \\[${escapeRegExp(LOOPBACK)}\\]:${this.c2sPort}\\b`,
    );
    const httpRe = new RegExp(
      `Activated service 'http' on \\[${escapeRegExp(LOOPBACK)}\\]:${this.httpPort}\\b`,
    );
    const moduleErrorRe =
      /^.*(?:Unable to load module|Error initializing module|Failed to load module).*$/m;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.exitInfo) throw await this.failure('exited during startup');
      let log = await this.logSinceStart();
      if (/Failed to open server port/.test(log)) return 'port-in-use';
      if (c2sRe.test(log) && httpRe.test(log) && (await canConnect(this.c2sPort))) {
        // An HTTP answer means the event loop runs, i.e. the synchronous startup (every host
        // and its modules) is over; then the log holds any module loading error.
        if (await this.httpAnswers()) {
          log = await this.logSinceStart();
          const moduleError = moduleErrorRe.exec(log);
          if (!moduleError) return 'ok';
          await this.kill();
          throw await this.failure(`module error at startup: ${moduleError[0]}`);
        }
      }
      const moduleError = moduleErrorRe.exec(log);
      if (moduleError) {
        await this.kill();
        throw await this.failure(`module error at startup: ${moduleError[0]}`);
      }
      if (Date.now() > deadline) {
        await this.kill();
        throw await this.failure(`not listening after ${timeoutMs} ms`);
      }
      await sleep(50);
    }
  }

  private async httpAnswers(): Promise<boolean> {
    try {
      const res = await fetch(`http://${LOOPBACK}:${this.httpPort}/metrics`, {
        signal: AbortSignal.timeout(2000),
      });
      await res.arrayBuffer();
      return res.ok;
    } catch {
      return false;
    }
  }

  private async waitForExit(timeoutMs: number): Promise<boolean> {
    const child = this.child;
    if (!child || this.exitInfo) return true;
    let timer: NodeJS.Timeout | undefined;
    const exited = once(child, 'exit').then(() => true);
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    // The exit event may already have fired between the checks above and once().
    if (this.exitInfo) {
      clearTimeout(timer);
      return true;
    }
    try {
      return await Promise.race([exited, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async kill(): Promise<void> {
    if (!this.child || this.exitInfo) return;
    this.child.kill('SIGKILL');
    await this.waitForExit(5000);
  }

  async stop(timeoutMs = 8000): Promise<void> {
    const child = this.child;
    if (!child || this.exitInfo) return;
    child.kill('SIGTERM');
    if (!(await this.waitForExit(timeoutMs))) {
      child.kill('SIGKILL');
      if (!(await this.waitForExit(5000))) {
        throw await this.failure('did not exit even after SIGKILL');
      }
    }
  }

  prosodyctl(...args: string[]): Promise<RunResult> {
    return run(this.build.prosodyctl, ['--config', this.configPath, ...args]);
  }

  shell(line: string): Promise<RunResult> {
    return this.prosodyctl('shell', line);
  }

  async register(user: string, host: string, password: string): Promise<void> {
    const res = await this.prosodyctl('register', user, host, password);
    if (res.code !== 0) {
      throw new Error(
        `prosodyctl register ${user} ${host} failed (exit ${res.code}, signal ${res.signal}):\n${res.stdout}\n${res.stderr}`,
      );
    }
  }

  async waitForActiveUsersCount(
    hosts: string[] = this.options.hosts,
    timeoutMs = 40_000,
  ): Promise<void> {
    if (!this.child) throw new Error('Prosody was never started');
    const res = hosts.map(
      (h) =>
        new RegExp(
          `(?:^|\\s)${escapeRegExp(h)}:measure_active_users\\s+debug\\s+Active users \\(took`,
          'm',
        ),
    );
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const log = await this.logSinceStart();
      if (res.every((re) => re.test(log))) return;
      if (this.exitInfo) throw await this.failure('exited while waiting for the active-user count');
      const err = /^.*measure_active_users\s+error.*$/m.exec(log);
      if (err) throw await this.failure(`mod_measure_active_users error: ${err[0]}`);
      if (Date.now() > deadline) {
        const missing = hosts.filter((_, i) => !res[i]?.test(log));
        throw await this.failure(
          `no "Active users" line for ${missing.join(', ')} within ${timeoutMs} ms`,
        );
      }
      await sleep(200);
    }
  }

  async metricsText(): Promise<string> {
    if (!this.running) throw new Error('Prosody is not running');
    const res = await fetch(`http://${LOOPBACK}:${this.httpPort}/metrics`, {
      signal: AbortSignal.timeout(10_000),
    });
    const body = await res.text();
    if (!res.ok) throw await this.failure(`GET /metrics -> ${res.status}: ${body.slice(0, 500)}`);
    return body;
  }

  async metrics(): Promise<Map<string, ActiveUsers>> {
    return parseActiveUsersMetrics(await this.metricsText());
  }

  async log(): Promise<string> {
    try {
      return await readFile(this.logPath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw err;
    }
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    try {
      await this.stop();
    } finally {
      this.disposed = true;
      instances.delete(this);
      if (!KEEP) {
        await rm(this.dir, { recursive: true, force: true, maxRetries: 3 });
        tempDirs.delete(this.dir);
      }
    }
  }
}

/** Parse prosody_mod_measure_active_users__active_users_{1d,7d,30d}{host="…"} gauges. */
export function parseActiveUsersMetrics(text: string): Map<string, ActiveUsers> {
  const out = new Map<string, ActiveUsers>();
  const re =
    /^prosody_mod_measure_active_users__active_users_(1d|7d|30d)\{([^}]*)\}\s+(\S+)(?:\s+\S+)?$/gm;
  for (const m of text.matchAll(re)) {
    const [, window, labels = '', value = ''] = m;
    const host = /(?:^|,)host="((?:[^"\\]|\\.)*)"/.exec(labels)?.[1];
    if (host === undefined) continue;
    const decoded = host.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const entry = out.get(decoded) ?? { d1: NaN, d7: NaN, d30: NaN };
    const n = Number(value);
    if (window === '1d') entry.d1 = n;
    else if (window === '7d') entry.d7 = n;
    else entry.d30 = n;
    out.set(decoded, entry);
  }
  return out;
}

/**
 * Create a throwaway Prosody (not started). For storage = 'sql' the SQLite schema is created
 * by Prosody itself before this resolves.
 */
export async function createProsody(opts: ProsodyOptions): Promise<ProsodyInstance> {
  if (opts.hosts.length === 0) throw new Error('createProsody: at least one host');
  for (const h of [...opts.hosts, ...(opts.components ?? [])]) assertName('host', h);
  installExitHandlers();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'prosody-test-'));
  tempDirs.add(dir);
  const instance = new ProsodyInstanceImpl(
    { ...opts, hosts: [...opts.hosts], components: [...(opts.components ?? [])] },
    dir,
    await freePort(),
    await freePort(),
  );
  instances.add(instance);
  try {
    await mkdir(instance.dataPath, { mode: 0o750 });
    await mkdir(path.join(dir, 'certs'), { mode: 0o750 }); // empty: keeps certmanager quiet
    await instance.writeConfig();
    if (opts.storage === 'sql') await instance.createSqlSchema();
  } catch (err) {
    await instance.dispose();
    throw err;
  }
  return instance;
}
