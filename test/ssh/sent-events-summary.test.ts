/**
 * The events the server sent of a lastlog2 file, folded as read (main/ssh/sent-events-summary.ts),
 * come to exactly what the file's text they stand for gives through the reader's own parser: keys
 * twice, odd keys, no timestamp, timestamps out of range, in any order.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type FileSummary, summarizeActivity } from '../../main/sources/file-table.js';
import { lastlog2Records } from '../../main/sources/internal-storage-records.js';
import { sentSummary, summarizeSentEvents } from '../../main/ssh/sent-events-summary.js';
import { EVENTS_TEXT } from '../../main/ssh/store-listing.js';
import { lastlog2TextOf } from '../fixtures/sent-events-text.js';

/** What the reader makes of the file text the sent events stand for. */
function fromText(sent: string): FileSummary {
  return summarizeActivity(lastlog2Records('h.test', 'u', lastlog2TextOf(sent)));
}

function folded(text: string): FileSummary {
  summarizeSentEvents(text);
  const s = sentSummary;
  const time = (t: number) => (Number.isNaN(t) ? null : t);
  return [time(s.active), time(s.registered), s.notAnEvent, s.malformed, s.noTimestamp];
}

const CASES = [
  '',
  ' login=1785618589',
  ' login=1785618589 logout=1785619612',
  ' registered=100 login=50',
  ' login=',
  ' login= logout=7',
  ' login=1 login=2',
  ' x=1 x=2',
  ' roster=5',
  ' login=1e308',
  ' login=8640000000000 logout=8640000000001',
  ' login=-8640000000000',
  ' login=-0',
  ' logout=0 login=-0',
  ' login=1.5 registered=2.25e1',
  ' Login=1',
  ' registered= registered=1',
];

for (const text of CASES) {
  test(`sent events are summed up as the records they stand for: ${JSON.stringify(text)}`, () => {
    assert.ok(EVENTS_TEXT.test(text));
    assert.deepEqual(folded(text), fromText(text));
  });
}

test('any sent events are summed up as the records they stand for', () => {
  const key = fc.constantFrom('login', 'logout', 'registered', 'Login', 'x', 'registered_');
  const numeral = fc.constantFrom(
    '',
    '0',
    '-0',
    '1',
    '1785618589',
    '1785618589.5',
    '8640000000000',
    '8640000000001',
    '-8640000000001',
    '1e308',
    '1e-5',
    '99999999999999999999999999999999999999',
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(key, numeral), { maxLength: 6 }), (events) => {
      const text = events.map(([k, n]) => ` ${k}=${n}`).join('');
      assert.ok(EVENTS_TEXT.test(text));
      assert.deepEqual(folded(text), fromText(text));
    }),
    { numRuns: 5000 },
  );
});
