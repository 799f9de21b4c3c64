/**
 * An AppService on real parts in a temporary state folder: the profiles store, the history
 * database and local SQLite sources are the real ones; the secret store keeps secrets in memory (the
 * app's is Electron's safeStorage) and the notifier records what it was asked to show.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ProfilesStore, openProfilesStore } from '../../main/config/profiles-store.js';
import { type Result, fail, ok } from '../../main/core/failure.js';
import type { AppSnapshot } from '../../main/core/ipc-contract.js';
import type { Settings } from '../../main/core/profile-validation.js';
import type { Clock } from '../../main/core/scheduler.js';
import type { NotificationContent, Notifier } from '../../main/notify/notifier.js';
import type { SecretKind, SecretStore } from '../../main/secrets/secret-store.js';
import { HistoryDb } from '../../main/store/history-db.js';
import { type AppSourceDeps, realAppSourceDeps } from '../../main/app/app-sources.js';
import { type AppService, createAppService } from '../../main/app/app-service.js';

export class MemorySecretStore implements SecretStore {
  readonly secrets = new Map<string, string>();
  get(profile: string, kind: SecretKind): Promise<string | null> {
    return Promise.resolve(this.secrets.get(`${kind}:${profile}`) ?? null);
  }
  set(profile: string, kind: SecretKind, value: string): Promise<Result<void>> {
    this.secrets.set(`${kind}:${profile}`, value);
    return Promise.resolve(ok(undefined));
  }
  delete(profile: string, kind: SecretKind): Promise<Result<void>> {
    this.secrets.delete(`${kind}:${profile}`);
    return Promise.resolve(ok(undefined));
  }
}

export class RecordingNotifier implements Notifier {
  readonly shown: NotificationContent[] = [];
  notify(n: NotificationContent): Promise<Result<void>> {
    this.shown.push(n);
    return Promise.resolve(ok(undefined));
  }
}

export interface AppFixture {
  dir: string;
  service: AppService;
  history: HistoryDb;
  store: ProfilesStore;
  secrets: MemorySecretStore;
  notifier: RecordingNotifier;
  knownHostsPath: string;
  startAtLogin: { enabled: boolean; refuse: boolean };
  /** Every snapshot the service pushed. */
  snapshots: AppSnapshot[];
  /** What the service reported as unexpected (bugs): empty in every test. */
  errors: unknown[];
  close(): Promise<void>;
}

export interface AppFixtureOptions {
  clock?: Clock;
  settings?: Settings;
  secretsAvailable?: boolean;
  /** Wraps the real source adapters (to hold a refresh, for instance). */
  sources?: (real: AppSourceDeps) => AppSourceDeps;
  /** Records to put into the history before the service starts. */
  seed?: (history: HistoryDb) => void;
  dir?: string;
  /** The data folder's warning the composition root computed (main.ts). */
  stateFolderWarning?: string | null;
}

export const realClock: Clock = { now: () => Date.now(), setTimeout, clearTimeout };

export async function makeApp(options: AppFixtureOptions = {}): Promise<AppFixture> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'pau-app-'));
  const store = openProfilesStore(join(dir, 'state'));
  if (options.settings) {
    const saved = await store.save(options.settings);
    if (!saved.ok) throw new Error(JSON.stringify(saved.failure));
  }
  const opened = HistoryDb.open(join(dir, 'history.sqlite'));
  if (!opened.ok) throw new Error(JSON.stringify(opened.failure));
  const history = opened.value;
  options.seed?.(history);
  const secrets = new MemorySecretStore();
  const notifier = new RecordingNotifier();
  const startAtLogin = { enabled: false, refuse: false };
  const real = realAppSourceDeps({
    home: dir,
    localUser: 'nobody',
    env: {},
    platform: process.platform,
  });
  const knownHostsPath = join(dir, 'known_hosts');
  const errors: unknown[] = [];
  const service = createAppService({
    profiles: store,
    history,
    secrets,
    notifier,
    sources: options.sources ? options.sources(real) : real,
    clock: options.clock ?? realClock,
    localMinuteOfDay: () => 12 * 60,
    getStartAtLogin: () => startAtLogin.enabled,
    setStartAtLogin: (enabled) => {
      if (startAtLogin.refuse) {
        return fail({
          kind: 'permission-denied',
          path: join(dir, 'autostart'),
          what: 'autostart file',
        });
      }
      startAtLogin.enabled = enabled;
      return ok(undefined);
    },
    secretsAvailable: options.secretsAvailable ?? true,
    knownHostsPath,
    ...(options.stateFolderWarning === undefined
      ? {}
      : { stateFolderWarning: options.stateFolderWarning }),
    onError: (e) => errors.push(e),
  });
  const snapshots: AppSnapshot[] = [];
  service.subscribe((s) => snapshots.push(s));
  return {
    dir,
    service,
    history,
    store,
    secrets,
    notifier,
    knownHostsPath,
    startAtLogin,
    snapshots,
    errors,
    async close() {
      await service.stop();
      history.close();
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A promise and the function that settles it: to hold a refresh until the test lets it go. */
export function gate(): { wait: Promise<void>; open(): void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

/** Source adapters whose local sources wait for `until` before reading. */
export function heldSources(until: Promise<void>): (real: AppSourceDeps) => AppSourceDeps {
  return (real) => ({
    ...real,
    sqliteSource(path) {
      const source = real.sqliteSource(path);
      return {
        label: source.label,
        async feed(tally) {
          await until;
          return source.feed(tally);
        },
      };
    },
  });
}
