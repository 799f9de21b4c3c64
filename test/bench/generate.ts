/**
 * Prosody-shaped data for the benchmark, in both storage layouts, written the way Prosody 0.12
 * writes them (checked against /usr/lib/prosody/modules/mod_storage_sql.lua, util/sql.lua,
 * util/datamanager.lua and prosody-modules' mod_lastlog2):
 *
 * - SQLite: the schema mod_storage_sql creates, `prosody` rows as map_store:set_keys() inserts them
 *   (`{"timestamp":…}` JSON, type `json`; Prosody 13's account_activity as type `number`; a
 *   component's `message` rows), and optionally a message archive in `prosodyarchive` as
 *   archive_store:append() inserts it. Rows go in in the order of the events' times, as a
 *   running server writes them (set_keys deletes and re-inserts), so one account's rows are spread
 *   over the file and the archive's pages lie between them.
 * - Internal: `<data>/<host>/lastlog2/<user>.dat` and `<host>/account_activity/<user>.dat` with
 *   util.serialization's exact text, names encoded as datamanager does, modes 0750/0640 as under
 *   mod_posix, and each file's mtime set to its newest event.
 *
 * Deterministic (a seeded PRNG) and cached by its parameters under /tmp/pau-bench-data (or
 * $PAU_BENCH_DATA), so repeated runs reuse the files. Generated data never goes into the repository.
 *
 * Run alone: `node --import tsx test/bench/generate.ts --accounts 100k --archive-mb 300 --layout sqlite`.
 */
