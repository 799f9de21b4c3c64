/**
 * The sources the app counts from: the CLI's adapters, except that SSH secrets come from the
 * SecretStore (per profile) instead of environment variables or a terminal prompt, which a desktop
 * app has neither of.
 */
import type { ActivitySource } from '../core/activity-source.js';
import { type Failure, type Result, ok } from '../core/failure.js';
import {
  DB_PASSWORD_ENV,
  PASSPHRASE_ENV,
  PASSWORD_ENV,
  type SshOptions,
} from '../ssh/ssh-options.js';
import { DB_MAX_BYTES, DB_STEP_SECONDS } from '../sources/discover-local.js';
import { SqlServerSource } from '../sources/sql-server-source.js';
import { type SqlServerTarget, describeTarget } from '../sources/sql-server-target.js';
import { openSshSources } from '../monitor/open-ssh-sources.js';
import type { OpenedSources, SourceDeps } from '../monitor/open-sources.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { discoverLocalSources } from '../sources/discover-local.js';
import { InternalStorageSource } from '../sources/internal-storage-source.js';
import { SqliteSource } from '../sources/sqlite-source.js';

/** A profile's secrets, asked for only when a key or the server needs one. */
export interface SshSecrets {
  password(): Promise<string | null>;
  passphrase(keyPath: string): Promise<string | null>;
  /** The password of the profile's PostgreSQL or MySQL/MariaDB database (`sql`). */
  dbPassword?(): Promise<string | null>;
}

/** SourceDeps whose SSH adapter is told where this profile's secrets are. */
export interface AppSourceDeps extends Omit<SourceDeps, 'sshSources' | 'sqlServerSource'> {
  sqlServerSource(target: Omit<SqlServerTarget, 'password'>, secrets: SshSecrets): ActivitySource;
  sshSources(
    options: SshOptions,
    secrets: SshSecrets,
    onStep: (step: string) => void,
    onProgress: (text: string) => void,
  ): Promise<Result<OpenedSources>>;
}

export interface AppSshEnvironment {
  home: string;
  localUser: string;
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
}

/** open-ssh-sources.ts asks `Passphrase for PATH: ` for a key and `USER@HOST's password: ` otherwise. */
const PASSPHRASE_QUESTION = /^Passphrase for (.*): $/;

/** The real adapters, for the composition root. */
export function realAppSourceDeps(environment: AppSshEnvironment): AppSourceDeps {
  // The CLI's variables would hold one secret for every profile: the app keeps them per profile.
  const env = { ...environment.env };
  delete env[PASSWORD_ENV];
  delete env[PASSPHRASE_ENV];
  delete env[DB_PASSWORD_ENV];
  return {
    sqlServerSource: (target, secrets) => passwordFirst(target, secrets),
    sqliteSource: (path) => new SqliteSource(path),
    internalSource: (dir) => new InternalStorageSource(dir),
    discoverSources: (config) => discoverLocalSources(config),
    sshSources: (options, secrets, onStep, onProgress) =>
      openSshSources(options, onStep, onProgress, {
        home: environment.home,
        localUser: environment.localUser,
        env,
        platform: environment.platform,
        dbPassword: () => secrets.dbPassword?.() ?? Promise.resolve(null),
        prompt: (question) => {
          const key = PASSPHRASE_QUESTION.exec(question);
          return key ? secrets.passphrase(key[1] ?? '') : secrets.password();
        },
      }),
  };
}

/** A database server source whose password is read from the secret store when it is fed. */
function passwordFirst(
  target: Omit<SqlServerTarget, 'password'>,
  secrets: SshSecrets,
): ActivitySource {
  const label = describeTarget({ ...target, password: '' });
  return {
    label,
    async feed(tally) {
      const password = (await secrets.dbPassword?.()) ?? null;
      return new SqlServerSource(password === null ? target : { ...target, password }, {
        seconds: DB_STEP_SECONDS,
        maxBytes: DB_MAX_BYTES,
        includeHost: () => true,
      }).feed(tally);
    },
  };
}

/** A profile's secrets in the store. */
export function storedSecrets(store: SecretStore, profile: string): SshSecrets {
  return {
    password: () => store.get(profile, 'password'),
    passphrase: () => store.get(profile, 'passphrase'),
    dbPassword: () => store.get(profile, 'db-password'),
  };
}

/**
 * The SourceDeps the monitor (and Test connection) use for one profile: its secrets bound in, and
 * every failure a source reports passed to `onFailure` (the monitor keeps only a failure's sentence;
 * the window wants its kind and fields to say what to do in the app's words).
 */
export function profileSourceDeps(
  app: AppSourceDeps,
  secrets: SshSecrets,
  onFailure: (failure: Failure) => void,
): SourceDeps {
  const watched = (source: ActivitySource): ActivitySource => ({
    get label() {
      return source.label;
    },
    async feed(tally) {
      const fed = await source.feed(tally);
      if (!fed.ok) onFailure(fed.failure);
      return fed;
    },
  });
  return {
    sqliteSource: (path) => watched(app.sqliteSource(path)),
    internalSource: (dir) => watched(app.internalSource(dir)),
    sqlServerSource: (target) => watched(app.sqlServerSource(target, secrets)),
    async discoverSources(config) {
      const found = await app.discoverSources(config);
      if (!found.ok) {
        onFailure(found.failure);
        return found;
      }
      return ok(found.value.map(watched));
    },
    async sshSources(options, onStep, onProgress) {
      const opened = await app.sshSources(options, secrets, onStep, onProgress);
      if (!opened.ok) {
        onFailure(opened.failure);
        return opened;
      }
      return ok({ sources: opened.value.sources.map(watched), close: opened.value.close });
    },
  };
}
