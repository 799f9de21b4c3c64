/**
 * What the tray shows, from the app's snapshot: the icon's state, the tooltip, the title next to the
 * icon (macOS) and the context menu as plain data. Pure: the clock and the local time format come
 * in as values and functions, so every case is a table row in a test. main/electron/tray.ts only
 * draws what this returns.
 */
import type { FailureKind } from './failure.js';
import type { AppSnapshot, ProfileView } from './ipc-contract.js';
import { showControls } from './terminal-text.js';

/** The icon's four looks. */
export type TrayState = 'ok' | 'alerting' | 'stale-or-failing' | 'refreshing';

/** What a menu item does when chosen. */
export type TrayCommand =
  | 'open'
  | 'refresh-now'
  | 'pause-1h'
  | 'pause-until-tomorrow'
  | 'resume-alerts'
  | 'settings'
  | 'toggle-start-at-login'
  | 'quit';

/** The context menu as data; tray.ts turns it into an Electron menu template. */
export type TrayMenuItem =
  | { type: 'command'; command: TrayCommand; label: string; enabled: boolean }
  | { type: 'checkbox'; command: TrayCommand; label: string; checked: boolean }
  /** Shown, never chosen: a profile's figures, the pause's end. */
  | { type: 'info'; label: string }
  | { type: 'separator' };

export interface TrayView {
  state: TrayState;
  tooltip: string;
  /** Text next to the icon on macOS ('' for none). */
  title: string;
  menu: TrayMenuItem[];
}

export interface TrayInput {
  snapshot: AppSnapshot;
  /** The local clock time of a Unix time as the user reads it, e.g. "14:05" or "Mon 14:05". */
  formatTime(at: number): string;
  /** Put the DAU next to the icon (macOS only; other platforms ignore the title). */
  showTitle: boolean;
}

/**
 * Windows keeps at most 127 UTF-16 units of a tray tooltip (NOTIFYICONDATA.szTip holds 128 with the
 * terminator); Electron once crashed past it (electron/electron#3290). Other platforms allow more,
 * but one limit everywhere keeps the text the same.
 */
export const TOOLTIP_MAX_LENGTH = 127;

/** How many profiles' DAU the macOS title shows; the menu bar has little room. */
const TITLE_MAX_PROFILES = 3;

const PRODUCT_NAME = 'Prosody Active Users';

/** A failure's kind in a few words, for the tooltip and the menu. */
const FAILURE_WORDS: Record<FailureKind, string> = {
  usage: 'settings problem',
  'not-found': 'data not found',
  'permission-denied': 'permission denied',
  'symlink-loop': 'symbolic link loop',
  corrupt: 'unreadable data',
  'too-large': 'data too large',
  busy: 'database busy',
  'wal-read-only': 'database folder read-only',
  'kept-changing': 'database kept changing',
  'no-activity-records': 'no login records',
  'unsupported-storage': 'unsupported storage',
  'no-prosody-data': 'Prosody data not found',
  'special-file': 'not a regular file',
  'prosody-config': 'Prosody config problem',
  settings: 'settings problem',
  notify: 'notification failed',
  network: 'cannot reach server',
  timeout: 'timed out',
  'host-key-unknown': 'unknown host key',
  'host-key-changed': 'HOST KEY CHANGED',
  'host-key-revoked': 'host key revoked',
  auth: 'login refused',
  'key-format': 'unreadable key',
  'key-passphrase': 'key passphrase needed',
  'ssh-config': 'ssh_config problem',
  'connection-lost': 'connection lost',
  'remote-protocol': 'unexpected answer',
  'db-auth': 'database login refused',
  'db-missing': 'database not found',
  'db-permission': 'database permission denied',
  'db-unreachable': 'cannot reach database',
  'db-error': 'database error',
  'sql-config': 'sql setting problem',
  unexpected: 'unexpected error',
  'state-file': 'own history unusable',
};

/** A profile's error kind in a few words ("failing" for a kind this version does not know). */
export function failureWords(kind: string): string {
  return Object.hasOwn(FAILURE_WORDS, kind) ? FAILURE_WORDS[kind as FailureKind] : 'failing';
}