import {
  closeSync,
  existsSync,
  futimesSync,
  openSync,
  writeSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { encodeProsodyName } from '../../main/sources/prosody-name-encoding.js';
import { type LuaTable, datFileContent } from '../helpers/lua-data.js';
import { Prng } from './prng.js';

/** Bump when the generated data changes, so that cached files are not reused. */
export const GENERATOR_VERSION = 2;

/** The moment every benchmark counts for (the same as the tests' NOW). */
export const BENCH_NOW = 1_795_536_000;

export const DEFAULT_DATA_ROOT = process.env.PAU_BENCH_DATA ?? '/tmp/pau-bench-data';

const DAY = 86_400;

export interface DatasetSpec {
  accounts: number;
  /** Virtual hosts the accounts are spread over (a MUC component is added besides). */
  hosts: number;
  /** The message archive's size (table and its indexes), SQLite only; 0 for none. */
  archiveMb: number;
  seed: number;
}

export type Layout = 'sqlite' | 'internal';

/** What counting this data must give, per host: the same rule as mod_measure_active_users. */
export interface ExpectedCounts {
  dau: number;
  wau: number;
  mau: number;
  accounts: number;
  new1d: number;
  new7d: number;
  new30d: number;
  skipped: number;
}

export interface Manifest {
  generator: number;
  layout: Layout;
  spec: DatasetSpec;
  now: number;
  /** The SQLite file, or the data folder (internal storage). */
  path: string;
  expected: Record<string, ExpectedCounts>;
  stats: {
    prosodyRows: number;
    archiveRows: number;
    files: number;
    /** The whole file (SQLite) or the sum of the .dat files (internal). */
    bytes: number;
    /** prosodyarchive and its indexes, measured with dbstat. */
    archiveBytes: number;
    generateSeconds: number;
  };
}

// ------------------------------------------------------------------------------------------
// Prosody's schema, as util/sql.lua writes mod_storage_sql's create_table() for SQLite3
// (MEDIUMTEXT becomes TEXT; prosodyarchive_index is UNIQUE on everything but MySQL).

export const PROSODY_SCHEMA = [
  'CREATE TABLE IF NOT EXISTS "prosody" ("host" TEXT NOT NULL, "user" TEXT NOT NULL, "store" TEXT NOT NULL, "key" TEXT NOT NULL, "type" TEXT NOT NULL, "value" TEXT NOT NULL);',
  'CREATE INDEX IF NOT EXISTS "prosody_index" ON "prosody" ("host", "user", "store", "key");',
  'CREATE TABLE IF NOT EXISTS "prosodyarchive" ("sort_id" INTEGER PRIMARY KEY AUTOINCREMENT, "host" TEXT NOT NULL, "user" TEXT NOT NULL, "store" TEXT NOT NULL, "key" TEXT NOT NULL, "when" INTEGER NOT NULL, "with" TEXT NOT NULL, "type" TEXT NOT NULL, "value" TEXT NOT NULL);',
  'CREATE UNIQUE INDEX IF NOT EXISTS "prosodyarchive_index" ON "prosodyarchive" ("host", "user", "store", "key");',
  'CREATE INDEX IF NOT EXISTS "prosodyarchive_with_when" ON "prosodyarchive" ("host", "user", "store", "with", "when");',
  'CREATE INDEX IF NOT EXISTS "prosodyarchive_when" ON "prosodyarchive" ("host", "user", "store", "when");',
  'CREATE INDEX IF NOT EXISTS "prosodyarchive_sort" ON "prosodyarchive" ("host", "user", "store", "sort_id");',
];

/** map_store:set_keys()'s and archive_store:append()'s INSERTs. */
const INSERT_PROSODY =
  'INSERT INTO "prosody" ("host","user","store","key","type","value") VALUES (?,?,?,?,?,?);';
const INSERT_ARCHIVE =
  'INSERT INTO "prosodyarchive" ("host", "user", "store", "when", "with", "key", "type", "value") VALUES (?,?,?,?,?,?,?,?);';

// ------------------------------------------------------------------------------------------
// The accounts.

const HOST_NAMES = [
  'example.org',
  'chat.example.net',
  'im.example.com',
  'xmpp.example.info',
  'talk.example.social',
  'jabber.example.de',
  'muc.example.io',
  'home.example.eu',
];

const FIRST = [
  'alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory',
  'niaj', 'olivia', 'peggy', 'rupert', 'sybil', 'trent', 'victor', 'walter', 'anna', 'ben', 'chloe',
  'daniel', 'emma', 'felix', 'greta', 'hugo', 'ines', 'jonas', 'karin', 'lena', 'marco', 'nora',
  'oskar', 'paula', 'quentin', 'rosa', 'sven', 'tara', 'ulla', 'vera', 'wim', 'xenia', 'yusuf',
  'zoe', 'amir', 'mei', 'kenji', 'priya', 'omar',
]; // prettier-ignore
/** Non-ASCII names (after nodeprep), for the name encoding. */
const FIRST_UNICODE = ['zoë', 'josé', 'jürgen', 'søren', 'łukasz', 'françois', 'ümit', '美咲'];
const LAST = [
  'smith', 'jones', 'miller', 'garcia', 'martin', 'bernard', 'dubois', 'rossi', 'russo', 'novak',
  'kowalski', 'nielsen', 'jansen', 'peeters', 'silva', 'santos', 'tanaka', 'sato', 'kim', 'lee',
  'chen', 'wang', 'singh', 'patel', 'khan', 'ali', 'cohen', 'levi', 'murphy', 'kelly',
]; // prettier-ignore
const SEPARATORS = ['.', '_', '-', ''];

// Event bits of an account.
const LOGIN = 1;
const LOGOUT = 2;
const REGISTERED = 4;
const ACTIVITY = 8;
const IP = 16;
/** Prosody 13's accounts store: most accounts exist; some are disabled, some gone (records kept). */
const DISABLED = 32;
const NO_ACCOUNT = 64;

/** The accounts, column-wise (a million objects would cost the generator more than the data). */
interface Model {
  n: number;
  hostNames: string[];
  /** The virtual host with `lastlog_ip_address = true`. */
  ipHost: number;
  componentHost: string;
  rooms: number;
  host: Uint8Array;
  flags: Uint8Array;
  login: Uint32Array;
  logout: Uint32Array;
  registered: Uint32Array;
  activity: Uint32Array;
  nameSeed: Uint32Array;
  ipSeed: Uint32Array;
}

/** Every user name carries its account's number, so names are unique without a lookup. */
function userName(m: Model, i: number): string {
  const s = m.nameSeed[i] as number;
  const first =
    s % 97 === 0
      ? FIRST_UNICODE[(s >>> 8) % FIRST_UNICODE.length]
      : FIRST[(s >>> 8) % FIRST.length];
  const style = (s >>> 16) % 8;
  if (style < 3) return `${first}${i}`;
  const sep = SEPARATORS[(s >>> 20) % SEPARATORS.length] as string;
  return `${first}${sep}${LAST[(s >>> 24) % LAST.length] as string}${i}`;
}

/** Addresses from the documentation ranges (RFC 5737, RFC 3849): never anyone's real address. */
function ipOf(seed: number): string {
  if (seed % 5 < 3) {
    const net = ['192.0.2', '198.51.100', '203.0.113'][(seed >>> 3) % 3] as string;
    return `${net}.${((seed >>> 8) % 254) + 1}`;
  }
  const h = (x: number) => (x & 0xffff).toString(16);
  return `2001:db8:${h(seed >>> 4)}:${h(seed >>> 12)}::${h(seed >>> 20)}`;
}

/** When the server moved to Prosody 13: every login and logout since wrote account_activity. */
const PROSODY13_SINCE = BENCH_NOW - 14 * DAY;

function buildModel(spec: DatasetSpec): Model {
  const { accounts: n } = spec;
  if (spec.hosts < 1 || spec.hosts > HOST_NAMES.length) {
    throw new Error(`hosts must be between 1 and ${HOST_NAMES.length}`);
  }
  if (n > 4_000_000) throw new Error('at most 4 000 000 accounts');
  const hostNames = HOST_NAMES.slice(0, spec.hosts);
  const m: Model = {
    n,
    hostNames,
    ipHost: spec.hosts > 1 ? 1 : 0,
    componentHost: `conference.${hostNames[0] as string}`,
    rooms: Math.max(3, Math.round(n / 2000)),
    host: new Uint8Array(n),
    flags: new Uint8Array(n),
    login: new Uint32Array(n),
    logout: new Uint32Array(n),
    registered: new Uint32Array(n),
    activity: new Uint32Array(n),
    nameSeed: new Uint32Array(n),
    ipSeed: new Uint32Array(n),
  };
  // Host weights 1, 1/2, 1/3, …: one big host and smaller ones.
  const weights = hostNames.map((_, h) => 1 / (h + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  const cumulative = weights.map(
    (_, h) => weights.slice(0, h + 1).reduce((a, b) => a + b, 0) / total,
  );
  const rng = new Prng(spec.seed);
  const accountRng = new Prng(spec.seed ^ 0xacc7);
  for (let i = 0; i < n; i++) {
    const r = rng.next();
    let h = 0;
    while (r >= (cumulative[h] as number) && h < hostNames.length - 1) h++;
    m.host[i] = h;
    m.nameSeed[i] = rng.u32();
    // Ages over a year, many recent: P(age < 1 d) ≈ 14 %, < 7 d ≈ 27 %, < 30 d ≈ 43 %.
    const last = BENCH_NOW - Math.floor(365 * DAY * rng.next() ** 3);
    const kind = rng.next();
    let flags = 0;
    if (kind < 0.7) {
      // Logged in, then out.
      flags = LOGIN | LOGOUT;
      m.logout[i] = last;
      m.login[i] = last - Math.min(Math.floor(rng.exponential(3600)), 12 * 3600);
    } else if (kind < 0.82) {
      // Logged in: the session is still open, or ended in a crash.
      flags = LOGIN;
      m.login[i] = last;
    } else if (kind < 0.85) {
      // lastlog2 was loaded mid-session: only a logout.
      flags = LOGOUT;
      m.logout[i] = last;
    } else if (kind < 0.95) {
      // Registered in-band, then used.
      flags = REGISTERED | LOGIN | LOGOUT;
      m.logout[i] = last;
      m.login[i] = last - Math.min(Math.floor(rng.exponential(1800)), 6 * 3600);
      m.registered[i] = rng.chance(0.3)
        ? (m.login[i] as number) - rng.int(600)
        : Math.max(
            (m.login[i] as number) - Math.floor(rng.exponential(200 * DAY)),
            BENCH_NOW - 5 * 365 * DAY,
          );
    } else {
      // Registered, never seen since.
      flags = REGISTERED;
      m.registered[i] = BENCH_NOW - Math.floor(400 * DAY * rng.next() ** 2);
    }
    if ((flags & (LOGIN | LOGOUT)) !== 0 && last >= PROSODY13_SINCE) {
      flags |= ACTIVITY;
      m.activity[i] = last;
    }
    if (h === m.ipHost && spec.hosts > 1) {
      flags |= IP;
      m.ipSeed[i] = rng.u32();
    }
    const account = accountRng.next();
    if (account < 0.1) flags |= DISABLED;
    else if (account < 0.15) flags |= NO_ACCOUNT;
    m.flags[i] = flags;
  }
  return m;
}

function emptyExpected(): ExpectedCounts {
  return { dau: 0, wau: 0, mau: 0, accounts: 0, new1d: 0, new7d: 0, new30d: 0, skipped: 0 };
}

/** The figures, by mod_measure_active_users' rule (`now - t < window`), straight from the model. */
function expectedCounts(m: Model): Record<string, ExpectedCounts> {
  const out: Record<string, ExpectedCounts> = {};
  for (const h of m.hostNames) out[h] = emptyExpected();
  for (let i = 0; i < m.n; i++) {
    const c = out[m.hostNames[m.host[i] as number] as string] as ExpectedCounts;
    const f = m.flags[i] as number;
    // The data holds account_roles entries (Prosody 13): only existing, enabled accounts count.
    if (f & (DISABLED | NO_ACCOUNT)) continue;
    c.accounts++;
    let last = -1;
    if (f & LOGIN) last = Math.max(last, m.login[i] as number);
    if (f & LOGOUT) last = Math.max(last, m.logout[i] as number);
    if (f & ACTIVITY) last = Math.max(last, m.activity[i] as number);
    if (last >= 0) {
      const age = BENCH_NOW - last;
      if (age < DAY) c.dau++;
      if (age < 7 * DAY) c.wau++;
      if (age < 30 * DAY) c.mau++;
    }
    if (f & REGISTERED) {
      const age = BENCH_NOW - (m.registered[i] as number);
      if (age < DAY) c.new1d++;
      if (age < 7 * DAY) c.new7d++;
      if (age < 30 * DAY) c.new30d++;
    }
  }
  // mod_lastlog2 on the MUC component: one `message` row per room, never an account.
  out[m.componentHost] = { ...emptyExpected(), skipped: m.rooms };
  return out;
}

function lastlog2Json(m: Model, i: number, timestamp: number): string {
  return (m.flags[i] as number) & IP
    ? `{"timestamp":${timestamp},"ip":"${ipOf(m.ipSeed[i] as number)}"}`
    : `{"timestamp":${timestamp}}`;
}

// ------------------------------------------------------------------------------------------
// The order a running server writes in: every event (and archived message) by its time.

const KIND_LOGIN = 0;
const KIND_LOGOUT = 1;
const KIND_REGISTERED = 2;
const KIND_ACTIVITY = 3;
const KIND_ROOM = 4;
/** Timestamps are stored relative to this, in 28 bits (8.5 years). */
const TIME_BASE = BENCH_NOW - 2 ** 28 + 1;
const ID_BITS = 2 ** 25; // 22 bits of account, 3 of kind

/** Every row's (time, account, kind), packed into a double and sorted by time. */
function eventsInWriteOrder(m: Model, rng: Prng): Float64Array {
  let count = m.rooms;
  for (let i = 0; i < m.n; i++) {
    const f = m.flags[i] as number;
    count += (f & LOGIN ? 1 : 0) + (f & LOGOUT ? 1 : 0) + (f & REGISTERED ? 1 : 0);
    count += f & ACTIVITY ? 1 : 0;
  }
  const keys = new Float64Array(count);
  let k = 0;
  const put = (t: number, i: number, kind: number) => {
    keys[k++] = (t - TIME_BASE) * ID_BITS + i * 8 + kind;
  };
  for (let i = 0; i < m.n; i++) {
    const f = m.flags[i] as number;
    if (f & REGISTERED) put(m.registered[i] as number, i, KIND_REGISTERED);
    if (f & LOGIN) put(m.login[i] as number, i, KIND_LOGIN);
    if (f & LOGOUT) put(m.logout[i] as number, i, KIND_LOGOUT);
    if (f & ACTIVITY) put(m.activity[i] as number, i, KIND_ACTIVITY);
  }
  for (let r = 0; r < m.rooms; r++) put(BENCH_NOW - rng.int(365 * DAY), r, KIND_ROOM);
  return keys.sort();
}

// ------------------------------------------------------------------------------------------
// The message archive (mod_mam through archive_store:append()).

const WORDS = (
  'ok yes no thanks see you tomorrow tonight later lunch coffee meeting call me when are we ' +
  'going the train is late sorry running five minutes did you get my mail photo looks great ' +
  'happy birthday where is the key I will be there soon love it haha :) good night morning'
).split(' ');
const OMEMO_BODY =
  'I sent you an OMEMO encrypted message but your client doesn\u2019t seem to support that. ' +
  'Find more information on https://conversations.im/omemo';
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

class ArchiveWriter {
  private readonly pool: string;
  private readonly externalDomains = ['jabber.example', 'xmpp.example.jp', 'conversations.example'];

  constructor(
    private readonly m: Model,
    private readonly rng: Prng,
  ) {
    let pool = '';
    for (let i = 0; i < 65_536; i++) pool += BASE64[rng.u32() & 63];
    this.pool = pool;
  }

  private base64(length: number): string {
    const from = this.rng.int(this.pool.length - length);
    return this.pool.slice(from, from + length);
  }

  private hex(length: number): string {
    let s = '';
    while (s.length < length) s += this.rng.u32().toString(16).padStart(8, '0');
    return s.slice(0, length);
  }

  private uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
  }

  private text(): string {
    const words = 1 + Math.floor(this.rng.exponential(8));
    const out: string[] = [];
    for (let i = 0; i < words; i++) out.push(this.rng.pick(WORDS));
    return out.join(' ');
  }

  /** One row's values, in INSERT_ARCHIVE's order. */
  row(when: number): [string, string, string, number, string, string, string, string] {
    const { m, rng } = this;
    const i = rng.int(m.n);
    const host = m.hostNames[m.host[i] as number] as string;
    const user = userName(m, i);
    let withJid: string;
    if (rng.chance(0.8)) {
      const j = rng.int(m.n);
      withJid = `${userName(m, j)}@${m.hostNames[m.host[j] as number] as string}`;
    } else {
      withJid = `${rng.pick(FIRST)}${rng.int(10_000)}@${rng.pick(this.externalDomains)}`;
    }
    const incoming = rng.chance(0.5);
    const me = `${user}@${host}`;
    const from = incoming
      ? `${withJid}/${this.base64(8)}`
      : `${me}/Conversations.${this.base64(4)}`;
    const to = incoming ? me : withJid;
    const id = this.uuid();
    let payload: string;
    if (rng.chance(0.4)) {
      const body = this.text();
      const size = 4 * Math.ceil((body.length + 16) / 3);
      payload =
        `<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='${rng.int(2 ** 31)}'>` +
        `<key rid='${rng.int(2 ** 31)}'>${this.base64(108)}</key>` +
        `<key rid='${rng.int(2 ** 31)}'>${this.base64(108)}</key>` +
        `<iv>${this.base64(16)}</iv></header><payload>${this.base64(size)}</payload></encrypted>` +
        `<body>${OMEMO_BODY}</body><store xmlns='urn:xmpp:hints'/>` +
        `<encryption xmlns='urn:xmpp:eme:0' namespace='eu.siacs.conversations.axolotl'/>`;
    } else {
      payload = `<body>${this.text()}</body>`;
    }
    const value =
      `<message xmlns='jabber:client' type='chat' to='${to}' id='${id}' from='${from}'>` +
      `${payload}<origin-id xmlns='urn:xmpp:sid:0' id='${id}'/>` +
      `<active xmlns='http://jabber.org/protocol/chatstates'/></message>`;
    return [host, user, 'archive', when, withJid, this.uuid(), 'xml', value];
  }
}

/**
 * Roughly what one row costs on disk, table and four indexes (index pages filled to about 70 %
 * by inserts in random key order), so that a size in MB becomes a number of rows.
 */
function archiveRowCost(r: ReturnType<ArchiveWriter['row']>): number {
  const [host, user, , , withJid, key, , value] = r;
  const prefix = host.length + user.length + 7 + 8;
  const table = prefix + 8 + withJid.length + key.length + 3 + Buffer.byteLength(value) + 12;
  const indexes = 4 * prefix + key.length + withJid.length + 3 * 8;
  return table + indexes / 0.7;
}

// ------------------------------------------------------------------------------------------
// Writing.

function key(layout: Layout, spec: DatasetSpec): string {
  const archive = layout === 'sqlite' ? `-${spec.archiveMb}mb` : '';
  return `v${GENERATOR_VERSION}-${layout}-${spec.accounts}a-${spec.hosts}h${archive}-s${spec.seed}`;
}

function readManifest(dir: string): Manifest | null {
  const path = join(dir, 'manifest.json');
  if (!existsSync(path)) return null;
  return JSON.parse(readFileSync(path, 'utf8')) as Manifest;
}

function writeSqlite(m: Model, spec: DatasetSpec, file: string): Manifest['stats'] {
  const db = new Database(file);
  let prosodyRows = 0;
  let archiveRows = 0;
  try {
    // Only while generating: no journal, no fsync, a big cache. Prosody's own file keeps defaults.
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('cache_size = -1000000');
    for (const sql of PROSODY_SCHEMA) db.exec(sql);
    const insert = db.prepare(INSERT_PROSODY);
    const insertArchive = db.prepare(INSERT_ARCHIVE);
    const events = eventsInWriteOrder(m, new Prng(spec.seed ^ 0x5eed));

    // The archive: as many rows as the size asks for, spread evenly over the last year.
    const archiveRng = new Prng(spec.seed ^ 0xa2c1);
    let archiveCount = 0;
    if (spec.archiveMb > 0) {
      const sample = new ArchiveWriter(m, new Prng(spec.seed ^ 0x5a3b));
      let cost = 0;
      for (let s = 0; s < 2000; s++) cost += archiveRowCost(sample.row(0));
      archiveCount = Math.round((spec.archiveMb * 1024 * 1024) / (cost / 2000));
    }
    const archive = new ArchiveWriter(m, archiveRng);
    const archiveStart = BENCH_NOW - 365 * DAY;
    const archiveWhen = (a: number) =>
      archiveStart + Math.floor(((a + 0.5) * 365 * DAY) / archiveCount);
    let a = 0;

    db.transaction(() => {
      const hostOf = (i: number) => m.hostNames[m.host[i] as number] as string;
      // The accounts first, as when they were created; then everything written since.
      for (let i = 0; i < m.n; i++) {
        for (const [k, type, value] of accountFields(m, i)) {
          insert.run(hostOf(i), userName(m, i), 'accounts', k, type, value);
          prosodyRows++;
        }
        if (!((m.flags[i] as number) & NO_ACCOUNT)) {
          insert.run(
            hostOf(i),
            userName(m, i),
            'account_roles',
            '_default',
            'string',
            'prosody:member',
          );
          prosodyRows++;
        }
      }
      for (let e = 0; e < events.length; e++) {
        const packed = events[e] as number;
        const t = Math.floor(packed / ID_BITS) + TIME_BASE;
        const id = packed % ID_BITS;
        const kind = id % 8;
        const i = (id - kind) / 8;
        while (a < archiveCount && archiveWhen(a) <= t)
          insertArchive.run(archive.row(archiveWhen(a++)));
        switch (kind) {
          case KIND_LOGIN:
            insert.run(
              hostOf(i),
              userName(m, i),
              'lastlog2',
              'login',
              'json',
              lastlog2Json(m, i, t),
            );
            break;
          case KIND_LOGOUT:
            insert.run(
              hostOf(i),
              userName(m, i),
              'lastlog2',
              'logout',
              'json',
              lastlog2Json(m, i, t),
            );
            break;
          case KIND_REGISTERED:
            insert.run(
              hostOf(i),
              userName(m, i),
              'lastlog2',
              'registered',
              'json',
              lastlog2Json(m, i, t),
            );
            break;
          case KIND_ACTIVITY:
            insert.run(
              hostOf(i),
              userName(m, i),
              'account_activity',
              'timestamp',
              'number',
              String(t),
            );
            break;
          default:
            insert.run(
              m.componentHost,
              `room${i}`,
              'lastlog2',
              m.componentHost,
              'string',
              'message',
            );
        }
        prosodyRows++;
      }
      while (a < archiveCount) insertArchive.run(archive.row(archiveWhen(a++)));
      archiveRows = a;
    })();
    const archiveBytes =
      spec.archiveMb > 0
        ? ((
            db
              .prepare(
                "SELECT sum(pgsize) AS bytes FROM dbstat WHERE name = 'prosodyarchive' OR name LIKE 'prosodyarchive%'",
              )
              .get() as { bytes: number | null }
          ).bytes ?? 0)
        : 0;
    db.pragma('journal_mode = DELETE');
    return {
      prosodyRows,
      archiveRows,
      files: 1,
      bytes: 0,
      archiveBytes,
      generateSeconds: 0,
    };
  } finally {
    db.close();
  }
}

/**
 * An account's rows as 13.0.1's `user create` writes them (salt and keys of the right length, made
 * up), plus `disabled` for a disabled one; none for an account that is gone.
 */
function accountFields(m: Model, i: number): Array<[key: string, type: string, value: string]> {
  const f = m.flags[i] as number;
  if (f & NO_ACCOUNT) return [];
  const seed = (m.nameSeed[i] as number).toString(16).padStart(8, '0');
  const created = String(BENCH_NOW - 400 * DAY + ((m.nameSeed[i] as number) % (300 * DAY)));
  const rows: Array<[string, string, string]> = [
    ['created', 'number', created],
    ['updated', 'number', created],
    ['salt', 'string', `${seed}-0000-4000-8000-${seed}0000`],
    ['stored_key', 'string', seed.repeat(5)],
    ['server_key', 'string', seed.split('').reverse().join('').repeat(5)],
    ['iteration_count', 'number', '10000'],
  ];
  if (f & DISABLED) rows.push(['disabled', 'boolean', 'true']);
  return rows;
}

async function writeInternal(m: Model, dataDir: string): Promise<Manifest['stats']> {
  const storeDir = (host: string, store: string) => join(dataDir, encodeProsodyName(host), store);
  for (const host of [...m.hostNames, m.componentHost]) {
    for (const store of ['lastlog2', 'account_activity', 'accounts', 'account_roles']) {
      await mkdir(storeDir(host, store), { recursive: true, mode: 0o750 });
    }
  }
  let files = 0;
  let bytes = 0;
  // Synchronous calls, one open/write/futimes/close a file: at a million accounts (over 3 M files)
  // the promise of each async call cost more than the disk did.
  const write = (path: string, text: string, mtime: number) => {
    const fd = openSync(path, 'w', 0o640);
    try {
      writeSync(fd, text);
      futimesSync(fd, mtime, mtime);
    } finally {
      closeSync(fd);
    }
    files++;
    bytes += Buffer.byteLength(text);
  };
  for (let i = 0; i < m.n; i++) {
    const f = m.flags[i] as number;
    const host = m.hostNames[m.host[i] as number] as string;
    const file = `${encodeProsodyName(userName(m, i))}.dat`;
    if (f & (LOGIN | LOGOUT | REGISTERED)) {
      const table: LuaTable = {};
      let newest = 0;
      const event = (name: string, t: number) => {
        table[name] = f & IP ? { timestamp: t, ip: ipOf(m.ipSeed[i] as number) } : { timestamp: t };
        newest = Math.max(newest, t);
      };
      if (f & LOGIN) event('login', m.login[i] as number);
      if (f & LOGOUT) event('logout', m.logout[i] as number);
      if (f & REGISTERED) event('registered', m.registered[i] as number);
      write(join(storeDir(host, 'lastlog2'), file), datFileContent(table), newest);
    }
    const account = accountFields(m, i);
    if (account.length > 0) {
      const table: LuaTable = {};
      for (const [k, type, value] of account) {
        table[k] =
          type === 'number' ? Number(value) : type === 'boolean' ? value === 'true' : value;
      }
      const created = Number(account[0]![2]);
      write(join(storeDir(host, 'accounts'), file), datFileContent(table), created);
      write(
        join(storeDir(host, 'account_roles'), file),
        datFileContent({ _default: 'prosody:member' }),
        created,
      );
    }
    if (f & ACTIVITY) {
      const t = m.activity[i] as number;
      write(join(storeDir(host, 'account_activity'), file), datFileContent({ timestamp: t }), t);
    }
  }
  for (let r = 0; r < m.rooms; r++) {
    write(
      join(storeDir(m.componentHost, 'lastlog2'), `room${r}.dat`),
      datFileContent({ [m.componentHost]: 'message' }),
      BENCH_NOW - 3600 * r,
    );
  }
  return { prosodyRows: 0, archiveRows: 0, files, bytes, archiveBytes: 0, generateSeconds: 0 };
}

/** Half-written folders of runs that were stopped (their process is gone): up to GBs each. */
function removeAbandoned(root: string, name: string): void {
  for (const entry of readdirSync(root)) {
    const m = /\.tmp-(\d+)$/.exec(entry);
    if (!m || !entry.startsWith(`${name}.tmp-`)) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch {
      rmSync(join(root, entry), { recursive: true, force: true });
    }
  }
}

export interface EnsureOptions {
  root?: string;
  /** Called with a line of progress for a person watching. */
  log?: (line: string) => void;
}

/**
 * Dates every folder below `dataDir` (hosts and stores, not files) at `when`, as on a server where
 * no account was made or removed lately: the files are dated by their newest event, and a folder
 * made minutes before a run would make its "nothing changed" refresh list every file again (the
 * stream looks ten minutes back, and a folder is trusted only a minute after its mtime).
 */
function dateFolders(dataDir: string, when: number): void {
  const walk = (dir: string, depth: number) => {
    if (depth < 2) {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(dir, e.name), depth + 1);
      }
    }
    utimesSync(dir, when, when);
  };
  walk(dataDir, 0);
}

