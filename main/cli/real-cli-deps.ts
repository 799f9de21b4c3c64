import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { stateDir } from '../config/state-dir.js';
import { stateFolderWarning } from '../config/state-folder-check.js';
import { openProfilesStore } from '../config/profiles-store.js';
import type { Notifier } from '../notify/notifier.js';
import { DB_MAX_BYTES, DB_STEP_SECONDS, discoverLocalSources } from '../sources/discover-local.js';
import { SqlServerSource } from '../sources/sql-server-source.js';
import { DB_PASSWORD_ENV } from '../ssh/ssh-options.js';
import { InternalStorageSource } from '../sources/internal-storage-source.js';
import { SqliteSource } from '../sources/sqlite-source.js';
import { HistoryDb } from '../store/history-db.js';
import { openSshSources } from '../monitor/open-ssh-sources.js';
import { promptHidden } from './prompt-hidden.js';
import type { CliDeps } from './run-cli.js';

/** The nearest package.json above this file: dist/main/ when built, main/ when run from source. */
function packageVersion(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** The database password for --sql, never from argv. */
function passwordFromEnv(env: NodeJS.ProcessEnv): { password?: string } {
  const password = env[DB_PASSWORD_ENV];
  return password === undefined ? {} : { password };
}

/** Resolves on the first Ctrl-C or SIGTERM; a second one ends the process at once. */
function untilStopped(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      process.once('SIGINT', () => process.exit(130));
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/**
 * The desktop notifier, loaded on the first notification: node-notifier takes about 50 ms to load,
 * which every one-shot count would pay and only `watch` with alerts uses.
 */
function lazyDesktopNotifier(): Notifier {
  let notifier: Promise<Notifier> | undefined;
  return {
    notify: async (n) => {
      notifier ??= import('../notify/desktop-notifier.js').then((m) => new m.DesktopNotifier());
      return (await notifier).notify(n);
    },
  };
}

/** The CLI's composition root: every real adapter, built once. */
export function realCliDeps(): CliDeps {
  return {
    version: packageVersion(),
    now: () => Math.floor(Date.now() / 1000),
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    stdoutDrained: () =>
      process.stdout.writableNeedDrain
        ? new Promise<void>((resolve) => process.stdout.once('drain', resolve))
        : undefined,
    stderrIsTTY: process.stderr.isTTY === true,
    sqliteSource: (path) => new SqliteSource(path),
    internalSource: (dir) => new InternalStorageSource(dir),
    discoverSources: (config, given) => discoverLocalSources(config, undefined, given),
    sqlServerSource: (target) =>
      new SqlServerSource(
        { ...target, ...passwordFromEnv(process.env) },
        { seconds: DB_STEP_SECONDS, maxBytes: DB_MAX_BYTES, includeHost: () => true },
      ),
    sshSources: (options, onStep, onProgress) =>
      openSshSources(options, onStep, onProgress, {
        home: homedir(),
        localUser: userInfo().username,
        env: process.env,
        platform: process.platform,
        prompt: promptHidden,
      }),
    clock: { now: () => Date.now(), setTimeout, clearTimeout },
    localMinuteOfDay: (ms) => {
      const d = new Date(ms);
      return d.getHours() * 60 + d.getMinutes();
    },
    stateDir: (override) =>
      stateDir({ env: process.env, platform: process.platform, home: homedir(), override }),
    loadSettings: (dir) => openProfilesStore(dir).load(),
    openHistory: (path) => {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      return HistoryDb.open(path);
    },
    readHistory: (path) => HistoryDb.openReadOnly(path),
    stateFolderWarning: (dir) => stateFolderWarning(dir, process.platform),
    notifier: lazyDesktopNotifier(),
    untilStopped,
  };
}
