import { type ActivitySource, type SourcedReport, countSources } from '../core/activity-source.js';
import type { TallyOptions } from '../core/count-active.js';
import { type Result, fail, ok } from '../core/failure.js';
import type { LiveProbe } from '../core/live-snapshot.js';
import { specialFileFailure } from '../config/regular-file.js';
import type { SshOptions } from '../ssh/ssh-options.js';
import type { SqlServerTarget } from '../sources/sql-server-target.js';

/** Sources to count from, and how to let go of them (an SSH connection) afterwards. */
export interface OpenedSources {
  sources: ActivitySource[];
  /** The live server (online now, module health), where the connection can reach it. */
  live?: LiveProbe;
  close(): void;
}

/** Where one count reads from: the CLI's one-shot options, or a profile. */
export type SourceSpec =
  | { kind: 'ssh'; ssh: SshOptions }
  | { kind: 'db'; path: string }
  | { kind: 'data-dir'; path: string }
  /** `configGiven`: named by the user, so that a config that cannot be read is an error. */
  | { kind: 'discover'; config: string; configGiven?: boolean }
  /** A PostgreSQL or MySQL/MariaDB database reached from this machine (`--sql`, no password). */
  | { kind: 'sql'; sql: Omit<SqlServerTarget, 'password'> };

/** The adapters that build sources; the composition root supplies the real ones. */
export interface SourceDeps {
  sqliteSource(path: string): ActivitySource;
  internalSource(dir: string): ActivitySource;
  discoverSources(configPath: string, configGiven?: boolean): Promise<Result<ActivitySource[]>>;
  /** The database server source, its password found by the adapter (environment, keychain). */
  sqlServerSource?(target: Omit<SqlServerTarget, 'password'>): ActivitySource;
  sshSources(
    options: SshOptions,
    onStep: (step: string) => void,
    onProgress: (text: string) => void,
  ): Promise<Result<OpenedSources>>;
}

const nothingToClose = () => undefined;

/** The same spec, with SSH sources keeping their account cache in `cacheFile`. */
export function withAccountCache(spec: SourceSpec, cacheFile: string): SourceSpec {
  return spec.kind === 'ssh' ? { ...spec, ssh: { ...spec.ssh, cacheFile } } : spec;
}

export async function openSources(
  spec: SourceSpec,
  deps: SourceDeps,
  onStep: (step: string) => void,
  onProgress: (text: string) => void,
): Promise<Result<OpenedSources>> {
  switch (spec.kind) {
    case 'ssh':
      return deps.sshSources(spec.ssh, onStep, onProgress);
    case 'db': {
      // SQLite's open of a FIFO waits for a writer forever: only a regular file is opened.
      const special = specialFileFailure(spec.path, 'Prosody SQLite database');
      if (special) return fail(special);
      return ok({ sources: [deps.sqliteSource(spec.path)], close: nothingToClose });
    }
    case 'data-dir':
      return ok({ sources: [deps.internalSource(spec.path)], close: nothingToClose });
    case 'sql':
      return deps.sqlServerSource
        ? ok({ sources: [deps.sqlServerSource(spec.sql)], close: nothingToClose })
        : fail({ kind: 'unsupported-storage', detail: 'this build cannot read database servers' });
    case 'discover': {
      const found = await deps.discoverSources(spec.config, spec.configGiven ?? false);
      return found.ok ? ok({ sources: found.value, close: nothingToClose }) : found;
    }
  }
}

/** Opens the sources, counts as of `now`, and lets go of them, whatever happened. */
export async function countOnce(
  spec: SourceSpec,
  deps: SourceDeps,
  now: number,
  onStep: (step: string) => void,
  onProgress: (text: string) => void,
  options: TallyOptions = {},
): Promise<Result<SourcedReport>> {
  const opened = await openSources(spec, deps, onStep, onProgress);
  if (!opened.ok) return opened;
  try {
    // Open sessions first: the records are then at least as new as the sessions counted with them.
    // Sessions open now say nothing about a past moment: the live server is not asked then.
    const live = options.pastMoment ? undefined : await opened.value.live?.probe();
    return await countSources(opened.value.sources, now, live, options);
  } finally {
    opened.value.close();
  }
}
