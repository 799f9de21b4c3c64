import { isUsableTimestamp } from '../core/activity-record.js';
import { LASTLOG2_EVENTS } from '../sources/internal-storage-records.js';

/**
 * What the events the server sent of a lastlog2 file come to, folded as they are read: exactly
 * the summary (file-table.ts) of the records the file's text gives, without a record or a word
 * each on the way (a million files a count; issue 14, row 5). NaN where the summary has null.
 */
export const sentSummary = {
  active: NaN,
  registered: NaN,
  notAnEvent: 0,
  malformed: 0,
  noTimestamp: 0,
};

/** The keys read so far of the text being folded (a key twice makes the file malformed). */
const keys: string[] = [];

/** Folds `text`, which EVENTS_TEXT matched (` key=numeral` each), into sentSummary. */
export function summarizeSentEvents(text: string): void {
  const s = sentSummary;
  s.active = NaN;
  s.registered = NaN;
  s.notAnEvent = 0;
  s.malformed = 0;
  s.noTimestamp = 0;
  keys.length = 0;
  for (let at = 1; at < text.length;) {
    const equals = text.indexOf('=', at);
    const space = text.indexOf(' ', equals);
    const end = space < 0 ? text.length : space;
    const key = text.slice(at, equals);
    at = end + 1;
    if (keys.includes(key)) {
      // As the text's parser refuses it: one malformed record for the file.
      s.active = NaN;
      s.registered = NaN;
      s.notAnEvent = 0;
      s.malformed = 1;
      s.noTimestamp = 0;
      return;
    }
    keys.push(key);
    if (!LASTLOG2_EVENTS.has(key)) {
      s.notAnEvent++;
    } else if (end === equals + 1) {
      s.noTimestamp++;
    } else {
      const t = Number(text.slice(equals + 1, end));
      if (!isUsableTimestamp(t)) s.malformed++;
      else if (key === 'registered')
        s.registered = Number.isNaN(s.registered) ? t : Math.max(s.registered, t);
      else s.active = Number.isNaN(s.active) ? t : Math.max(s.active, t);
    }
  }
}
