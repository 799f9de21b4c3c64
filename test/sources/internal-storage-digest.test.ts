import assert from 'node:assert/strict';
import test from 'node:test';
import {
  accountDigestStatus,
  accountFileStatus,
  lastlog2DigestRecords,
  lastlog2Records,
} from '../../main/sources/internal-storage-records.js';

/**
 * A server that read a file as Prosody wrote it sends only its keys and timestamp numerals
 * (files-by-command.ts). Those give exactly the records the file's own text gives.
 */
const LASTLOG2_CASES: Array<[name: string, events: Array<[string, string | null]>, text: string]> =
  [
    ['no events', [], 'return {};'],
    [
      'login and logout',
      [
        ['login', '1796302731'],
        ['logout', '1796302800'],
      ],
      'return { ["login"] = { timestamp = 1796302731 }; ["logout"] = { timestamp = 1796302800 } };',
    ],
    [
      'a fractional timestamp',
      [['login', '1796302731.5']],
      'return { login = { timestamp = 1796302731.5 } };',
    ],
    [
      'an exponent',
      [['registered', '1.7963e9']],
      'return { registered = { timestamp = 1.7963e9 } };',
    ],
    ['a negative timestamp', [['login', '-5']], 'return { login = { timestamp = -5 } };'],
    [
      'a timestamp no clock wrote',
      [['login', '1e999']],
      'return { login = { timestamp = 1e999 } };',
    ],
    [
      'beyond a Date',
      [['login', '8640000000001']],
      'return { login = { timestamp = 8640000000001 } };',
    ],
    ['no timestamp', [['login', null]], 'return { login = { } };'],
    ['a key that is not an event', [['status', '5']], 'return { status = { timestamp = 5 } };'],
    [
      'a key twice',
      [
        ['login', '5'],
        ['login', '6'],
      ],
      'return { login = { timestamp = 5 }; login = { timestamp = 6 } };',
    ],
  ];

for (const [name, events, text] of LASTLOG2_CASES) {
  test(`a lastlog2 digest gives the records of its text: ${name}`, () => {
    assert.deepEqual(
      lastlog2DigestRecords('h.test', 'u', events),
      lastlog2Records('h.test', 'u', text),
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
