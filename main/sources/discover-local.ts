import { access } from 'node:fs/promises';
import { readRegularFileSync } from '../config/regular-file.js';
import type { ActivitySource } from '../core/activity-source.js';
import type { Result } from '../core/failure.js';
import { DEFAULT_DATA_PATH, type DiscoveryFs, discoverSources } from './discover-sources.js';
import { InternalStorageSource } from './internal-storage-source.js';
import { localStorageFs } from './local-storage-fs.js';
import { SqliteSource } from './sqlite-source.js';
import { SqlServerSource } from './sql-server-source.js';

/** Seconds to connect to a database server, and again for its statement. */
export const DB_STEP_SECONDS = 60;
/** The most a database server may send for one read: about 30 bytes an account, and room. */
export const DB_MAX_BYTES = 1024 ** 3;

/**
 * The config and version files are read only when regular files: a FIFO named as the config would
 * otherwise hold the read forever.
 */
async function readRegularCapped(path: string, maxBytes: number) {
  try {
    return { text: readRegularFileSync(path, maxBytes).toString('utf8') };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'EFBIG') return { tooLarge: true as const };
    throw e;
  }
}

const localDiscoveryFs: DiscoveryFs = {
  ...localStorageFs,
  readCapped: readRegularCapped,
  exists: (path) =>
    access(path).then(
      () => true,
      () => false,
    ),
};

/** Prosody's data on this machine, for the CLI run on the server itself. */
export function discoverLocalSources(
  configPath: string,
  defaultDataPath = DEFAULT_DATA_PATH,
  configGiven = false,
): Promise<Result<ActivitySource[]>> {
  return discoverSources(
    localDiscoveryFs,
    {
      sqlite: (path, includeHost) => new SqliteSource(path, includeHost),
      internal: (dataPath, includeHost) => new InternalStorageSource(dataPath, { includeHost }),
      sqlServer: (target, includeHost) =>
        new SqlServerSource(target, {
          seconds: DB_STEP_SECONDS,
          maxBytes: DB_MAX_BYTES,
          includeHost,
        }),
    },
    configPath,
    defaultDataPath,
    configGiven,
  );
}
