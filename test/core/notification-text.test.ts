import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  MAX_BODY_CHARS,
  MAX_TITLE_CHARS,
  boundText,
  escapeBodyMarkup,
  safeNotificationText,
} from '../../main/core/notification-text.js';

const texts: Array<
  [name: string, title: string, body: string, safeTitle: string, safeBody: string]
> = [
  ['plain text is unchanged', 'home: DAU up 5 %', 'DAU 1 → 2', 'home: DAU up 5 %', 'DAU 1 → 2'],
  [
    'an escape sequence is shown escaped',
    'no logins on \x1b[2Jevil.org',
    'on \x1b]0;title\x07x',
    'no logins on \\x1b[2Jevil.org',
    'on \\x1b]0;title\\x07x',
  ],
  [
    'a bidi override is shown escaped',
    'on \u202egro.elpmaxe',
    'on \u202egro.elpmaxe',
    'on \\u202egro.elpmaxe',
    'on \\u202egro.elpmaxe',
  ],
  [
    'a line break is escaped in the title and kept in the body',
    'a\nTOTAL 999',
    'a\nb\rc',
    'a\\nTOTAL 999',
    'a\nb\\rc',
  ],
];
for (const [name, title, body, safeTitle, safeBody] of texts) {
  test(`in a notification ${name}`, () => {
    assert.deepEqual(safeNotificationText(title, body), { title: safeTitle, body: safeBody });
  });
}

test('a title longer than the bound is cut to it, ending in an ellipsis', () => {
  const { title } = safeNotificationText(`home: no logins on ${'a'.repeat(10_000)}.org`, 'b');
  assert.equal(Array.from(title).length, MAX_TITLE_CHARS);
  assert.ok(title.endsWith('a\u2026'));
});

test('a body longer than the bound is cut to it, ending in an ellipsis', () => {
  const { body } = safeNotificationText('t', 'x'.repeat(50_000));
  assert.equal(body, 'x'.repeat(MAX_BODY_CHARS - 1) + '\u2026');
});

test('a cut never splits a character outside the BMP', () => {
  assert.equal(boundText('😀'.repeat(10), 4), '😀😀😀\u2026');
});

test('text within the bound is not cut', () => {
  assert.equal(
    boundText('x'.repeat(MAX_TITLE_CHARS), MAX_TITLE_CHARS),
    'x'.repeat(MAX_TITLE_CHARS),
  );
});

const markup: Array<[string, string]> = [
  [
    '<a href="https://evil.example/">login</a>',
    '&lt;a href="https://evil.example/"&gt;login&lt;/a&gt;',
  ],
  ['<img src="/tmp/x.png"/>', '&lt;img src="/tmp/x.png"/&gt;'],
  ['&amp; &lt;', '&amp;amp; &amp;lt;'],
  ['plain → −', 'plain → −'],
];
for (const [text, escaped] of markup) {
  test(`for a markup-reading daemon ${JSON.stringify(text)} is sent as ${JSON.stringify(escaped)}`, () => {
    assert.equal(escapeBodyMarkup(text), escaped);
  });
}
