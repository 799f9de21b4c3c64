/**
 * CSV injection (OWASP, "CSV Injection"): a cell that starts with `=`, `+`, `-`, `@`, a tab or a
 * carriage return is run as a formula by spreadsheets. Such text is written behind a single quote
 * (and quoted as RFC 4180 wants); numbers stay numbers, negative ones included.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { csvField, historyCsv, HISTORY_COLUMNS } from '../../main/core/history-export.js';
import { flatFigures } from '../fixtures/monitor-figures.js';

const cases: Array<[name: string, value: string | number | boolean | null, csv: string]> = [
  ['a formula behind = is neutralised', '=1+1', "'=1+1"],
  ['a DDE payload is neutralised and quoted', "=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"],
  ['a formula behind + is neutralised', '+1+1', "'+1+1"],
  ['a formula behind - is neutralised', '-1+1', "'-1+1"],
  ['a formula behind @ is neutralised', '@SUM(A1:A2)', "'@SUM(A1:A2)"],
  ['a leading tab is neutralised', '\t=1', "'\t=1"],
  ['a leading carriage return is neutralised and quoted', '\r=1', `"'\r=1"`],
  [
    'a formula with quotes is neutralised, then quoted with its quotes doubled',
    '=HYPERLINK("http://x","y")',
    `"'=HYPERLINK(""http://x"",""y"")"`,
  ],
  ['a negative number stays a number', -5, '-5'],
  ['a negative fraction stays a number', -1.5, '-1.5'],
  ['a positive number stays as it is', 1_796_302_731.5, '1796302731.5'],
  ['a trigger character inside the text is harmless and kept', 'a=b', 'a=b'],
  ['a host name with a hyphen inside stays bare', 'xmpp-1.example', 'xmpp-1.example'],
];

for (const [name, value, csv] of cases) {
  test(`csv field: ${name}`, () => {
    assert.equal(csvField(value), csv);
  });
}

test('a crafted host name in the history export is text, not a formula', () => {
  const csv = historyCsv([
    {
      profile: 'main',
      at: 1_795_536_000,
      ok: true,
      host: '=HYPERLINK("http://evil.example","click")',
      figures: flatFigures(1, -86_400),
      method: 'sqlite',
      bytesReceived: 1,
      seconds: 0,
      errorKind: null,
      errorMessage: null,
    },
  ]);
  const line = csv.split('\n')[1] ?? '';
  assert.ok(line.includes(`,"'=HYPERLINK(""http://evil.example"",""click"")",`), line);
  // The newest event before 1970 is still the number -86400.
  const fields = line.split(',');
  assert.ok(fields.includes('-86400'), line);
  assert.equal(HISTORY_COLUMNS.indexOf('host'), 4);
});
