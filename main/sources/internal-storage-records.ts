import type { ActivityEvent, SourceRecord } from '../core/activity-record.js';
import { type LuaValue, parseLuaData } from './lua-data-parser.js';

/** Activity files are a few hundred bytes; anything far larger is not Prosody's activity data. */
export const MAX_ACTIVITY_FILE_BYTES = 64 * 1024;

const LASTLOG2_EVENTS: ReadonlySet<string> = new Set(['login', 'logout', 'registered']);

function numeric(v: LuaValue | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Reads one `<host>/lastlog2/<user>.dat` file's text into records. */
export function lastlog2Records(host: string, user: string, text: string): SourceRecord[] {
  const where = 'lastlog2';
  const parsed = parseLuaData(text);
  if (!parsed.ok || !(parsed.value instanceof Map)) {
    return [{ host, user, skipped: 'malformed', where }];
  }
  const out: SourceRecord[] = [];
  for (const [key, value] of parsed.value) {
    if (typeof key !== 'string' || !LASTLOG2_EVENTS.has(key)) {
      out.push({ host, user, skipped: 'not-an-event', where });
    } else if (!(value instanceof Map)) {
      out.push({ host, user, skipped: 'malformed', where });
    } else {
      const timestamp = numeric(value.get('timestamp'));
      out.push(
        timestamp === null
          ? { host, user, skipped: 'no-timestamp', where }
          : { host, user, event: key as ActivityEvent, timestamp },
      );
    }
  }
  return out;
}

/** Reads one `<host>/account_activity/<user>.dat` file's text (Prosody 13) into records. */
export function accountActivityRecords(host: string, user: string, text: string): SourceRecord[] {
  const where = 'account_activity';
  const parsed = parseLuaData(text);
  if (!parsed.ok || !(parsed.value instanceof Map)) {
    return [{ host, user, skipped: 'malformed', where }];
  }
  const timestamp = numeric(parsed.value.get('timestamp'));
  return [
    timestamp === null
      ? { host, user, skipped: 'no-timestamp', where }
      : { host, user, event: 'activity', timestamp },
  ];
}
