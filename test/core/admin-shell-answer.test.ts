import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ReplScanner,
  adminShellRequest,
  parseLiveAnswer,
  printableDetail,
  readReplFrame,
} from '../../main/core/admin-shell-answer.js';

const hex = (s: string) => Buffer.from(s, 'utf8').toString('hex');

test('an answer with hosts, online users and gauges is read', () => {
  const text = [
    'pau-live 1',
    `v ${hex('13.0.1')}`,
    `h ${hex('a.test')} 1 0 1`,
    `a ${hex('a.test')} ${hex('internal_hashed')}`,
    `c ${hex('a.test')} 0`,
    `u ${hex('a.test')} ${hex('zoë')}`,
    `u ${hex('a.test')} ${hex('bob')}`,
    `g ${hex('a.test')} 1d 2`,
    `g ${hex('a.test')} 7d 3.0`,
    `g ${hex('a.test')} 30d 3`,
    'end',
  ].join('\n');
  assert.deepEqual(parseLiveAnswer(text), {
    ok: true,
    hosts: {
      'a.test': {
        online: ['bob', 'zoë'],
        modules: { lastlog2: true, accountActivity: false, measureActiveUsers: true },
        gauges: { d1: 2, d7: 3, d30: 3 },
        facts: { version: '13.0.1', authentication: 'internal_hashed', countDisabled: false },
      },
    },
  });
});

test('a host without all three gauges has none', () => {
  const text = ['pau-live 1', `h ${hex('a.test')} 1 0 1`, `g ${hex('a.test')} 1d 2`, 'end'].join(
    '\n',
  );
  const r = parseLiveAnswer(text);
  assert.ok(r.ok);
  assert.equal(r.hosts['a.test']!.gauges, null);
});

const refused: Array<[name: string, lines: string[]]> = [
  ['a missing header', [`h ${hex('a')} 1 1 1`, 'end']],
  ['a missing end (cut short)', ['pau-live 1', `h ${hex('a')} 1 1 1`]],
  ['a name that is not hex', ['pau-live 1', 'h a.test 1 1 1', 'end']],
  ['a name that is not UTF-8', ['pau-live 1', 'h ff 1 1 1', 'end']],
  ['a user of an unknown host', ['pau-live 1', `u ${hex('a')} ${hex('bob')}`, 'end']],
  ['a negative gauge', ['pau-live 1', `h ${hex('a')} 1 1 1`, `g ${hex('a')} 1d -1`, 'end']],
  [
    'a gauge that is not a whole number',
    ['pau-live 1', `h ${hex('a')} 1 1 1`, `g ${hex('a')} 1d 2.5`, 'end'],
  ],
  ['an escape code in a line', ['pau-live 1', `h ${hex('a')} 1 1 1 \u001b[2J`, 'end']],
  [
    'a version after the first line',
    ['pau-live 1', `h ${hex('a')} 1 1 1`, `v ${hex('13')}`, 'end'],
  ],
  ['an auth provider of an unknown host', ['pau-live 1', `a ${hex('a')} ${hex('x')}`, 'end']],
  ['a host listed twice', ['pau-live 1', `h ${hex('a')} 1 1 1`, `h ${hex('a')} 1 1 1`, 'end']],
];

for (const [name, lines] of refused) {
  test(`an answer with ${name} is refused`, () => {
    assert.equal(parseLiveAnswer(lines.join('\n')).ok, false);
  });
}

test('the result after the stream header and output lines is found', () => {
  const got = readReplFrame(
    "<?xml version='1.0'?><stream:stream xmlns='xmpp:prosody.im/admin' id=''> <repl-output>x</repl-output><repl-result>Result: a &lt; b</repl-result>",
  );
  assert.deepEqual(got, { state: 'result', error: false, text: 'Result: a < b' });
});

test('a result not yet complete is waited for', () => {
  assert.deepEqual(readReplFrame('<stream:stream><repl-result>Result: pau'), { state: 'waiting' });
});

test('an error result is marked as one', () => {
  const got = readReplFrame("<repl-result type='error'>Sorry</repl-result>");
  assert.deepEqual(got, { state: 'result', error: true, text: 'Sorry' });
});

test('a stream error closes the exchange with its condition', () => {
  const got = readReplFrame(
    "<stream:stream><stream:error><invalid-namespace xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>",
  );
  assert.deepEqual(got, { state: 'closed', detail: 'stream error invalid-namespace' });
});

test('markup inside the result is refused', () => {
  assert.equal(readReplFrame('<repl-result>a<b/>c</repl-result>').state, 'closed');
});

test('the request escapes the query as XML text', () => {
  assert.match(
    adminShellRequest(`>a<b & 'c'`),
    /<repl-input>&gt;a&lt;b &amp; &apos;c&apos;<\/repl-input>$/,
  );
});

test('text from the server is shown without control characters, bounded', () => {
  assert.equal(printableDetail('a\u001b[31mb\nc'), 'a [31mb c');
  assert.equal(printableDetail('x'.repeat(300)).length, 201);
});

test('the scanner finds a result split across pieces, the closing tag included', () => {
  const scanner = new ReplScanner();
  const pieces = [
    "<stream:stream xmlns='xmpp:prosody.im/admin'>",
    '<repl-res',
    'ult>Result: pau',
    '-live 1</repl-',
    'result>',
  ];
  const frames = pieces.map((p) => scanner.push(p));
  assert.deepEqual(frames.at(-1), { state: 'result', error: false, text: 'Result: pau-live 1' });
  assert.ok(frames.slice(0, -1).every((f) => f.state === 'waiting'));
});

test('the scanner keeps only a window of the noise before the result', () => {
  const scanner = new ReplScanner();
  for (let i = 0; i < 1000; i++) assert.equal(scanner.push(' '.repeat(10_000)).state, 'waiting');
  assert.deepEqual(scanner.push('<repl-result type="error">no</repl-result>'), {
    state: 'result',
    error: true,
    text: 'no',
  });
});
