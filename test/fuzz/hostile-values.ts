/**
 * Property-based generators of the values hostile data holds (issue 15, "Proof"): numbers in every
 * form, control and invalid characters, names that are JavaScript object keys.
 */
import fc from 'fast-check';

/** Numbers as text: integers, fractions, exponents, out of range, not numbers at all. */
export const numberText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '0',
    '-0',
    '1',
    '1.5',
    '1796302731.5',
    '-1',
    '1e3',
    '1E+3',
    '1e308',
    '-1e308',
    '1e400',
    '-1e400',
    '1e-400',
    '5e-324',
    '8640000000000',
    '8640000000001',
    '-8640000000001',
    '9007199254740993',
    '1e21',
    '0x10',
    '0X1P4',
    '.5',
    '5.',
    '1_000',
    '١٢٣',
    'NaN',
    'nan',
    '-nan',
    'inf',
    'Infinity',
    '-Infinity',
    '',
    ' ',
    '--1',
    '1e',
    'e5',
    '0b101',
    'true',
    'null',
  ),
  fc.integer().map(String),
  fc.double().map(String),
  fc.bigInt({ min: -(10n ** 400n), max: 10n ** 400n }).map(String),
  fc.stringMatching(/^-?[0-9]{1,400}(\.[0-9]{1,50})?([eE][+-]?[0-9]{1,4})?$/),
);

/** What JavaScript makes of a number's text, as JSON.parse and Lua would read it (roughly). */
export function numericValue(text: string): number {
  return Number(text.trim() === '' ? 'x' : text);
}

const ANY_UTF16_UNIT = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));

/** Control characters, lone surrogates, C1, bidi controls and object-key names. */
export const hostileName: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'toString',
    'hasOwnProperty',
    'valueOf',
    '*',
    'TOTAL',
    ' ',
    '\u0000',
    '\ud800',
    '\udfff',
    'a\u009b2Jb',
    '\x1b[2J\x1b[H',
    '\x1b]0;title\x07',
    'x\nTOTAL  999',
    'cr\r',
    '\u202eevil',
    '\u2066x\u2069',
    '%',
    '%2e',
    '..',
    'a/b',
    'zoë.例え',
  ),
  fc.string({ unit: ANY_UTF16_UNIT, minLength: 1, maxLength: 12 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
);

/** Bytes that are not UTF-8 (lone continuation bytes, overlong forms, surrogates, 0xFF). */
export const invalidUtf8: fc.Arbitrary<Buffer> = fc.oneof(
  fc.constantFrom(
    Buffer.from([0xff]),
    Buffer.from([0x80, 0x80]),
    Buffer.from([0xc0, 0xaf]),
    Buffer.from([0xed, 0xa0, 0x80]),
    Buffer.from([0xf4, 0x90, 0x80, 0x80]),
    Buffer.from([0xe2, 0x82]),
  ),
  fc.uint8Array({ minLength: 1, maxLength: 16 }).map((a) => Buffer.from(a)),
);
