import { isUsableTimestamp } from './activity-record.js';

/** Unix seconds, or ISO 8601 with a date (a time without a zone is read as UTC). */
export function parseTime(text: string): number | null {
  const t = text.trim();
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  const iso =
    /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
  const m = iso.exec(t);
  if (!m) return null;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone = 'Z'] = m;
  const z = zone === 'Z' ? 'Z' : zone.replace(/^([+-]\d{2})(\d{2})$/, '$1:$2');
  const ms = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${frac}${z}`);
  if (Number.isNaN(ms)) return null;
  // Date.parse rolls 2026-02-30 over to March; a date that does not exist is an error instead.
  const check = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d)) return null;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 60) return null;
  return ms / 1000;
}

/**
 * `2026-11-24 16:05:09 UTC`: one fixed form, so that scripts and people read it alike. A time no
 * date can hold (see MAX_EVENT_SECONDS) is shown as its number, never thrown as a RangeError.
 */
export function formatTime(unixSeconds: number): string {
  if (!isUsableTimestamp(unixSeconds)) return `${unixSeconds} s (not a date)`;
  // Whole seconds; a year past 9999 is written with its sign (+275760-…), so cut at the dot.
  const iso = new Date(Math.floor(unixSeconds) * 1000).toISOString();
  return `${iso.replace(/\.\d{3}Z$/, '').replace('T', ' ')} UTC`;
}
