import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeProsodyName, encodeProsodyName } from '../../main/sources/prosody-name-encoding.js';

// Checked against util.datamanager's path_encode in Prosody 0.12.3.
const encodings: Array<[name: string, encoded: string]> = [
  ['example.org', 'example%2eorg'],
  ['o.neil-x_y', 'o%2eneil%2dx%5fy'],
  ['zoë', 'zo%c3%ab'],
  ['Alice42', 'Alice42'],
  ['', ''],
  ['a b/c%', 'a%20b%2fc%25'],
  ['😀', '%f0%9f%98%80'],
  ['\u0000', '%00'],
];

for (const [name, encoded] of encodings) {
  test(`${JSON.stringify(name)} is encoded as ${JSON.stringify(encoded)}`, () => {
    assert.equal(encodeProsodyName(name), encoded);
  });

  test(`${JSON.stringify(encoded)} is decoded as ${JSON.stringify(name)}`, () => {
    assert.equal(decodeProsodyName(encoded), name);
  });
}

test('upper-case hex digits are decoded too', () => {
  assert.equal(decodeProsodyName('zo%C3%AB%2E'), 'zoë.');
});

test('an escaped letter or digit is decoded although Prosody would not escape it', () => {
  assert.equal(decodeProsodyName('%41b'), 'Ab');
});

test('a leading byte order mark is kept', () => {
  assert.equal(decodeProsodyName('%ef%bb%bfa'), '\uFEFFa');
});

const invalid: Array<[what: string, encoded: string]> = [
  ['a stray % at the end', 'abc%'],
  ['a % with one hex digit', 'abc%4'],
  ['a % with non-hex digits', 'abc%zz'],
  ['a % followed by a sign', '%+1'],
  ['an unescaped dot', 'example.org'],
  ['an unescaped underscore', 'a_b'],
  ['an unescaped non-ASCII letter', 'zoë'],
  ['a byte that cannot start UTF-8', '%ff'],
  ['a truncated UTF-8 sequence', 'zo%c3'],
  ['an overlong UTF-8 sequence', '%c0%af'],
  ['an encoded UTF-16 surrogate', '%ed%a0%80'],
];

for (const [what, encoded] of invalid) {
  test(`${what} is not a valid encoding`, () => {
    assert.equal(decodeProsodyName(encoded), null);
  });
}

test('an encoded name holds only ASCII letters, digits and lower-case %xx escapes', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (name) => {
      assert.match(encodeProsodyName(name), /^(?:[A-Za-z0-9]|%[0-9a-f]{2})*$/);
    }),
  );
});

test('decoding an encoded name gives the name back', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ unit: 'grapheme' }),
        fc.string({ unit: 'binary-ascii' }),
        // Every code point, lone surrogates left out: they have no UTF-8 form.
        fc.string({ unit: 'binary' }).filter((s) => Buffer.from(s, 'utf8').toString('utf8') === s),
      ),
      (name) => {
        assert.equal(decodeProsodyName(encodeProsodyName(name)), name);
      },
    ),
    { numRuns: 1000 },
  );
});

test('decoding accepts upper-case hex wherever lower-case works', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme' }), (name) => {
      const upper = encodeProsodyName(name).replace(/%[0-9a-f]{2}/g, (m) => m.toUpperCase());
      assert.equal(decodeProsodyName(upper), name);
    }),
  );
});

test('decoding never throws on arbitrary text', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ unit: 'binary' }),
        fc
          .array(fc.constantFrom('%', 'a', '0', 'f', 'F', 'c3', 'ab', 'ff', 'ed', '.'), {
            maxLength: 20,
          })
          .map((p) => p.join('')),
      ),
      (text) => {
        const d = decodeProsodyName(text);
        assert.ok(d === null || typeof d === 'string');
      },
    ),
    { numRuns: 2000 },
  );
});

test('a name decoded after a longer one, and one longer than any before, are each whole', () => {
  const long = 'z%c3%ab'.repeat(200);
  assert.equal(decodeProsodyName('%41'.repeat(100)), 'A'.repeat(100));
  assert.equal(decodeProsodyName('b%2ec'), 'b.c');
  assert.equal(decodeProsodyName(long), 'zë'.repeat(200));
  assert.equal(decodeProsodyName('%c3%ab'), 'ë');
  assert.equal(decodeProsodyName('plain'), 'plain');
  assert.equal(decodeProsodyName('%c3'), null);
});
