import { access } from 'node:fs/promises';
import type { ActivitySource } from '../core/activity-source.js';
import type { Result } from '../core/failure.js';
import { DEFAULT_DATA_PATH, type DiscoveryFs, discoverSources } from './discover-sources.js';
import { InternalStorageSource } from './internal-storage-source.js';
import { localStorageFs } from './local-storage-fs.js';
import { SqliteSource } from './sqlite-source.js';

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
    },
    configPath,
    defaultDataPath,
  );
}
