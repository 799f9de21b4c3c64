/**
 * What an alert says: the notification's title and body, and the watch mode's `alert:` line. Pure
 * text, shared by the notifier, the CLI and the window, so that all three say the same thing.
 */
import { TOTAL_HOST, type Alert, type FigureName } from './monitor-types.js';
import { formatTime } from './parse-time.js';
import { showControls } from './terminal-text.js';

/** U+2212, the minus sign: a hyphen next to a number reads as a dash in a notification. */
const MINUS = '\u2212';

const FIGURE_LABELS: Record<FigureName, string> = {
  dau: 'DAU',
  wau: 'WAU',
  mau: 'MAU',
  accounts: 'Accounts',
  new1d: 'New accounts (1 day)',
  new7d: 'New accounts (7 days)',
  new30d: 'New accounts (30 days)',
};

/** `DAU`, `Accounts`, `New accounts (7 days)`. */
export function figureLabel(figure: FigureName): string {
  return FIGURE_LABELS[figure];
}

/**
 * A host name as the text shows it: from the server, so a control character in it (a line break,
 * ESC, a bidi override) is shown escaped wherever the text goes: notification, window, `alert:`.
 */
function shown(host: string): string {
  return showControls(host);
}

/** `on example.org`, or `across all hosts` for the total. */
function where(host: string): string {
  return host === TOTAL_HOST ? 'across all hosts' : `on ${shown(host)}`;
}

/**
 * The change as a signed percentage of `from`: `+50 %`, `−33 %`, `−0.4 %`. From 0 a percentage
 * means nothing, so the signed difference in users is shown instead: `+7`.
 */
export function formatChange(from: number, to: number): string {
  const sign = to < from ? MINUS : '+';
  if (from === 0) return `${sign}${Math.abs(to - from)}`;
  const percent = Math.abs(((to - from) / from) * 100);
  const shown = percent >= 1 || percent === 0 ? String(Math.round(percent)) : percent.toFixed(1);
  return `${sign}${shown} %`;
}

/** `45 min`, `24 h`, `36 h`, `7 days`: how far back a baseline or the newest event is. */
export function formatAgo(seconds: number): string {
  if (seconds < 3600) return `${Math.max(0, Math.round(seconds / 60))} min`;
  const hours = Math.round(seconds / 3600);
  if (hours >= 48 && hours % 24 === 0) return `${hours / 24} days`;
  return `${hours} h`;
}

/** The notification's title, short and starting with the profile's name. */
export function alertTitle(alert: Alert): string {
  switch (alert.kind) {
    case 'large-change': {
      const label = figureLabel(alert.figure);
      const change =
        alert.from === 0
          ? `up from 0 to ${alert.to}`
          : `${alert.to < alert.from ? 'down' : 'up'} ${formatChange(alert.from, alert.to).slice(1)}`;
      return `${alert.profile}: ${label} ${change} ${where(alert.host)}`;
    }
    case 'failing':
      return `${alert.profile}: refreshes failing`;
    case 'recovered':
      return `${alert.profile}: refreshes work again`;
    case 'stale':
      return `${alert.profile}: no logins on ${shown(alert.host)} for ${formatAgo(alert.hours * 3600)}`;
    case 'module-missing':
      return `${alert.profile}: mod_lastlog2 not loaded on ${shown(alert.host)}`;
  }
}

/**
 * The notification's body: the figures and the change against the baseline, or one sentence saying
 * what happened and what to do next.
 */
export function alertBody(alert: Alert): string {
  switch (alert.kind) {
    case 'large-change': {
      const label = figureLabel(alert.figure);
      const against =
        alert.at === undefined
          ? `against ${formatTime(alert.baselineAt)}`
          : `against ${formatAgo(alert.at - alert.baselineAt)} earlier`;
      return `${label} ${alert.from} \u2192 ${alert.to} (${formatChange(alert.from, alert.to)}) ${where(alert.host)}, ${against}.`;
    }
    case 'failing':
      return `${
        alert.failures === 1
          ? 'The last refresh failed'
          : `The last ${alert.failures} refreshes failed in a row`
      }. ${alert.message}`;
    case 'recovered':
      return `Refreshing works again after ${
        alert.failures === 1 ? 'a failed refresh' : `${alert.failures} failed refreshes in a row`
      }; nothing to do.`;
    case 'stale':
      return (
        `No login or logout on ${shown(alert.host)} for ${formatAgo(alert.hours * 3600)} ` +
        `(the newest at ${formatTime(alert.newestEvent)}): is mod_lastlog2 still loaded?`
      );
    case 'module-missing':
      return (
        `Neither mod_lastlog2 nor mod_account_activity is loaded on ${shown(alert.host)}: no login is ` +
        `recorded, so the figures will stop moving. Add "lastlog2" to modules_enabled and reload Prosody.`
      );
  }
}

/** The watch mode's line: `alert: <profile>: <body>`, always one line. */
export function alertLine(alert: Alert): string {
  return `alert: ${alert.profile}: ${alertBody(alert)}`.replace(/\s*[\r\n]+\s*/g, ' ');
}

/** How many alerts a grouped notification names before "and n more". */
export const GROUPED_NAMED = 3;

/**
 * One notification for everything one refresh of one server raised: a single alert as it is,
 * several as a count and the first few, the rest listed in the window (300 hosts going stale at
 * once are one notification, not 300).
 */
export function groupedNotification(alerts: readonly Alert[]): { title: string; body: string } {
  const [first] = alerts;
  if (first === undefined) throw new RangeError('groupedNotification: no alerts');
  if (alerts.length === 1) return { title: alertTitle(first), body: alertBody(first) };
  const profile = first.profile;
  const kinds = new Set(alerts.map((a) => a.kind));
  const title =
    kinds.size === 1 && first.kind === 'stale'
      ? `${profile}: no logins lately on ${alerts.length} hosts`
      : `${profile}: ${alerts.length} alerts`;
  // Each alert's own title without the profile's name, which the grouped title already gives.
  const named = alerts
    .slice(0, GROUPED_NAMED)
    .map((a) => alertTitle(a).slice(profile.length + 2))
    .join('; ');
  const rest = alerts.length - GROUPED_NAMED;
  const more = rest > 0 ? `; and ${rest} more` : '';
  return { title, body: `${named}${more}. Every one is listed in the window.` };
}
