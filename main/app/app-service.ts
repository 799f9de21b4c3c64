/**
 * The app's logic behind the window and the tray, in plain Node (no Electron): it runs the monitor
 * for the saved profiles, turns the history into what the window shows, and answers every request
 * of the IPC contract except the event subscription, which the Electron shell wires to subscribe().
 * The window test drives this very object through the same API the preload exposes.
 */
import type { Failure, Result } from '../core/failure.js';
import type {
  AppSnapshot,
  ConnectionTestResult,
  HistoryWindowName,
  RendererApi,
  RendererSubscription,
  WindowCapability,
  SaveSettingsResult,
  SeriesPoint,
} from '../core/ipc-contract.js';
import { TOTAL_HOST } from '../core/monitor-types.js';
import {
  type Settings,
  emptySettings,
  findSettingsProblems,
  formatSettingsProblem,
  validateSettings,
  withDefaults,
} from '../core/profile-validation.js';
import { type Clock, MAX_TIMER_MS } from '../core/scheduler.js';
import type { ProfilesStore } from '../config/profiles-store.js';
import { Monitor, type MonitorProfile } from '../monitor/monitor.js';
import type { Notifier } from '../notify/notifier.js';
import type { SecretKind, SecretStore } from '../secrets/secret-store.js';
import type { HistoryDb } from '../store/history-db.js';
import { type AppSourceDeps, profileSourceDeps, storedSecrets } from './app-sources.js';
import { testConnection as runConnectionTest } from './connection-test.js';
import { describeAppFailure } from './describe-app-failure.js';
import { trustHostKey as trustKnownHost } from './host-key-trust.js';
import { monitorProfileFor } from '../monitor/profile-to-monitor.js';
import { withAccountCache } from '../monitor/open-sources.js';
import { buildProfileView } from './profile-view.js';

export interface AppServiceDeps {
  profiles: ProfilesStore;
  history: HistoryDb;
  secrets: SecretStore;
  notifier: Notifier;
  /** The CLI's source adapters, with SSH secrets taken from `secrets` (see app-sources.ts). */
  sources: AppSourceDeps;
  clock: Clock;
  /** The operator's local time of day in minutes, for quiet hours. */
  localMinuteOfDay(ms: number): number;
  getStartAtLogin(): boolean | Promise<boolean>;
  setStartAtLogin(enabled: boolean): Result<void> | Promise<Result<void>>;
  /** Secrets can be kept (Electron's safeStorage has a real backend, not its plain-text fallback). */
  secretsAvailable: boolean;
  /** known_hosts for profiles that name none: the user's ~/.ssh/known_hosts. */
  knownHostsPath: string;
  /** Where SSH sources keep their account cache, so that hourly refreshes fetch only changes. */
  accountCacheFile?: string;
  /** Other users can read the data folder (config/state-folder-check.ts), checked at start. */
  stateFolderWarning?: string | null;
  /** Caps each scheduler timer (MonitorDeps.recheckMs). */
  recheckMs?: number;
  /** Unexpected errors (bugs), to log. */
  onError?(error: unknown): void;
}

/**
 * Everything the window may ask for (but the window's own controls, which main answers), plus the
 * snapshot stream and the monitor's lifecycle.
 */
export interface AppService extends Omit<RendererApi, RendererSubscription | WindowCapability> {
  /** Called with a new snapshot after every change; returns the unsubscribe function. */
  subscribe(listener: (snapshot: AppSnapshot) => void): () => void;
  /** Loads the settings and starts monitoring every profile (each refreshes at once). */
  start(): Promise<void>;
  /** Stops the monitor, waiting for refreshes under way. The history stays open (the caller's). */
  stop(): Promise<void>;
  /** After the machine wakes from sleep: overdue refreshes run now. */
  wake(): void;
}

/** The history's state key for the pause, under a profile name no profile can have (''). */
const PAUSE_STATE = { profile: '', key: 'app.alerts-paused-until' } as const;
const HISTORY_WINDOWS: readonly HistoryWindowName[] = ['7d', '30d', '90d'];
const SECRET_KINDS: readonly SecretKind[] = ['password', 'passphrase', 'db-password'];

/** What the service keeps about one refresh cycle of a profile, besides the history. */
interface Seen {
  /** The failure a source reported during the refresh under way or just ended. */
  lastFailure: Failure | null;
  /** The app's sentence for the latest failed refresh. */
  failureMessage: { at: number; message: string } | null;
}

