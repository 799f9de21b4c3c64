import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  HISTORY_COLUMNS,
  type HistoryRow,
  csvField,
  historyCsv,
  historyJson,
} from '../../main/core/history-export.js';
import { type Figures, TOTAL_HOST } from '../../main/core/monitor-types.js';
import { failedRefreshRow } from '../fixtures/monitor-figures.js';

const AT = 1_795_536_000; // 2026-11-24T16:00:00Z

const figures: Figures = {
  dau: 3,
  wau: 5,
  mau: 8,
  accounts: 13,
  new1d: 0,
  new7d: 1,
  new30d: 2,
  newestEvent: AT - 60,
};

const ok = (host: string, extra: Partial<HistoryRow> = {}): HistoryRow => ({
  profile: 'main',
  at: AT,
  ok: true,
  host,
  figures,
  method: 'sqlite',
  bytesReceived: 2048,
  seconds: 0.25,
  errorKind: null,
  errorMessage: null,
  ...extra,
});

const failed = (message: string): HistoryRow => failedRefreshRow(AT + 3600, message);

const fieldCases: Array<[name: string, value: string | number | boolean | null, csv: string]> = [
  ['a plain word stays bare', 'a.test', 'a.test'],
  ['null is an empty field', null, ''],
  ['the empty string is an empty field', '', ''],
  ['a number is written as is', 0.25, '0.25'],
  ['a boolean is true or false', false, 'false'],
  ['a comma is quoted', 'a,b', '"a,b"'],
  ['a double quote is doubled and quoted', 'say "hi"', '"say ""hi"""'],
  ['a line feed is quoted and kept', 'one\ntwo', '"one\ntwo"'],
  ['a carriage return is quoted and kept', 'one\r\ntwo', '"one\r\ntwo"'],
  ['leading space is quoted so it survives trimming readers', ' x', '" x"'],
  ['trailing space is quoted', 'x ', '"x "'],
  ['a host named * needs no quotes', '*', '*'],
  ['a single quote needs no quotes', "it's", "it's"],
];

for (const [name, value, csv] of fieldCases) {
  test(`csv field: ${name}`, () => {
    assert.equal(csvField(value), csv);
  });
}

const HEADER =
  'time,at,profile,ok,host,dau,wau,mau,accounts,new1d,new7d,new30d,newestEvent,method,' +
  'bytesReceived,seconds,errorKind,errorMessage,online,excludedDisabled,excludedNoAccount,total';

test('the CSV has a header line, then one line per host and per failed refresh', () => {
  const csv = historyCsv([ok(TOTAL_HOST), ok('a.test'), failed('Cannot reach xmpp.example.')]);
  assert.equal(
    csv,
    [
      HEADER,
      `2026-11-24T16:00:00Z,${AT},main,true,,3,5,8,13,0,1,2,${AT - 60},sqlite,2048,0.25,,,,,,true`,
      `2026-11-24T16:00:00Z,${AT},main,true,a.test,3,5,8,13,0,1,2,${AT - 60},sqlite,2048,0.25,,,,,,false`,
      `2026-11-24T17:00:00Z,${AT + 3600},main,false,,,,,,,,,,,,,network,Cannot reach xmpp.example.,,,,`,
      '',
    ].join('\n'),
  );
});

test('a failed refresh exports empty figures, not zeros', () => {
  const [, line] = historyCsv([failed('x')]).split('\n');
  const fields = line?.split(',') ?? [];
  for (const c of ['dau', 'wau', 'mau', 'accounts', 'new1d', 'new7d', 'new30d'] as const) {
    assert.equal(fields[HISTORY_COLUMNS.indexOf(c)], '', c);
  }
  const [json] = JSON.parse(historyJson([failed('x')])) as Array<Record<string, unknown>>;
  assert.equal(json?.dau, null);
  assert.equal(json?.errorKind, 'network');
});

const withExtras = (extra: Partial<Figures>): HistoryRow =>
  ok('a.test', {
    figures: { ...figures, ...extra },
  });

test('the new columns come after the old ones, so columns read by position keep their place', () => {
  assert.deepEqual(HISTORY_COLUMNS.slice(-5), [
    'errorMessage',
    'online',
    'excludedDisabled',
    'excludedNoAccount',
    'total',
  ]);
});

const extraCases: Array<[name: string, row: HistoryRow, csv: [string, string, string]]> = [
  [
    'known figures are written, zeros included',
    withExtras({ online: 0, excludedDisabled: 2, excludedNoAccount: 0 }),
    ['0', '2', '0'],
  ],
  ['figures recorded before they were kept are empty, not 0', withExtras({}), ['', '', '']],
  [
    'null figures (not measured) are empty, not 0',
    withExtras({ online: null, excludedDisabled: null, excludedNoAccount: null }),
    ['', '', ''],
  ],
  [
    'online without the exclusions (a 0.12 server with the live view)',
    withExtras({ online: 4 }),
    ['4', '', ''],
  ],
  [
    'the exclusions without online (Prosody 13, no live access)',
    withExtras({ excludedDisabled: 1, excludedNoAccount: 3 }),
    ['', '1', '3'],
  ],
  ['a failed refresh has them empty', failed('x'), ['', '', '']],
];