/**
 * The icon's state across profiles. A problem is never hidden by a passing state: stale or failing
 * first, then alerting, then refreshing (which also covers a profile still waiting for its first
 * count); no profile at all is shown as a problem, since nothing is being watched.
 */
export function trayState(profiles: readonly ProfileView[]): TrayState {
  if (profiles.length === 0) return 'stale-or-failing';
  const statuses = new Set(profiles.map((p) => p.status));
  if (statuses.has('failing') || statuses.has('stale')) return 'stale-or-failing';
  if (statuses.has('alerting')) return 'alerting';
  if (statuses.has('refreshing') || statuses.has('never')) return 'refreshing';
  return 'ok';
}

/** `name — DAU n · WAU n · MAU n` (and `· online n` when known), or `name — no figures yet`. */
export function figuresLine(profile: ProfileView): string {
  // Settings refuse C0 controls in a name, not C1 or the bidi controls, which would reorder the
  // tooltip and menu: shown escaped, as on the terminal.
  const name = showControls(profile.name);
  const t = profile.total;
  if (t === null) return `${name} — no figures yet`;
  const online = typeof t.online === 'number' ? ` · online ${count(t.online)}` : '';
  return `${name} — DAU ${count(t.dau.value)} · WAU ${count(t.wau.value)} · MAU ${count(t.mau.value)}${online}`;
}

/** The profile's state in a few words: when the figures are from, or what went wrong. */
export function statusWords(profile: ProfileView, formatTime: (at: number) => string): string {
  const since =
    profile.lastSuccessAt === null ? '' : `, last good ${formatTime(profile.lastSuccessAt)}`;
  switch (profile.status) {
    case 'refreshing':
      return 'refreshing…';
    case 'never':
      return profile.error === null
        ? 'waiting for the first count'
        : `failing: ${failureWords(profile.error.kind)}`;
    case 'failing':
      return `failing: ${profile.error === null ? 'unknown error' : failureWords(profile.error.kind)}${since}`;
    case 'stale':
      return profile.error === null
        ? `stale${since}`
        : `stale: ${failureWords(profile.error.kind)}${since}`;
    case 'ok':
    case 'alerting':
      return profile.lastSuccessAt === null
        ? 'no good refresh yet'
        : `updated ${formatTime(profile.lastSuccessAt)}`;
  }
}

/**
 * The tooltip, at most TOOLTIP_MAX_LENGTH long. It gives as much as fits, in this order: every
 * profile's figures with its state on a second line and the alert pause; then one line per profile
 * (a problem marked in a word); then as many profiles as fit and `+N more`.
 */
export function trayTooltip(input: TrayInput): string {
  const { snapshot, formatTime } = input;
  const profiles = snapshot.profiles;
  if (profiles.length === 0) return `${PRODUCT_NAME} — no server yet: open Settings to add one`;

  const paused =
    snapshot.alertsPausedUntil === null
      ? []
      : [`Alerts paused until ${formatTime(snapshot.alertsPausedUntil)}`];
  const full = [
    ...profiles.flatMap((p) => [figuresLine(p), statusWords(p, formatTime)]),
    ...paused,
  ].join('\n');
  if (full.length <= TOOLTIP_MAX_LENGTH) return full;

  const short = profiles.map((p) => shortLine(p));
  const oneLineEach = short.join('\n');
  if (oneLineEach.length <= TOOLTIP_MAX_LENGTH) return oneLineEach;

  // As many profiles as fit, then how many were left out.
  for (let shown = short.length - 1; shown >= 1; shown--) {
    const text = [...short.slice(0, shown), `+${short.length - shown} more`].join('\n');
    if (text.length <= TOOLTIP_MAX_LENGTH) return text;
  }
  return clip(short.length === 1 ? (short[0] ?? '') : `${short[0]} +${short.length - 1} more`);
}

/** The DAU next to the icon: one number per profile with figures (up to three), or ''. */
export function trayTitle(input: TrayInput): string {
  if (!input.showTitle) return '';
  return input.snapshot.profiles
    .filter((p) => p.total !== null)
    .slice(0, TITLE_MAX_PROFILES)
    .map((p) => count(p.total?.dau.value ?? 0))
    .join(' · ');
}