interface Running {
  profile: MonitorProfile;
  /** The alert pause the profile's own settings ask for. */
  ownPausedUntil: number | undefined;
  monitor: Monitor;
  seen: Seen;
}

const failed = (message: string): SaveSettingsResult => ({ ok: false, message });
const succeeded: SaveSettingsResult = { ok: true, message: null };

export function createAppService(deps: AppServiceDeps): AppService {
  const onError = deps.onError ?? ((e: unknown) => console.error(e));
  const listeners = new Set<(snapshot: AppSnapshot) => void>();
  let settings: Settings = emptySettings();
  let settingsProblem: string | null = null;
  let running: Running[] = [];
  let pausedUntil: number | null = null;
  let startAtLogin = false;
  let started = false;
  let stopped = false;
  let emitQueued = false;
  /** Fires when the pause ends, so that the window and the tray hear of it. */
  let pauseTimer: { handle: unknown } | null = null;
  /**
   * The known_hosts file of each server whose key a connection test found unknown, by host and
   * port: "Trust this key" may add the key there (a server being set up is not saved yet).
   */
  const offeredKnownHosts = new Map<string, string>();
  const hostPort = (host: string, port: number) => `${host}\u0000${port}`;
  /** Saves and restarts run one after another. */
  let queue: Promise<unknown> = Promise.resolve();

  const nowSeconds = () => Math.floor(deps.clock.now() / 1000);
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work);
    queue = run.catch(() => undefined);
    return run;
  };

  const snapshot = (): AppSnapshot => {
    const now = nowSeconds();
    return {
      profiles: settings.profiles.map((p) => {
        const r = running.find((x) => x.profile.name === p.name);
        return buildProfileView({
          name: p.name,
          staleSeconds: withDefaults(p).alerts.staleSeconds,
          history: deps.history,
          scheduler: r?.monitor.state(p.name),
          now,
          failureMessage: r?.seen.failureMessage ?? null,
        });
      }),
      firstRun: settingsProblem === null && settings.profiles.length === 0,
      alertsPausedUntil: pausedUntil !== null && pausedUntil > now ? pausedUntil : null,
      startAtLogin,
      secretsAvailable: deps.secretsAvailable,
      settingsProblem,
      stateFolderWarning: deps.stateFolderWarning ?? null,
    };
  };

  /** Several changes in one turn (a refresh ends: state, outcome) make one snapshot. */
  const emit = () => {
    if (emitQueued || listeners.size === 0) return;
    emitQueued = true;
    queueMicrotask(() => {
      emitQueued = false;
      let s: AppSnapshot;
      try {
        s = snapshot();
      } catch (e) {
        onError(e);
        return;
      }
      for (const listener of listeners) {
        try {
          listener(s);
        } catch (e) {
          onError(e);
        }
      }
    });
  };

  const armPauseEnd = () => {
    if (pauseTimer) deps.clock.clearTimeout(pauseTimer.handle);
    pauseTimer = null;
    if (pausedUntil === null || stopped) return;
    const ms = pausedUntil * 1000 - deps.clock.now();
    if (ms <= 0) return;
    // Timers hold at most MAX_TIMER_MS; a longer pause re-arms when that fires.
    pauseTimer = {
      handle: deps.clock.setTimeout(
        () => {
          pauseTimer = null;
          emit();
          armPauseEnd();
        },
        Math.min(ms + 1000, MAX_TIMER_MS),
      ),
    };
  };

  const effectivePause = (own: number | undefined): number | undefined => {
    const values = [own, pausedUntil ?? undefined].filter((v): v is number => v !== undefined);
    return values.length > 0 ? Math.max(...values) : undefined;
  };

  const loadSettings = async () => {
    const loaded = await deps.profiles.load();
    if (loaded.ok) {
      settings = loaded.value;
      settingsProblem = null;
    } else {
      settings = emptySettings();
      settingsProblem = describeAppFailure(loaded.failure);
    }
  };

  const startMonitors = () => {
    running = settings.profiles.map((p) => {
      const profile = monitorProfileFor(p, deps.knownHostsPath);
      if (deps.accountCacheFile !== undefined) {
        profile.spec = withAccountCache(profile.spec, deps.accountCacheFile);
      }
      const ownPausedUntil = profile.alerts.pausedUntil;
      const paused = effectivePause(ownPausedUntil);
      if (paused === undefined) delete profile.alerts.pausedUntil;
      else profile.alerts.pausedUntil = paused;
      const seen: Seen = { lastFailure: null, failureMessage: null };
      const monitor = new Monitor([profile], {
        clock: deps.clock,
        localMinuteOfDay: deps.localMinuteOfDay,
        history: deps.history,
        notifier: deps.notifier,
        sources: profileSourceDeps(
          deps.sources,
          storedSecrets(deps.secrets, profile.name),
          (f) => (seen.lastFailure = f),
        ),
        recheckMs: deps.recheckMs,
        onState: (_name, state) => {
          if (state.running) seen.lastFailure = null;
          emit();
        },
        onRefresh: (outcome) => {
          if (!outcome.ok) {
            const f = seen.lastFailure;
            seen.failureMessage = {
              at: outcome.at,
              message: f && f.kind === outcome.kind ? describeAppFailure(f) : outcome.message,
            };
          }
          emit();
        },
        onError,
      });
      return { profile, ownPausedUntil, monitor, seen };
    });
    for (const r of running) r.monitor.start();
  };

  const stopMonitors = async () => {
    const stopping = running;
    running = [];
    await Promise.all(stopping.map((r) => r.monitor.stop()));
  };

  const service: AppService = {
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },

    start() {
      return serially(async () => {
        if (started || stopped) return;
        started = true;
        const saved = deps.history.loadState(PAUSE_STATE.profile, PAUSE_STATE.key);
        const parsed: unknown = saved === null ? null : JSON.parse(saved);
        pausedUntil = typeof parsed === 'number' ? parsed : null;
        armPauseEnd();
        startAtLogin = await deps.getStartAtLogin();
        await loadSettings();
        startMonitors();
        emit();
      });
    },

    async stop() {
      stopped = true;
      armPauseEnd();
      await serially(stopMonitors);
    },

    wake() {
      for (const r of running) r.monitor.wake();
    },

    getSnapshot: () => Promise.resolve(snapshot()),

    getSeries(profile, window) {
      if (!HISTORY_WINDOWS.includes(window)) {
        return Promise.reject(new RangeError(`unknown history window ${String(window)}`));
      }
      const points = deps.history.seriesFor(String(profile), TOTAL_HOST, window, nowSeconds());
      return Promise.resolve(
        points.map(({ at, dau, wau, mau, online }): SeriesPoint =>
          typeof online === 'number' ? { at, dau, wau, mau, online } : { at, dau, wau, mau },
        ),
      );
    },

    async refreshNow(profile) {
      const chosen = running.filter((r) => profile === null || r.profile.name === profile);
      await Promise.all(chosen.map((r) => r.monitor.refreshNow()));
    },

    async getSettings() {
      const loaded = await deps.profiles.load();
      return loaded.ok ? loaded.value : emptySettings();
    },

    saveSettings(draft) {
      return serially(async () => {
        const problems = findSettingsProblems(draft);
        const valid = validateSettings(draft);
        if (problems.length > 0 || !valid.ok) {
          return failed(problems.map(formatSettingsProblem).join('\n'));
        }
        const saved = await deps.profiles.save(valid.value);
        if (!saved.ok) return failed(describeAppFailure(saved.failure));
        const kept = new Set(valid.value.profiles.map((p) => p.name.toLowerCase()));
        for (const old of settings.profiles) {
          if (kept.has(old.name.toLowerCase())) continue;
          for (const kind of SECRET_KINDS) {
            const forgotten = await deps.secrets.delete(old.name, kind);
            if (!forgotten.ok) onError(new Error(describeAppFailure(forgotten.failure)));
          }
        }
        settings = valid.value;
        settingsProblem = null;
        if (started && !stopped) {
          await stopMonitors();
          startMonitors();
        }
        emit();
        return succeeded;
      });
    },

    async testConnection(profileName, draft): Promise<ConnectionTestResult> {
      const wanted = String(profileName).toLowerCase();
      const profile = (Array.isArray(draft?.profiles) ? draft.profiles : []).find(
        (p) => typeof p?.name === 'string' && p.name.toLowerCase() === wanted,
      );
      const problems = profile
        ? findSettingsProblems({ version: draft.version, profiles: [profile] })
        : [{ path: 'profiles', problem: `no profile named ${JSON.stringify(profileName)}` }];
      const valid = validateSettings({ version: draft?.version, profiles: [profile] });
      if (problems.length > 0 || !valid.ok || !profile) {
        const first = profile?.local ? 'find-data' : 'connect';
        return {
          steps: (['connect', 'host-key', 'authenticate', 'find-data', 'read'] as const).map(
            (step) =>
              step === first
                ? {
                    step,
                    state: 'failed' as const,
                    detail: problems.map(formatSettingsProblem).join('\n'),
                  }
                : { step, state: 'skipped' as const, detail: 'Not tried' },
          ),
          unknownHostKey: null,
          changedHostKey: null,
          outcome: null,
        };
      }
      const checked = valid.value.profiles[0]!;
      let lastFailure: Failure | null = null;
      const sources = profileSourceDeps(
        deps.sources,
        storedSecrets(deps.secrets, checked.name),
        (f) => (lastFailure = f),
      );
      const result = await runConnectionTest(
        monitorProfileFor(checked, deps.knownHostsPath),
        sources,
        deps.clock,
        () => lastFailure,
      );
      const unknown = result.unknownHostKey;
      if (unknown !== null) {
        offeredKnownHosts.set(
          hostPort(unknown.host, unknown.port),
          checked.ssh?.knownHosts ?? deps.knownHostsPath,
        );
      }
      return result;
    },

    async trustHostKey(host, port, fingerprint, knownHostsPath) {
      if (typeof host !== 'string' || host === '' || /[\s\0]/.test(host)) {
        return failed(`${JSON.stringify(host)} is not a host name`);
      }
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        return failed(`${String(port)} is not a port number (1-65535)`);
      }
      const path =
        typeof knownHostsPath === 'string' && knownHostsPath !== ''
          ? knownHostsPath
          : deps.knownHostsPath;
      // Only a file that holds this app's trust: the default one, a saved server's own, or the one
      // of the server whose unknown key a connection test just showed. Never any path the window
      // names, which could be another program's file.
      const allowed =
        path === deps.knownHostsPath ||
        settings.profiles.some((p) => p.ssh?.knownHosts === path) ||
        offeredKnownHosts.get(hostPort(host, port)) === path;
      if (!allowed) {
        return failed(
          `Not trusted: ${path} is neither the default known_hosts file (${deps.knownHostsPath}) nor the one this server's settings name. Test the connection first, then trust the key it shows.`,
        );
      }
      const trusted = await trustKnownHost({
        host,
        port,
        fingerprint: String(fingerprint),
        knownHostsPath: path,
      });
      return { ok: trusted.ok, message: trusted.message };
    },

    async setSecret(profile, kind, value) {
      if (typeof profile !== 'string' || profile === '') return failed('Name the server first.');
      if (!SECRET_KINDS.includes(kind)) return failed(`${String(kind)} is not a kind of secret`);
      if (typeof value !== 'string') return failed('A secret is text.');
      if (value === '') {
        const forgotten = await deps.secrets.delete(profile, kind);
        return forgotten.ok ? succeeded : failed(describeAppFailure(forgotten.failure));
      }
      if (!deps.secretsAvailable) {
        return failed(
          'This system offers no safe place for secrets (no keychain or secret service), so none is stored: load the key into ssh-agent instead.',
        );
      }
      const stored = await deps.secrets.set(profile, kind, value);
      return stored.ok ? succeeded : failed(describeAppFailure(stored.failure));
    },

    async pauseAlerts(until) {
      if (until !== null && !(typeof until === 'number' && Number.isFinite(until))) {
        throw new RangeError(`pause until ${String(until)}: give Unix seconds or null`);
      }
      pausedUntil = until === null ? null : Math.floor(until);
      deps.history.saveState(PAUSE_STATE.profile, PAUSE_STATE.key, JSON.stringify(pausedUntil));
      // The monitor reads each profile's alert settings at every refresh.
      for (const r of running) {
        const paused = effectivePause(r.ownPausedUntil);
        if (paused === undefined) delete r.profile.alerts.pausedUntil;
        else r.profile.alerts.pausedUntil = paused;
      }
      armPauseEnd();
      emit();
    },

    async setStartAtLogin(enabled) {
      if (typeof enabled !== 'boolean') return failed('Start at login is on or off.');
      const set = await deps.setStartAtLogin(enabled);
      if (!set.ok) return failed(describeAppFailure(set.failure));
      startAtLogin = await deps.getStartAtLogin();
      emit();
      return succeeded;
    },
  };
  return service;
}
