import assert from 'node:assert/strict';
import test from 'node:test';
import { summarizeActivity } from '../../main/sources/file-table.js';
import {
  accountDigestStatus,
  accountFileStatus,
  lastlog2Records,
} from '../../main/sources/internal-storage-records.js';
import { sentSummary, summarizeSentEvents } from '../../main/ssh/sent-events-summary.js';

/**
 * A server that read a file as Prosody wrote it sends only its keys and timestamp numerals
 * (files-by-command.ts). Those come to exactly what the file's own text gives.
 */
const LASTLOG2_CASES: Array<[name: string, sent: string, text: string]> = [
  ['no events', '', 'return {};'],
  [
    'login and logout',
    ' login=1796302731 logout=1796302800',
    'return { ["login"] = { timestamp = 1796302731 }; ["logout"] = { timestamp = 1796302800 } };',
  ],
  [
    'a fractional timestamp',
    ' login=1796302731.5',
    'return { login = { timestamp = 1796302731.5 } };',
  ],
  ['an exponent', ' registered=1.7963e9', 'return { registered = { timestamp = 1.7963e9 } };'],
  ['a negative timestamp', ' login=-5', 'return { login = { timestamp = -5 } };'],
  ['a timestamp no clock wrote', ' login=1e999', 'return { login = { timestamp = 1e999 } };'],
  ['beyond a Date', ' login=8640000000001', 'return { login = { timestamp = 8640000000001 } };'],
  ['no timestamp', ' login=', 'return { login = { } };'],
  ['a key that is not an event', ' status=5', 'return { status = { timestamp = 5 } };'],
  [
    'a key twice',
    ' login=5 login=6',
    'return { login = { timestamp = 5 }; login = { timestamp = 6 } };',
  ],
];

for (const [name, sent, text] of LASTLOG2_CASES) {
  test(`a lastlog2 digest comes to what its text gives: ${name}`, () => {
    summarizeSentEvents(sent);
    const s = sentSummary;
    const time = (t: number) => (Number.isNaN(t) ? null : t);
    assert.deepEqual(
      [time(s.active), time(s.registered), s.notAnEvent, s.malformed, s.noTimestamp],
      summarizeActivity(lastlog2Records('h.test', 'u', text)),
    );
  });
}

for (const [disabled, text] of [
  [true, 'return { disabled = true };'],
  [false, 'return { salt = "x" };'],
] as const) {
  test(`an accounts digest gives the status of its text: disabled ${disabled}`, () => {
    assert.equal(accountDigestStatus({ disabled }), accountFileStatus({ text }));
  });
}