for (const [name, row, [online, disabled, noAccount]] of extraCases) {
  test(`online and the exclusions in the CSV: ${name}`, () => {
    const line = parseCsv(historyCsv([row]))[1] ?? [];
    assert.equal(line.length, HISTORY_COLUMNS.length);
    assert.equal(line[HISTORY_COLUMNS.indexOf('online')], online);
    assert.equal(line[HISTORY_COLUMNS.indexOf('excludedDisabled')], disabled);
    assert.equal(line[HISTORY_COLUMNS.indexOf('excludedNoAccount')], noAccount);
  });

  test(`online and the exclusions in the JSON: ${name}`, () => {
    const [json] = JSON.parse(historyJson([row])) as Array<Record<string, unknown>>;
    const asJson = (text: string) => (text === '' ? null : Number(text));
    assert.equal(json?.online, asJson(online));
    assert.equal(json?.excludedDisabled, asJson(disabled));
    assert.equal(json?.excludedNoAccount, asJson(noAccount));
  });
}

const quotingRows: Array<[name: string, row: HistoryRow, field: string]> = [
  ['a host name with a comma', ok('a,b.test'), '"a,b.test"'],
  ['a host name with quotes', ok('a"b'), '"a""b"'],
  ['a profile name with a comma', ok('a.test', { profile: 'home, office' }), '"home, office"'],
  ['an error message with a line break', failed('first\nsecond'), '"first\nsecond"'],
  ['an error message with a comma and quotes', failed('no "x", sorry'), '"no ""x"", sorry"'],
];

for (const [name, row, field] of quotingRows) {
  test(`the CSV quotes ${name}`, () => {
    assert.ok(historyCsv([row]).includes(`,${field}`));
    assert.deepEqual(parseCsv(historyCsv([row]))[1]?.length, HISTORY_COLUMNS.length);
  });
}

test('an empty history is a header alone in CSV and an empty array in JSON', () => {
  assert.equal(historyCsv([]), `${HEADER}\n`);
  assert.equal(historyJson([]), '[]\n');
  assert.deepEqual(JSON.parse(historyJson([])), []);
});

test('the JSON is an array of flat objects with the CSV column names, one per line', () => {
  const text = historyJson([ok(TOTAL_HOST), failed('boom')]);
  assert.equal(text.split('\n').length, 5); // [, two objects, ], and the final newline
  const rows = JSON.parse(text) as Array<Record<string, unknown>>;
  assert.deepEqual(
    rows.map((r) => Object.keys(r)),
    [[...HISTORY_COLUMNS], [...HISTORY_COLUMNS]],
  );
  assert.deepEqual(rows[0], {
    time: '2026-11-24T16:00:00Z',
    at: AT,
    profile: 'main',
    ok: true,
    host: null,
    ...figures,
    method: 'sqlite',
    bytesReceived: 2048,
    seconds: 0.25,
    errorKind: null,
    errorMessage: null,
    online: null,
    excludedDisabled: null,
    excludedNoAccount: null,
    total: true,
  });
  assert.equal(rows[1]?.ok, false);
  assert.equal(rows[1]?.host, null);
  assert.equal(rows[1]?.errorMessage, 'boom');
});

/** A strict RFC 4180 reader, to check that what we write reads back. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (c === '"') quoted = false;
      else field += c;
      i++;
      continue;
    }
    if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
    i++;
  }
  assert.equal(quoted, false, 'unterminated quote');
  assert.equal(row.length + field.length, 0, 'last line ends in a newline');
  return rows;
}

test('any host, profile and message reads back from the CSV, a formula trigger behind a quote', () => {
  fc.assert(
    fc.property(
      fc.string({ unit: 'binary' }),
      fc.string({ unit: 'binary' }),
      fc.string({ unit: 'binary' }),
      (host, profile, message) => {
        const rows = parseCsv(historyCsv([ok(host, { profile }), { ...failed(message), profile }]));
        assert.equal(rows.length, 3);
        const col = (name: (typeof HISTORY_COLUMNS)[number]) => HISTORY_COLUMNS.indexOf(name);
        // Text a spreadsheet would run as a formula comes back behind OWASP's single quote.
        const cell = (text: string) => (/^[=+\-@\t\r]/.test(text) ? `'${text}` : text);
        assert.equal(rows[1]?.[col('host')], cell(host));
        assert.equal(rows[1]?.[col('profile')], cell(profile));
        assert.equal(rows[2]?.[col('errorMessage')], cell(message));
        assert.ok(rows.every((r) => r.length === HISTORY_COLUMNS.length));
      },
    ),
  );
});
