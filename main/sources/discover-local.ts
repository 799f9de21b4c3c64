import { access } from 'node:fs/promises';
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

const localDiscoveryFs: DiscoveryFs = {
  ...localStorageFs,
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
  );
}
