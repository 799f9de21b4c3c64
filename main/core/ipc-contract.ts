/**
 * The one IPC contract between the window and the main process: every channel, its argument and
 * its result. Types only, so main, preload and renderer all import it; adding a channel without
 * implementing it in the preload and in main fails to compile.
 */
import type { Figures, RefreshOutcome } from './monitor-types.js';
import type { Settings } from './profile-validation.js';

export type ProfileStatus = 'ok' | 'alerting' | 'stale' | 'failing' | 'refreshing' | 'never';

/** A figure now and its change against 24 hours and 7 days earlier (null: nothing recorded then). */
export interface FigureWithDeltas {
  value: number;
  d24h: number | null;
  d7d: number | null;
}

export interface HostRow {
  host: string;
  figures: Figures;
}

/** What the window shows for one profile. */
export interface ProfileView {
  name: string;
  status: ProfileStatus;
  /** The last good figures (kept, and marked stale, when later refreshes fail). */
  total: {
    dau: FigureWithDeltas;
    wau: FigureWithDeltas;
    mau: FigureWithDeltas;
    new1d: number;
    new7d: number;
    new30d: number;
    accounts: number;
    /** Accounts online at the last good refresh (live view); null or absent when not known. */
    online?: number | null;
  } | null;
  hosts: HostRow[];
  /** Unix seconds of the last good refresh, the last attempt, and the next one planned. */
  lastSuccessAt: number | null;
  lastAttemptAt: number | null;
  nextRefreshAt: number | null;
  method: string | null;
  bytesReceived: number | null;
  seconds: number | null;
  /** The last refresh failed: the sentence that says what to do. */
  error: { kind: string; message: string; at: number } | null;
  /**
   * The alerts of the last 24 hours, newest first (at most ALERT_LIST_LIMIT): the details behind a
   * grouped notification. Optional, so that code that builds views without history need not name it.
   */
  alerts?: AlertItem[];
  /** Alerts of the last 24 hours beyond the list's limit. */
  moreAlerts?: number;
}

/** One alert as the window lists it: when, and what the notification would have said. */
export interface AlertItem {
  at: number;
  title: string;
  body: string;
}

export interface AppSnapshot {
  profiles: ProfileView[];
  /** No server configured yet: the window opens on settings with the setup guide. */
  firstRun: boolean;
  /** Alerts are held until this Unix time. */
  alertsPausedUntil: number | null;
  startAtLogin: boolean;
  /** Secrets can be stored (safeStorage has a real backend). */
  secretsAvailable: boolean;
  /**
   * settings.json could not be read (broken, or written by a newer version): the sentence that says
   * so and what to do. Nothing is monitored meanwhile, and the file is never overwritten from the
   * window. Optional, so that code that builds snapshots without a settings file need not name it.
   */
  settingsProblem?: string | null;
  /** Other users can read the app's data folder: the sentence that says so and what to do. */
  stateFolderWarning?: string | null;
}

export type HistoryWindowName = '7d' | '30d' | '90d';

export interface SeriesPoint {
  at: number;
  dau: number;
  wau: number;
  mau: number;
  /** Accounts online at that refresh, when the live view knew it. */
  online?: number;
}

/** One step of "Test connection", in order: connect, host key, authenticate, find the data, read it. */
export interface ConnectionStep {
  step: 'connect' | 'host-key' | 'authenticate' | 'find-data' | 'read';
  state: 'ok' | 'failed' | 'skipped';
  detail: string;
}

export interface ConnectionTestResult {
  steps: ConnectionStep[];
  /** The server's host key is not known: ask whether to trust it. */
  unknownHostKey: { host: string; port: number; keyType: string; fingerprint: string } | null;
  /** The server's host key changed: refused, with a warning. */
  changedHostKey: { host: string; fingerprint: string; message: string } | null;
  /** The figures, when everything worked. */
  outcome: RefreshOutcome | null;
}

/** A settings problem, naming the field (`profiles[0].ssh.target`). */
export interface SaveSettingsResult {
  ok: boolean;
  message: string | null;
}

