/** Reading what the remote query's script prints: every shape it can take, and what is refused. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { remoteQueryCommand } from '../../main/ssh/remote-query-command.js';
import { parseRemoteQueryOutput } from '../../main/ssh/remote-query-reader.js';

const out = (body: string, before = '1 1 0 64 7', after = before) =>
  `PAU:before: ${before} \nPAU:v7:1795536000\nPAU:state:1.1.0.64.32.32.0.0.0.7.1234.8192.1795536000.1795536001\n${body}${body === '' ? '' : '\n'}PAU:after: ${after} \n`;

test('accounts, accounts with skip counts, changed accounts and the digest', () => {
  const parsed = parseRemoteQueryOutput(
    out(
      [
        '["a.test","zoë",1795530000,null,1,1,17]',
        '["a.test","x\\ny",null,1795000000,2,0,2147483646,1,0,2]',
        '[2,"a.test","zoë",5,1]',
        '[2,"b.test","gone",0,0]',
        '[1,123456789,8969995]',
      ].join('\n'),
    ),
  );
  assert.deepEqual(parsed, {
    kind: 'rows',
    accounts: [
      ['a.test', 'zoë', 1795530000, null, 0, 0, 0, 1, 1, 17],
      ['a.test', 'x\ny', null, 1795000000, 1, 0, 2, 2, 0, 2147483646],
    ],
    digest: 123456789,
    maxRowid: 8969995,
    changed: [
      { host: 'a.test', user: 'zoë', rest: 5, fresh: true },
      { host: 'b.test', user: 'gone', rest: 0, fresh: false },
    ],
    serverNow: 1795536000,
    wal: false,
    consistent: true,
    state: '1.1.0.64.32.32.0.0.0.7.1234.8192.1795536000.1795536001',
    unchanged: false,
  });
});

test('no accounts at all, WAL mode, and a change counter that moved', () => {
  assert.deepEqual(parseRemoteQueryOutput(out('[1,0]', '2 2 0 64 7', '2 2 0 64 8')), {
    kind: 'rows',
    accounts: [],
    digest: 0,
    maxRowid: null,
    changed: [],
    serverNow: 1795536000,
    wal: true,
    consistent: false,
    state: '1.1.0.64.32.32.0.0.0.7.1234.8192.1795536000.1795536001',
    unchanged: false,
  });
});

test('"unchanged" comes with the file state and nothing else', () => {
  const parsed = parseRemoteQueryOutput(out('PAU:unchanged'));
  assert.equal(parsed.kind === 'rows' && parsed.unchanged, true);
  assert.equal(
    parsed.kind === 'rows' && parsed.state,
    '1.1.0.64.32.32.0.0.0.7.1234.8192.1795536000.1795536001',
  );
});

test('a server that cannot tell the file state sends an empty one: no state, rows as before', () => {
  const parsed = parseRemoteQueryOutput(
    out('[1,0]').replace(
      'PAU:state:1.1.0.64.32.32.0.0.0.7.1234.8192.1795536000.1795536001',
      'PAU:state:',
    ),
  );
  assert.equal(parsed.kind === 'rows' && parsed.state, null);
  const unchanged = parseRemoteQueryOutput(
    out('PAU:unchanged').replace(
      'PAU:state:1.1.0.64.32.32.0.0.0.7.1234.8192.1795536000.1795536001',
      'PAU:state:',
    ),
  );
  assert.equal(unchanged.kind, 'garbage');
});

test('the file state the client holds goes after the time, in the same last word', () => {
  const all = remoteQueryCommand('/var/lib/prosody/prosody.sqlite');
  assert.equal(
    remoteQueryCommand(
      '/p.sqlite',
      123,
      '1.1.0.64.32.32.0.0.0.7.1234.8192.1795536000.1795536001',
    )?.endsWith(' pau 123_1.1.0.64.32.32.0.0.0.7.1234.8192.1795536000.1795536001'),
    true,
  );
  for (const bad of [
    '1.2;3',
    '1.2.3',
    '1.1.0.64.32.32.0.0.0.7.1234.8192.1795536000.1795536001.4',
    '1.1.0.64.32.32.0.0.0.7.1234.8192.1795536000.1795536001 ',
    '1_1.1.0.64.32.32.0.0.0.7.1234.8192.1795536000.1795536001',
    '',
  ]) {
    assert.throws(() => remoteQueryCommand('/p.sqlite', 123, bad), RangeError, bad);
  }
  assert.ok(all !== null);
});

test('what does not fit is garbage or an older format, never half-used', () => {
  const cases: Array<[string, string]> = [
    [out('["a.test","u",1,null,1,0,5]\n[1,0]\n[1,0]'), 'garbage'],
    [out('["a.test","u",1,null,1,0,5]'), 'garbage'],
    [out('["a.test","u",1,null,1,0]\n[1,0]'), 'garbage'],
    [out('["a.test","u",1,null,1,2,5]\n[1,0]'), 'garbage'],
    [out('["a.test","u",1,null,3,0,5]\n[1,0]'), 'garbage'],
    [out('["a.test",7,1,null,1,0,5]\n[1,0]'), 'garbage'],
    [out('["a.test","u",1,null,1,0,2147483647]\n[1,0]'), 'garbage'],
    [out('["a.test","u",1,null,1,0,-1]\n[1,0]'), 'garbage'],
    [out('[1,2147483647]'), 'garbage'],
    [out('[1,0.5]'), 'garbage'],
    [out('[2,"a.test","u",1]\n[1,0]'), 'garbage'],
    [out('[2,"a.test","u",1,2]\n[1,0]'), 'garbage'],
    [out('[0,"a.test",1,0,0,0,1,0,0,0,5]\n[1,0]'), 'garbage'],
    [out('["a.test","u",1,null,1,0,5]').replace(/PAU:after.*\n$/, ''), 'garbage'],
    ['PAU:before: 1 \n[{"host":"a"}]\nPAU:after: 1 \n', 'old-format'],
    ['PAU:before: 1 \nPAU:v2:1795536000\n["a.test","u",1,null]\nPAU:after: 1 \n', 'old-format'],
    [
      'PAU:before: 1 \nPAU:v5:1795536000\nPAU:state:\n[0,"a.test",1,0,0,0,1,0,0,0,5]\nPAU:after: 1 \n',
      'old-format',
    ],
    ['PAU:before: 1 \nPAU:v6:1795536000\nPAU:state:\n[1,0]\nPAU:after: 1 \n', 'old-format'],
    [out('[1,0,-1]'), 'garbage'],
    [out('[1,0,1.5]'), 'garbage'],
    [out('[1,0,"7"]'), 'garbage'],
    [out('[1,0,7,8]'), 'garbage'],
    ['PAU:before: 1 \nPAU:v7:1795536000\nPAU:after: 1 \n', 'garbage'],
    ['PAU:before: 1 \nPAU:v7:1795536000\nPAU:state:1.x\nPAU:after: 1 \n', 'garbage'],
    [out('PAU:unchanged\n["a.test","u",1,null,1,0,5]'), 'garbage'],
    ['PAU:not-found\n', 'not-found'],
    ['', 'garbage'],
  ];
  for (const [text, kind] of cases) assert.equal(parseRemoteQueryOutput(text).kind, kind, text);
});

test('a highest rowid beyond what a JSON number holds exactly is not known, not garbage', () => {
  const parsed = parseRemoteQueryOutput(out('[1,0,9223372036854775807]'));
  assert.equal(parsed.kind === 'rows' && parsed.maxRowid, null);
});

test('the highest rowid the client holds goes after the file state, in the same last word', () => {
  const state = '1.1.0.64.32.32.0.0.0.7.1234.8192.1795536000.1795536001';
  assert.equal(
    remoteQueryCommand('/p.sqlite', 123, state, 8969995)?.endsWith(` pau 123_${state}_8969995`),
    true,
  );
  for (const bad of [-1, 1.5, 2 ** 53]) {
    assert.throws(() => remoteQueryCommand('/p.sqlite', 123, state, bad), RangeError);
  }
  assert.throws(() => remoteQueryCommand('/p.sqlite', 123, undefined, 5), RangeError);
});

test('the time to start from is a number at the end of the command, or nothing', () => {
  const all = remoteQueryCommand('/var/lib/prosody/prosody.sqlite');
  assert.ok(all !== null && all.endsWith("'"));
  assert.equal(remoteQueryCommand('/var/lib/prosody/prosody.sqlite', 123), `${all} pau 123`);
  assert.throws(() => remoteQueryCommand('/var/lib/prosody/prosody.sqlite', -1));
  assert.throws(() => remoteQueryCommand('/var/lib/prosody/prosody.sqlite', 1.5));
  assert.equal(remoteQueryCommand('relative.sqlite', 123), null);
});

test('the installed Prosody version comes along on the format line, and nothing odd does', () => {
  const withVersion = (v: string) =>
    parseRemoteQueryOutput(
      `PAU:before: 1 \nPAU:v7:1795536000:${v}\nPAU:state:\n[1,0]\nPAU:after: 1 \n`,
    );
  const good = withVersion('13.0.1');
  assert.equal(good.kind === 'rows' && good.version, '13.0.1');
  const none = withVersion('');
  assert.equal(none.kind === 'rows' && none.version, undefined);
  assert.notEqual(withVersion('13\u001b[31m').kind, 'rows');
});

test('the remote command reads the version file and keeps only version characters', () => {
  const command = remoteQueryCommand('/var/lib/prosody/prosody.sqlite');
  assert.match(command ?? '', /\/usr\/lib\/prosody\/prosody\.version/);
  assert.match(command ?? '', /tr -cd/);
});

test('accounts spread over many blocks come back exactly, whatever memory the blocks were given', () => {
  // Old lines in freed memory are what a block's unused tail may hold: make some first.
  for (let i = 0; i < 20; i++) Buffer.allocUnsafe(1 << 20).fill('l,1,1,5]\n');
  const lines = Array.from(
    { length: 60_000 },
    (_, i) => `["a.test","user${'x'.repeat(i % 37)}${i}",${1795530000 + i},null,1,0,${i}]`,
  );
  const parsed = parseRemoteQueryOutput(out([...lines, '[1,0]'].join('\n')));
  assert.equal(parsed.kind, 'rows');
  if (parsed.kind !== 'rows') return;
  assert.equal(parsed.accounts.length, lines.length);
  assert.deepEqual(parsed.accounts.at(-1), [
    'a.test',
    `user${'x'.repeat(59_999 % 37)}59999`,
    1795530000 + 59_999,
    null,
    0,
    0,
    0,
    1,
    0,
    59_999,
  ]);
});
