/**
 * The vocabulary the monitor's parts share: a refresh's outcome, the figures it records, the alerts
 * the policy raises, and a profile's alert settings.
 */
import type { FailureKind } from './failure.js';

/** The figures kept per host (and for the total, under the host name TOTAL_HOST). */
export interface Figures {
  dau: number;
  wau: number;
  mau: number;
  accounts: number;
  new1d: number;
  new7d: number;
  new30d: number;
  /** Unix seconds of the newest login/logout/activity, or null. */
  newestEvent: number | null;
  /**
   * Accounts with records that Prosody 13's rule left out: disabled, and no account (including
   * hosts where it counts nobody). Absent or null where unknown (history written before).
   */
  excludedDisabled?: number | null;
  excludedNoAccount?: number | null;
  /** Accounts online at the count (live view); null or absent when it was not known. */
  online?: number | null;
}

/** The figures alerts watch. */
export type FigureName = 'dau' | 'wau' | 'mau' | 'accounts' | 'new1d' | 'new7d' | 'new30d';
export const FIGURE_NAMES: readonly FigureName[] = [
  'dau',
  'wau',
  'mau',
  'accounts',
  'new1d',
  'new7d',
  'new30d',
];

/**
 * The pseudo host under which the total across hosts is recorded: the empty name, which no Prosody
 * host can have (a JID's domain is never empty), so that no host is ever overwritten by the total.
 * History before schema version 7 kept it as `*`, a name a host may have.
 */
export const TOTAL_HOST = '';

export interface RefreshSuccess {
  ok: true;
  profile: string;
  /** Unix seconds the figures are for. */
  at: number;
  /** Per host, plus TOTAL_HOST. */
  hosts: Record<string, Figures>;
  method: string;
  bytesReceived: number;
  seconds: number;
  /**
   * Hosts the live view saw without mod_lastlog2 or mod_account_activity loaded; absent when the
   * live server was not asked or could not be.
   */
  activityModuleMissing?: string[];
}

export interface RefreshFailure {
  ok: false;
  profile: string;
  at: number;
  kind: FailureKind;
  /** The sentence shown to the operator. */
  message: string;
}

export type RefreshOutcome = RefreshSuccess | RefreshFailure;

/**
 * Every variant may carry `at`: Unix seconds of the refresh that raised it (for a large change, the
 * time of `to`). Held alerts are delivered later, so the text needs it ("against 24 h earlier").
 */
export type Alert =
  | {
      kind: 'large-change';
      profile: string;
      host: string;
      figure: FigureName;
      from: number;
      to: number;
      /** Unix seconds of the baseline figure. */
      baselineAt: number;
      at?: number;
    }
  | { kind: 'failing'; profile: string; failures: number; message: string; at?: number }
  | { kind: 'recovered'; profile: string; failures: number; at?: number }
  | {
      kind: 'stale';
      profile: string;
      host: string;
      newestEvent: number;
      hours: number;
      at?: number;
    }
  /** The live view shows the host without its activity module: its figures will stop moving. */
  | { kind: 'module-missing'; profile: string; host: string; at?: number };

export interface AlertSettings {
  /** Relative change that counts as large (0.2 = 20 %). */
  relativeThreshold: number;
  /** And at least this many users. */
  absoluteMinimum: number;
  /** Per-figure overrides. */
  perFigure?: Partial<Record<FigureName, { relativeThreshold?: number; absoluteMinimum?: number }>>;
  /** Which figures alert (default dau, wau, mau). */
  figures: FigureName[];
  /** The baseline: the same figure this many seconds earlier (default 24 h, ignoring the daily rhythm). */
  baselineSeconds: number;
  /** Consecutive failed refreshes before an alert (default 3). */
  failuresBeforeAlert: number;
  /** A host with no login/logout newer than this is stale (default 12 h). */
  staleSeconds: number;
  /** The same alert for the same host and figure is not repeated within this (default 6 h). */
  cooldownSeconds: number;
  /** Local-time window in which alerts are held, e.g. { from: '22:00', to: '07:00' }. */
  quietHours?: { from: string; to: string };
  /** Alerts are held until this Unix time (paused). */
  pausedUntil?: number;
}

export const DEFAULT_ALERT_SETTINGS: AlertSettings = {
  relativeThreshold: 0.2,
  absoluteMinimum: 5,
  figures: ['dau', 'wau', 'mau'],
  baselineSeconds: 24 * 3600,
  failuresBeforeAlert: 3,
  staleSeconds: 12 * 3600,
  cooldownSeconds: 6 * 3600,
};
