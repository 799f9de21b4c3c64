/**
 * The head of a sent file's record read from its bytes (main/ssh/sent-file-record.ts) takes
 * exactly what the stream's patterns took, and reads the same numbers and name, whatever the
 * server sends.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { head, sentFileHead } from '../../main/ssh/sent-file-record.js';

/** The patterns the stream's records were read by before (files-stream.ts), less their rest. */
const HEAD = /^[LA] (\d{1,9}) (-?\d{1,15}) ([A-Za-z0-9%.]{1,255})(?![A-Za-z0-9%.])/;

function viaBytes(record: string): [number, number, string] | null {
  const piece = Buffer.from(record, 'latin1');
  if (!sentFileHead(piece)) return null;
  return [head.size, head.mtime, piece.toString('latin1', head.nameStart, head.nameEnd)];
}

function viaPattern(record: string): [number, number, string] | null {
  const m = HEAD.exec(record);
  return m ? [Number(m[1]), Number(m[2]), m[3]!] : null;
}

const CASES = [
  'L 120 1785618589 alice.dat login=1785618589',
  'A 12 -5 %c3%bc.dat 1',
  'A 0 -0 a 0',
  'L 999999999 999999999999999 a',
  'L 1000000000 1 a',
  'L 1 1000000000000000 a',
  'L 01 007 a.dat',
  'L  1 1 a',
  'L 1  1 a',
  'L 1 1  a',
  'L 1 1 ',
  'L 1 1',
  'L 1 - a',
  'L 1 --1 a',
  'L -1 1 a',
  'L 1 1.5 a',
  'L 1 1 a_b',
  'L 1 1 a\u00e9',
  `L 1 1 ${'n'.repeat(255)}`,
  `L 1 1 ${'n'.repeat(256)}`,
  `L 1 1 ${'n'.repeat(255)} x=1`,
  'L',
  'A',
  'Lx1 1 a',
  'L 1x 1 a',
];

for (const record of CASES) {
  test(`a record's head is read as the pattern read it: ${JSON.stringify(record)}`, () => {
    assert.deepEqual(viaBytes(record), viaPattern(record));
  });
}

test('any record of digits, signs, spaces and name bytes is read as the pattern read it', () => {
  const unit = fc.constantFrom('1', '0', '9', '-', ' ', 'a', '%', '.', '_', '\u00e9', '=');
  fc.assert(
    fc.property(
      fc.constantFrom('L ', 'A ', 'L', 'A  '),
      fc.string({ unit, maxLength: 30 }),
      (k, r) => {
        const record = k + r;
        assert.deepEqual(viaBytes(record), viaPattern(record));
      },
    ),
    { numRuns: 20_000 },
  );
});

test('any record built of fields near their limits is read as the pattern read it', () => {
  const digits = (max: number) =>
    fc.string({ unit: fc.constantFrom('0', '1', '9'), maxLength: max });
  const name = fc.string({ unit: fc.constantFrom('a', 'Z', '5', '%', '.', '_'), maxLength: 260 });
  fc.assert(
    fc.property(
      fc.constantFrom('L', 'A'),
      digits(11),
      fc.constantFrom('', '-', '--'),
      digits(17),
      name,
      fc.constantFrom('', ' 1', ' x=1', 'é', '  '),
      (k, size, sign, mtime, n, rest) => {
        const record = `${k} ${size} ${sign}${mtime} ${n}${rest}`;
        assert.deepEqual(viaBytes(record), viaPattern(record));
      },
    ),
    { numRuns: 20_000 },
  );
});
