import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { ActivitySource } from '../core/activity-source.js';
import { type Result, fail, ok } from '../core/failure.js';
import { InternalStorageSource } from './internal-storage-source.js';
import {
  type ProsodyConfigFacts,
  activityStorage,
  parseProsodyConfig,
} from './prosody-config-parser.js';
import { SqliteSource } from './sqlite-source.js';

/** Where Debian's and most distributions' packages keep Prosody's data. */
export const DEFAULT_DATA_PATH = '/var/lib/prosody';

const ACTIVITY_STORES = ['lastlog2', 'account_activity'] as const;

type Backend =
  { kind: 'internal' } | { kind: 'sqlite'; path: string } | { kind: 'other'; name: string };

function readConfig(path: string): ProsodyConfigFacts | null {
  try {
    return parseProsodyConfig(readFileSync(path, 'utf8'));
  } catch {
    // Not readable (absent, or not ours to read): Prosody's defaults apply, as documented.
    return null;
  }
}

function backendOf(facts: ProsodyConfigFacts, host: string | null, dataPath: string): Backend[] {
  return ACTIVITY_STORES.map((store): Backend => {
    const s = activityStorage(facts, host, store);
    if (s.backend === 'internal') return { kind: 'internal' };
    if (s.backend === 'other') return { kind: 'other', name: s.name };
    if (s.driver !== 'SQLite3') return { kind: 'other', name: `sql (${s.driver})` };
    return {
      kind: 'sqlite',
      path: isAbsolute(s.database) ? s.database : join(dataPath, s.database),
    };
  });
}

/** True when some `<data>/<host>/lastlog2` or `account_activity` folder exists. */
function hasInternalActivity(dataPath: string): boolean {
  let entries: string[];
  try {
    entries = readdirSync(dataPath);
  } catch {
    return false;
  }
  return entries.some((e) => ACTIVITY_STORES.some((store) => existsSync(join(dataPath, e, store))));
}

/**
 * Finds Prosody's activity data on this machine the way Prosody does: data_path and
 * storage/sql from its config when readable, else /var/lib/prosody.
 */
export async function discoverLocalSources(
  configPath: string,
  defaultDataPath = DEFAULT_DATA_PATH,
): Promise<Result<ActivitySource[]>> {
  const facts = readConfig(configPath);
  const looked: string[] = [facts ? configPath : `${configPath} (not readable)`];
  const dataPath =
    facts?.dataPath === undefined ? defaultDataPath : resolve(dirname(configPath), facts.dataPath);

  if (!facts) {
    const sources: ActivitySource[] = [];
    const db = join(dataPath, 'prosody.sqlite');
    looked.push(db, dataPath);
    if (existsSync(db)) sources.push(new SqliteSource(db));
    if (hasInternalActivity(dataPath)) sources.push(new InternalStorageSource(dataPath));
    return sources.length > 0 ? ok(sources) : fail({ kind: 'no-prosody-data', looked });
  }

  const hosts = facts.hosts.map((h) => h.name);
  const global = backendOf(facts, null, dataPath);
  const perHost = new Map(hosts.map((h) => [h, backendOf(facts, h, dataPath)]));
  const backendsFor = (host: string): Backend[] => perHost.get(host) ?? global;
  const all = [global, ...perHost.values()].flat();

  const sources: ActivitySource[] = [];
  const sqlitePaths = [...new Set(all.flatMap((b) => (b.kind === 'sqlite' ? [b.path] : [])))];
  for (const path of sqlitePaths) {
    looked.push(path);
    if (!existsSync(path)) continue;
    const mine = (host: string): boolean =>
      backendsFor(host).some((b) => b.kind === 'sqlite' && b.path === path);
    sources.push(new SqliteSource(path, mine));
  }
  if (all.some((b) => b.kind === 'internal')) {
    looked.push(dataPath);
    const mine = (host: string): boolean => backendsFor(host).some((b) => b.kind === 'internal');
    if (hasInternalActivity(dataPath)) sources.push(new InternalStorageSource(dataPath, mine));
  }
  if (sources.length > 0) return ok(sources);
  const other = all.find((b) => b.kind === 'other');
  if (other && other.kind === 'other') {
    return fail({
      kind: 'unsupported-storage',
      detail: `Prosody keeps its activity records in ${other.name} storage, which this tool cannot read yet`,
    });
  }
  return fail({ kind: 'no-prosody-data', looked });
}