/**
 * The context menu. It is always set (many Linux desktops show only the menu and never report a
 * click), so it also holds "Open".
 */
export function trayMenu(input: TrayInput): TrayMenuItem[] {
  const { snapshot, formatTime } = input;
  const profiles = snapshot.profiles;
  const anyRefreshing = profiles.some((p) => p.status === 'refreshing');
  const items: TrayMenuItem[] = [
    { type: 'command', command: 'open', label: `Open ${PRODUCT_NAME}`, enabled: true },
    {
      type: 'command',
      command: 'refresh-now',
      label: anyRefreshing ? 'Refreshing…' : 'Refresh now',
      enabled: profiles.length > 0 && !anyRefreshing,
    },
    { type: 'separator' },
  ];
  if (profiles.length === 0) items.push({ type: 'info', label: 'No server yet' });
  for (const p of profiles) items.push({ type: 'info', label: menuLine(p, formatTime) });
  items.push({ type: 'separator' });
  if (snapshot.alertsPausedUntil !== null) {
    items.push({
      type: 'info',
      label: `Alerts paused until ${formatTime(snapshot.alertsPausedUntil)}`,
    });
    items.push({
      type: 'command',
      command: 'resume-alerts',
      label: 'Resume alerts',
      enabled: true,
    });
  }
  items.push(
    { type: 'command', command: 'pause-1h', label: 'Pause alerts for 1 hour', enabled: true },
    {
      type: 'command',
      command: 'pause-until-tomorrow',
      label: 'Pause alerts until tomorrow',
      enabled: true,
    },
    { type: 'separator' },
    { type: 'command', command: 'settings', label: 'Settings…', enabled: true },
    {
      type: 'checkbox',
      command: 'toggle-start-at-login',
      label: 'Start at login',
      checked: snapshot.startAtLogin,
    },
    { type: 'separator' },
    { type: 'command', command: 'quit', label: 'Quit', enabled: true },
  );
  return items;
}

/** Everything the tray draws. */
export function trayView(input: TrayInput): TrayView {
  return {
    state: trayState(input.snapshot.profiles),
    tooltip: trayTooltip(input),
    title: trayTitle(input),
    menu: trayMenu(input),
  };
}

/** Whether two views draw the same: the tray redraws only when this is false. */
export function sameTrayView(a: TrayView | null, b: TrayView): boolean {
  return a !== null && JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Until when a pause command holds alerts, as a Unix time; null resumes them. Computed when the
 * item is chosen, not when the menu was drawn. "Until tomorrow" is the next local midnight, which
 * only the caller knows (time zones and daylight saving are the platform's business).
 */
export function pauseUntil(
  command: 'pause-1h' | 'pause-until-tomorrow' | 'resume-alerts',
  now: number,
  nextLocalMidnight: (now: number) => number,
): number | null {
  switch (command) {
    case 'pause-1h':
      return now + 3600;
    case 'pause-until-tomorrow':
      return nextLocalMidnight(now);
    case 'resume-alerts':
      return null;
  }
}

/** A profile in the menu: its figures, and a word when something is wrong. */
function menuLine(p: ProfileView, formatTime: (at: number) => string): string {
  const line = figuresLine(p);
  return p.status === 'ok' || p.status === 'alerting'
    ? line
    : `${line} (${statusWords(p, formatTime)})`;
}

/** A profile on one tooltip line: its figures, and a word when something is wrong. */
function shortLine(p: ProfileView): string {
  const line = figuresLine(p);
  switch (p.status) {
    case 'failing':
      return clip(`${line} (failing)`);
    case 'stale':
      return clip(`${line} (stale)`);
    default:
      return clip(line);
  }
}

/** The text cut to the tooltip's limit, ending with an ellipsis when cut. */
function clip(text: string): string {
  if (text.length <= TOOLTIP_MAX_LENGTH) return text;
  let end = TOOLTIP_MAX_LENGTH - 1;
  // Never keep half of a surrogate pair (an emoji in a profile's name).
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

function count(n: number): string {
  return String(Math.round(n));
}