/** Request/response channels: renderer → main. */
export interface InvokeChannels {
  'snapshot:get': { args: []; result: AppSnapshot };
  'series:get': { args: [profile: string, window: HistoryWindowName]; result: SeriesPoint[] };
  'refresh:now': { args: [profile: string | null]; result: void };
  'settings:get': { args: []; result: Settings };
  'settings:save': { args: [settings: Settings]; result: SaveSettingsResult };
  'connection:test': {
    args: [profileName: string, settings: Settings];
    result: ConnectionTestResult;
  };
  'host-key:trust': {
    args: [host: string, port: number, fingerprint: string, knownHostsPath: string | null];
    result: SaveSettingsResult;
  };
  'secret:set': {
    args: [profile: string, kind: 'password' | 'passphrase' | 'db-password', value: string];
    result: SaveSettingsResult;
  };
  'alerts:pause': { args: [until: number | null]; result: void };
  'start-at-login:set': { args: [enabled: boolean]; result: SaveSettingsResult };
  /** The panel hides (Escape). */
  'window:hide': { args: []; result: void };
}

/** Which view the window shows; main asks for one (the tray's "Settings…"). */
export type ViewName = 'dashboard' | 'settings';

/** A request from main to show a view. */
export interface ShowViewRequest {
  view: ViewName;
}

/** Events: main → renderer. */
export interface EventChannels {
  'snapshot:changed': AppSnapshot;
  'view:show': ShowViewRequest;
  /** Show this profile's figures (a notification about it was clicked). */
  'profile:show': string;
}

export type InvokeChannel = keyof InvokeChannels;
export type EventChannel = keyof EventChannels;

/**
 * What the preload exposes as `window.prosodyActiveUsers`: one function per capability, and
 * subscriptions that return their unsubscribe function. Never a generic send.
 */
export interface RendererApi {
  getSnapshot(): Promise<AppSnapshot>;
  getSeries(profile: string, window: HistoryWindowName): Promise<SeriesPoint[]>;
  refreshNow(profile: string | null): Promise<void>;
  getSettings(): Promise<Settings>;
  saveSettings(settings: Settings): Promise<SaveSettingsResult>;
  testConnection(profileName: string, settings: Settings): Promise<ConnectionTestResult>;
  trustHostKey(
    host: string,
    port: number,
    fingerprint: string,
    knownHostsPath: string | null,
  ): Promise<SaveSettingsResult>;
  setSecret(
    profile: string,
    kind: 'password' | 'passphrase' | 'db-password',
    value: string,
  ): Promise<SaveSettingsResult>;
  pauseAlerts(until: number | null): Promise<void>;
  setStartAtLogin(enabled: boolean): Promise<SaveSettingsResult>;
  hideWindow(): Promise<void>;
  onSnapshot(listener: (snapshot: AppSnapshot) => void): () => void;
  onShowView(listener: (request: ShowViewRequest) => void): () => void;
  /** Main asks to show a profile's figures: the user clicked a notification about it. */
  onShowProfile(listener: (profile: string) => void): () => void;
}

/** The API's subscriptions: everything else is an invoke channel. */
export type RendererSubscription = 'onSnapshot' | 'onShowView' | 'onShowProfile';

/** What the window asks of its own panel: main answers these, not the AppService. */
export type WindowCapability = 'hideWindow';

/** Which channel each API function uses: the preload and main are both checked against it. */
export const API_CHANNELS = {
  getSnapshot: 'snapshot:get',
  getSeries: 'series:get',
  refreshNow: 'refresh:now',
  getSettings: 'settings:get',
  saveSettings: 'settings:save',
  testConnection: 'connection:test',
  trustHostKey: 'host-key:trust',
  setSecret: 'secret:set',
  pauseAlerts: 'alerts:pause',
  setStartAtLogin: 'start-at-login:set',
  hideWindow: 'window:hide',
} as const satisfies Record<Exclude<keyof RendererApi, RendererSubscription>, InvokeChannel>;
