import assert from 'node:assert/strict';
import { test } from 'node:test';
import { showControls, showControlsKeepingLines } from '../../main/core/terminal-text.js';

const CASES: Array<[what: string, text: string, shown: string]> = [
  ['plain text is unchanged', 'example.org  DAU 3', 'example.org  DAU 3'],
  ['non-ASCII letters are unchanged', 'zoë.例え.test', 'zoë.例え.test'],
  ['ESC is shown as \\x1b', 'a\x1b[2Jb', 'a\\x1b[2Jb'],
  ['NUL and BEL are shown as \\x00 and \\x07', '\x00\x07', '\\x00\\x07'],
  ['DEL is shown as \\x7f', 'a\x7f', 'a\\x7f'],
  ['the C1 CSI is shown as \\x9b', '\u009b2J', '\\x9b2J'],
  ['CR, LF and tab are shown by name', 'a\rb\nc\td', 'a\\rb\\nc\\td'],
  ['a bidi override is shown as \\u202e', 'a\u202eb', 'a\\u202eb'],
  ['a bidi isolate is shown as \\u2066', '\u2066x\u2069', '\\u2066x\\u2069'],
];

for (const [what, text, shown] of CASES) {
  test(`showControls: ${what}`, () => assert.equal(showControls(text), shown));
}

test('showControlsKeepingLines keeps line feeds and shows the rest', () => {
  assert.equal(showControlsKeepingLines('a\x1b\nb\r\n'), 'a\\x1b\nb\\r\n');
});

test('showing is idempotent: shown text has nothing left to show', () => {
  for (const [, text] of CASES) assert.equal(showControls(showControls(text)), showControls(text));
});
