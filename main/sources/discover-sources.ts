import { posix } from 'node:path';
import type { ActivitySource } from '../core/activity-source.js';
import { type Failure, type Result, fail, ok } from '../core/failure.js';
import type { HostFacts } from '../core/account-rule.js';
import { type KnownFacts, withHostFacts } from './host-facts-source.js';
import {
  type ProsodyConfigFacts,
  activityStorage,
  parseProsodyConfig,
  ruleConfig,
} from './prosody-config-parser.js';
import type { StorageFs } from './storage-fs.js';
import { type SqlServerTarget, describeTarget, targetFromProsodySql } from './sql-server-target.js';

/** Where Debian's and most distributions' packages keep Prosody's config and data. */
export const DEFAULT_PROSODY_CONFIG = '/etc/prosody/prosody.cfg.lua';
export const DEFAULT_DATA_PATH = '/var/lib/prosody';

/** Prosody's config files are a few KB; a cap keeps a wrong path from filling memory. */
const MAX_CONFIG_BYTES = 1024 * 1024;

const ACTIVITY_STORES = ['lastlog2'] as const;

/**
 * Where packaged (Debian, Ubuntu) and source installs keep the file that holds Prosody's version.
 * On a machine with more than one install the first found is taken; account_roles entries in the
 * data still tell Prosody 13 (see core/account-rule.ts).
 */
export const PROSODY_VERSION_FILES = [
  '/usr/lib/prosody/prosody.version',
  '/usr/local/lib/prosody/prosody.version',
];

/** The installed Prosody's version, or undefined; only a short, plain version string is taken. */
async function readVersion(fs: DiscoveryFs): Promise<string | undefined> {
  for (const path of PROSODY_VERSION_FILES) {
    try {
      const file = await fs.readCapped(path, 256);
      const text = file && 'text' in file ? file.text.trim() : '';
      if (/^[0-9A-Za-z.+~-]{1,40}$/.test(text)) return text;
    } catch {
      // Not readable: try the next, then go by the config and the data.
    }
  }
  return undefined;
}

/** What the config and the version say about every host's counting rule. */
function knownFacts(facts: ProsodyConfigFacts | null, version: string | undefined): KnownFacts {
  const known: Array<[string | null, HostFacts]> = [];
  const server: HostFacts = version === undefined ? {} : { version };
  if (facts === null) return version === undefined ? [] : [[null, server]];
  known.push([null, { ...server, ...ruleConfig(facts, null) }]);
  for (const h of facts.hosts) if (!h.component) known.push([h.name, ruleConfig(facts, h.name)]);
  return known;
}

export interface DiscoveryFs extends StorageFs {
  exists(path: string): Promise<boolean>;
}

/** Builds the sources for what discovery finds, locally or over SSH. */
export interface SourceFactory {
  sqlite(path: string, includeHost: (host: string) => boolean): ActivitySource;
  internal(dataPath: string, includeHost: (host: string) => boolean): ActivitySource;
  /** A PostgreSQL or MySQL/MariaDB server; absent where this way of reading cannot reach one. */
  sqlServer?(target: SqlServerTarget, includeHost: (host: string) => boolean): ActivitySource;
}

/** The user libpq and libmysqlclient log in as when sql = { … } names none: Prosody's own. */
const PROSODY_OS_USER = 'prosody';

type Backend =
  | { kind: 'internal' }
  | { kind: 'sqlite'; path: string }
  | { kind: 'sql-server'; target: SqlServerTarget; key: string }
  | { kind: 'bad-sql'; failure: Failure }
  | { kind: 'other'; name: string };

/** The config's facts; or null, with what kept it from being read unless it is simply absent. */
type ConfigRead = { facts: ProsodyConfigFacts } | { facts: null; problem?: string };

async function readConfig(fs: DiscoveryFs, path: string): Promise<ConfigRead> {
  let file;
  try {
    file = await fs.readCapped(path, MAX_CONFIG_BYTES);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return { facts: null };
    if (err.code === 'ESPECIALFILE') return { facts: null, problem: err.message };
    return { facts: null, problem: `cannot be read: ${err.code ?? err.message}` };
  }
  if (file === null) return { facts: null };
  if ('tooLarge' in file) {
    return { facts: null, problem: `is larger than ${MAX_CONFIG_BYTES} bytes, which no config is` };
  }
  if ('unreadable' in file) return { facts: null, problem: `cannot be read: ${file.unreadable}` };
  const facts = parseProsodyConfig(file.text);
  // Prosody would not load it either, so what was read of it cannot be trusted to be in use.
  if (facts.unreadable) {
    const { line, reason } = facts.unreadable;
    return { facts: null, problem: `cannot be parsed: line ${line}: ${reason}` };
  }
  return { facts };
}

/** A source that also leaves a notice in the report. */
function withNotice(source: ActivitySource, notice: string): ActivitySource {
  return {
    label: source.label,
    feed(tally) {
      tally.notices.push(notice);
      return source.feed(tally);
    },
  };
}

