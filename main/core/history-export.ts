/**
 * `history --csv` and `history --json`: the recorded refreshes as one row per refresh and host.
 * A failed refresh is one row with its error and empty figures, never zeros; so is a figure that
 * was not known (online without the live view, exclusions before Prosody 13's rule was kept).
 */
import { isUsableTimestamp } from './activity-record.js';
import { type Figures, TOTAL_HOST } from './monitor-types.js';

/** One exported row: a host's figures from a successful refresh, or a failed refresh. */
export interface HistoryRow {
  profile: string;
  /** Unix seconds of the refresh. */
  at: number;
  ok: boolean;
  /** The host (TOTAL_HOST for the total); null for a failed refresh. */
  host: string | null;
  /** null for a failed refresh. */
  figures: Figures | null;
  method: string | null;
  /** null for a failure, and for refreshes recorded before these were kept. */
  bytesReceived: number | null;
  seconds: number | null;
  errorKind: string | null;
  errorMessage: string | null;
}

/** The column names, the same in CSV and JSON: a promise to scripts. */
export const HISTORY_COLUMNS = [
  'time',
  'at',
  'profile',
  'ok',
  'host',
  'dau',
  'wau',
  'mau',
  'accounts',
  'new1d',
  'new7d',
  'new30d',
  'newestEvent',
  'method',
  'bytesReceived',
  'seconds',
  'errorKind',
  'errorMessage',
  // Added later, so appended: scripts that read columns by position keep working.
  'online',
  'excludedDisabled',
  'excludedNoAccount',
  // The total's row: true. Its host is empty, so that a host named like any word stays itself.
  'total',
] as const;

type Column = (typeof HISTORY_COLUMNS)[number];
type Flat = Record<Column, string | number | boolean | null>;

/** ISO 8601 in UTC, whole seconds, for people reading the export. */
function isoTime(at: number): string {
  // A time no date can hold (a history file written by hand) is shown as its number.
  if (!isUsableTimestamp(at)) return String(at);
  return new Date(at * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function flatten(row: HistoryRow): Flat {
  const f = row.figures;
  return {
    time: isoTime(row.at),
    at: row.at,
    profile: row.profile,
    ok: row.ok,
    host: row.host === TOTAL_HOST ? null : row.host,
    dau: f?.dau ?? null,
    wau: f?.wau ?? null,
    mau: f?.mau ?? null,
    accounts: f?.accounts ?? null,
    new1d: f?.new1d ?? null,
    new7d: f?.new7d ?? null,
    new30d: f?.new30d ?? null,
    newestEvent: f?.newestEvent ?? null,
    method: row.method,
    bytesReceived: row.bytesReceived,
    seconds: row.seconds,
    errorKind: row.errorKind,
    errorMessage: row.errorMessage,
    // Unknown (not measured, or recorded before these were kept) is empty, never 0.
    online: f?.online ?? null,
    excludedDisabled: f?.excludedDisabled ?? null,
    excludedNoAccount: f?.excludedNoAccount ?? null,
    total: row.host === null ? null : row.host === TOTAL_HOST,
  };
}

/**
 * RFC 4180 quoting: a field holding a comma, a double quote, a line break, or leading or trailing
 * space is wrapped in double quotes, with its quotes doubled. null is an empty field.
 *
 * Text that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is what spreadsheets run as
 * a formula (CSV injection): a host or profile name or an error message may be crafted so. As
 * OWASP advises, such text is written behind a single quote, which spreadsheets show as text.
 * Numbers are never text here, so a negative figure stays a number.
 */
export function csvField(value: string | number | boolean | null): string {
  if (value === null) return '';
  const text =
    typeof value === 'string' && /^[=+\-@\t\r]/.test(value) ? `'${value}` : String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A header line, then one line per row; lines end in \n (line breaks inside fields are kept). */
export function historyCsv(rows: Iterable<HistoryRow>): string {
  const lines = [HISTORY_COLUMNS.join(',')];
  for (const row of rows) {
    const flat = flatten(row);
    lines.push(HISTORY_COLUMNS.map((c) => csvField(flat[c])).join(','));
  }
  return lines.join('\n') + '\n';
}

/** A JSON array of flat objects with the CSV's column names, one object per line. */
export function historyJson(rows: Iterable<HistoryRow>): string {
  const lines: string[] = [];
  for (const row of rows) lines.push(JSON.stringify(flatten(row)));
  return lines.length === 0 ? '[]\n' : `[\n${lines.join(',\n')}\n]\n`;
}
