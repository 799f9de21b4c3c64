import {
  type ActivityEvent,
  type SourceRecord,
  isUsableTimestamp,
} from '../core/activity-record.js';
import { parseLuaData } from './lua-data-parser.js';

/** Activity files are a few hundred bytes; anything far larger is not Prosody's activity data. */
export const MAX_ACTIVITY_FILE_BYTES = 64 * 1024;

export const LASTLOG2_EVENTS: ReadonlySet<string> = new Set(['login', 'logout', 'registered']);

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
      const timestamp = value.get('timestamp');
      // A number no clock wrote (1e308, 1/0, 0/0) is malformed, as in every other source.
      out.push(
        typeof timestamp !== 'number'
          ? { host, user, skipped: 'no-timestamp', where }
          : !isUsableTimestamp(timestamp)
            ? { host, user, skipped: 'malformed', where }
            : { host, user, event: key as ActivityEvent, timestamp },
      );
    }
  }
  return out;
}

/** An accounts file is a few hundred bytes (salt, keys, times); more is not Prosody's. */
export const MAX_ACCOUNT_FILE_BYTES = 16 * 1024;

/**
 * An accounts file reduced to the one fact counting needs, at once: the text (which holds the
 * salt and keys) is parsed here and nothing of it but the flag leaves this function. `disabled`
 * counts as Lua reads it: anything but nil and false. A file Prosody could not load makes
 * `user_is_enabled` return nil, so it counts as no account; so does one too large to be an account.
 */
export function accountFileStatus(
  file: { text: string } | { tooLarge: true },
): 'enabled' | 'disabled' | 'missing' {
  if ('tooLarge' in file) return 'missing';
  const parsed = parseLuaData(file.text);
  if (!parsed.ok || !(parsed.value instanceof Map)) return 'missing';
  const disabled = parsed.value.get('disabled');
  return disabled === undefined || disabled === false ? 'enabled' : 'disabled';
}

/** An accounts file's status from what a server read of it (files-by-command.ts): its flag. */
export function accountDigestStatus(digest: { disabled: boolean }): 'enabled' | 'disabled' {
  return digest.disabled ? 'disabled' : 'enabled';
}