/** The dataset for these parameters: reused from the cache when there, generated otherwise. */
export async function ensureDataset(
  layout: Layout,
  spec: DatasetSpec,
  options: EnsureOptions = {},
): Promise<Manifest> {
  const root = options.root ?? DEFAULT_DATA_ROOT;
  const dir = join(root, key(layout, spec));
  const cached = readManifest(dir);
  if (cached) {
    // Sets cached by an older bench have folders dated when they were made.
    if (layout === 'internal') dateFolders(cached.path, BENCH_NOW);
    return cached;
  }
  mkdirSync(root, { recursive: true });
  removeAbandoned(root, key(layout, spec));
  const work = `${dir}.tmp-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  options.log?.(
    `generating ${layout} data: ${spec.accounts} accounts, ${spec.hosts} hosts` +
      (layout === 'sqlite' ? `, ${spec.archiveMb} MB archive` : '') +
      ` (cached in ${dir})`,
  );
  const started = process.hrtime.bigint();
  const model = buildModel(spec);
  const target = layout === 'sqlite' ? 'prosody.sqlite' : 'data';
  let stats: Manifest['stats'];
  if (layout === 'sqlite') {
    stats = writeSqlite(model, spec, join(work, target));
    stats.bytes = statSync(join(work, target)).size;
  } else {
    stats = await writeInternal(model, join(work, target));
    dateFolders(join(work, target), BENCH_NOW);
  }
  stats.generateSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const manifest: Manifest = {
    generator: GENERATOR_VERSION,
    layout,
    spec,
    now: BENCH_NOW,
    path: join(dir, target),
    expected: expectedCounts(model),
    stats,
  };
  // Complete or absent: the folder gets its final name only once everything is written.
  writeFileSync(join(work, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  rmSync(dir, { recursive: true, force: true });
  renameSync(work, dir);
  options.log?.(`  done in ${stats.generateSeconds.toFixed(1)} s`);
  return manifest;
}

/** "10k", "1M", "250000" → a number. */
export function parseCount(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(text.trim());
  if (!m) throw new Error(`not a count: ${text}`);
  const unit = (m[2] ?? '').toLowerCase();
  return Math.round(Number(m[1]) * (unit === 'k' ? 1e3 : unit === 'm' ? 1e6 : 1));
}

async function main(argv: string[]): Promise<void> {
  const arg = (name: string, fallback: string) => {
    const at = argv.indexOf(`--${name}`);
    return at >= 0 && argv[at + 1] !== undefined ? (argv[at + 1] as string) : fallback;
  };
  const layout = arg('layout', 'sqlite');
  if (layout !== 'sqlite' && layout !== 'internal') throw new Error('--layout sqlite|internal');
  const manifest = await ensureDataset(
    layout,
    {
      accounts: parseCount(arg('accounts', '10k')),
      hosts: Number(arg('hosts', '3')),
      archiveMb: Number(arg('archive-mb', '0')),
      seed: Number(arg('seed', '1')),
    },
    { log: (line) => process.stderr.write(line + '\n') },
  );
  process.stdout.write(JSON.stringify(manifest, null, 2) + '\n');
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  });
}