function backendsOf(facts: ProsodyConfigFacts, host: string | null, dataPath: string): Backend[] {
  return ACTIVITY_STORES.map((store): Backend => {
    const s = activityStorage(facts, host, store);
    if (s.backend === 'internal') return { kind: 'internal' };
    if (s.backend === 'other') return { kind: 'other', name: s.name };
    if (s.sql !== undefined && typeof s.sql.driver !== 'string') {
      const bad = targetFromProsodySql(s.sql, PROSODY_OS_USER);
      if (!bad.ok) return { kind: 'bad-sql', failure: bad.failure };
    }
    if (s.driver === 'PostgreSQL' || s.driver === 'MySQL') {
      const t = targetFromProsodySql(s.sql ?? {}, PROSODY_OS_USER);
      if (!t.ok) return { kind: 'bad-sql', failure: t.failure };
      return {
        kind: 'sql-server',
        target: t.value,
        key: `${describeTarget(t.value)} ${t.value.password ?? ''}`,
      };
    }
    if (s.driver !== 'SQLite3') return { kind: 'other', name: `sql (${s.driver})` };
    return { kind: 'sqlite', path: posix.resolve(dataPath, s.database) };
  });
}

/** True when some `<data>/<host>/lastlog2` folder exists (account_activity alone never counts). */
async function hasInternalActivity(fs: DiscoveryFs, dataPath: string): Promise<boolean> {
  let entries;
  try {
    entries = await fs.list(dataPath);
  } catch {
    return false;
  }
  for (const e of entries ?? []) {
    if (!e.isDir) continue;
    for (const store of ACTIVITY_STORES) {
      if (await fs.exists(fs.join(dataPath, e.name, store))) return true;
    }
  }
  return false;
}

/**
 * Finds Prosody's activity data the way Prosody does: data_path and storage/sql from its config
 * when readable, else the default data path.
 */
export async function discoverSources(
  fs: DiscoveryFs,
  factory: SourceFactory,
  configPath: string,
  defaultDataPath = DEFAULT_DATA_PATH,
  /**
   * True when the user named the config (--config): one that cannot be read is then an error,
   * since the data found without it may not be what they meant. A config found by default that
   * cannot be read leaves a notice and Prosody's defaults apply.
   */
  configGiven = false,
): Promise<Result<ActivitySource[]>> {
  const read = await readConfig(fs, configPath);
  const facts = read.facts;
  const problem = read.facts === null ? read.problem : undefined;
  if (problem !== undefined && configGiven) {
    return fail({ kind: 'prosody-config', path: configPath, detail: problem });
  }
  if (read.facts === null && read.problem === undefined && configGiven) {
    return fail({ kind: 'prosody-config', path: configPath, detail: 'no such file' });
  }
  const known = knownFacts(facts, await readVersion(fs));
  const found = (sources: ActivitySource[]): Result<ActivitySource[]> => {
    const shown = sources.map((s) => withHostFacts(s, known));
    if (problem !== undefined && shown[0] !== undefined) {
      shown[0] = withNotice(
        shown[0],
        `Prosody's config ${configPath} ${problem}; read as if there were none, from ${dataPath}.`,
      );
    }
    return ok(shown);
  };
  const looked: string[] = [facts ? configPath : `${configPath} (not readable)`];
  const dataPath =
    facts?.dataPath === undefined
      ? defaultDataPath
      : posix.resolve(posix.dirname(configPath), facts.dataPath);
  const everyHost = () => true;

  if (!facts) {
    const sources: ActivitySource[] = [];
    const db = fs.join(dataPath, 'prosody.sqlite');
    looked.push(db, dataPath);
    if (await fs.exists(db)) sources.push(factory.sqlite(db, everyHost));
    if (await hasInternalActivity(fs, dataPath))
      sources.push(factory.internal(dataPath, everyHost));
    return sources.length > 0 ? found(sources) : fail({ kind: 'no-prosody-data', looked });
  }

  const global = backendsOf(facts, null, dataPath);
  const perHost = new Map(facts.hosts.map((h) => [h.name, backendsOf(facts, h.name, dataPath)]));
  const backendsFor = (host: string): Backend[] => perHost.get(host) ?? global;
  const all = [global, ...perHost.values()].flat();

  const badSql = all.find((b): b is Extract<Backend, { kind: 'bad-sql' }> => b.kind === 'bad-sql');
  if (badSql) return fail(badSql.failure);
  const sources: ActivitySource[] = [];
  const servers = new Map<string, SqlServerTarget>();
  for (const b of all) if (b.kind === 'sql-server') servers.set(b.key, b.target);
  for (const [key, target] of servers) {
    if (factory.sqlServer === undefined) {
      return fail({
        kind: 'unsupported-storage',
        detail: `Prosody keeps its activity records in ${describeTarget(target)}, which this way of reading cannot reach`,
      });
    }
    const mine = (host: string): boolean =>
      backendsFor(host).some((b) => b.kind === 'sql-server' && b.key === key);
    sources.push(factory.sqlServer(target, mine));
  }
  const sqlitePaths = [...new Set(all.flatMap((b) => (b.kind === 'sqlite' ? [b.path] : [])))];
  for (const path of sqlitePaths) {
    looked.push(path);
    if (!(await fs.exists(path))) continue;
    const mine = (host: string): boolean =>
      backendsFor(host).some((b) => b.kind === 'sqlite' && b.path === path);
    sources.push(factory.sqlite(path, mine));
  }
  if (all.some((b) => b.kind === 'internal')) {
    looked.push(dataPath);
    const mine = (host: string): boolean => backendsFor(host).some((b) => b.kind === 'internal');
    if (await hasInternalActivity(fs, dataPath)) sources.push(factory.internal(dataPath, mine));
  }
  if (sources.length > 0) return found(sources);
  const other = all.find((b): b is Extract<Backend, { kind: 'other' }> => b.kind === 'other');
  if (other) {
    return fail({
      kind: 'unsupported-storage',
      detail: `Prosody keeps its activity records in ${other.name} storage, which this tool cannot read yet`,
    });
  }
  return fail({ kind: 'no-prosody-data', looked });
}
