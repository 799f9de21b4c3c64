import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FilesStreamParser, NotOurScript } from '../../main/ssh/files-stream.js';

const BANNER = 'PAU-FILES 2 1795536100\n';
const LISTING =
  'd 4096 1795536000 a%2etest\0d 4096 1795536000 a%2etest/lastlog2\0' +
  'd 4096 1795536000 a%2etest/accounts\0d 4096 1795536000 b%2etest\0' +
  'd 4096 1795536000 b%2etest/lastlog2\0\0';
const A_FILES =
  'S a%2etest/lastlog2\0S a%2etest/accounts\0L 12 1795536001 u.dat login=1795536000.5 logout=\0' +
  'A 30 1795536002 u.dat 1\0l f 9 1795536003 v.dat\0Z 0\0Z 0\0E a%2etest\0';
const B_FILES = 'S b%2etest/lastlog2\0L 12 1795536001 w.dat login=1\0Z 0\0E b%2etest\0';
const WHOLE = `${BANNER}${LISTING}${A_FILES}${B_FILES}PAU-END\0`;

/** Feeds `stream` in chunks of `size` bytes and ends it. */
function parse(stream: string | Buffer, size = 7) {
  const bytes = Buffer.from(stream);
  const p = new FilesStreamParser();
  for (let i = 0; i < bytes.length; i += size) p.push(bytes.subarray(i, i + size));
  return p.end();
}

test('a whole stream gives the listing, each folder’s files and what was sent of them, in any chunking', () => {
  for (const size of [1, 3, 64, 4096]) {
    const r = parse(WHOLE, size);
    assert.equal(r.serverNow, 1795536100);
    assert.deepEqual(
      r.folders.get('a%2etest')?.map((e) => e.name),
      ['lastlog2', 'accounts'],
    );
    const lastlog2 = r.stores.get('a%2etest/lastlog2');
    assert.deepEqual(lastlog2?.entries(), [
      { name: 'u.dat', isDir: false, type: 'file', size: 12, mtime: 1795536001 },
      { name: 'v.dat', isDir: false, type: 'file', size: 9, mtime: 1795536003 },
    ]);
    // login=1795536000.5 logout= : one activity, one record without a timestamp.
    assert.deepEqual(lastlog2.take('u.dat', 64 * 1024, 12), {
      summary: [1795536000.5, null, 0, 0, 1],
    });
    assert.equal(lastlog2.take('v.dat', 64 * 1024, 9), null, 'nothing was sent of v.dat');
    assert.deepEqual(r.stores.get('a%2etest/accounts')?.take('u.dat', 16384, 30), {
      disabled: true,
    });
  }
});

test('the listing is whole at the first record after it, and a host at its end record', () => {
  const p = new FilesStreamParser();
  const steps: Array<[chunk: string, listed: boolean, a: boolean, b: boolean]> = [
    [BANNER, false, false, false],
    [LISTING, false, false, false],
    ['S a%2etest/lastlog2\0', true, false, false],
    [A_FILES.slice('S a%2etest/lastlog2\0'.length), true, true, false],
    [B_FILES, true, true, true],
    ['PAU-END\0', true, true, true],
  ];
  for (const [chunk, listed, a, b] of steps) {
    p.push(Buffer.from(chunk));
    assert.deepEqual(
      [p.listed, p.hostComplete('a%2etest'), p.hostComplete('b%2etest')],
      [listed, a, b],
      JSON.stringify(chunk),
    );
  }
  assert.equal(p.end(), p.sofar());
});

test('the halves of a folder, walked at once, make one listing', () => {
  const r = parse(
    `${BANNER}${LISTING}S a%2etest/lastlog2\0S a%2etest/accounts\0L 12 1 u1.dat login=1\0` +
      `S a%2etest/lastlog2\0A 5 1 u1.dat 0\0L 12 1 u9.dat login=9\0l f 3 1 u2.dat\0` +
      `Z 0\0Z 0\0Z 0\0E a%2etest\0PAU-END\0`,
  );
  assert.deepEqual(
    r.stores
      .get('a%2etest/lastlog2')
      ?.entries()
      .map((e) => e.name),
    ['u1.dat', 'u9.dat', 'u2.dat'],
  );
  assert.equal(r.stores.get('a%2etest/accounts')?.entries().length, 1);
});

test('a name with a newline in it is listed as it is', () => {
  const r = parse(
    `${BANNER}${LISTING}S a%2etest/lastlog2\0l f 3 1 new\nline.dat\0Z 0\0E a%2etest\0PAU-END\0`,
  );
  assert.deepEqual(
    r.stores
      .get('a%2etest/lastlog2')
      ?.entries()
      .map((e) => e.name),
    ['new\nline.dat'],
  );
});

test('a folder the listing had as unchanged is not taken from the walk, nor one it lacks', () => {
  const listing = LISTING.replace(
    'd 4096 1795536000 a%2etest/lastlog2',
    'U 4096 1 a%2etest/lastlog2',
  );
  const r = parse(
    `${BANNER}${listing}${A_FILES}${B_FILES.replace(/b%2etest/g, 'c%2etest')}PAU-END\0`,
  );
  assert.equal(r.stores.has('a%2etest/lastlog2'), false);
  assert.equal(r.stores.has('a%2etest/accounts'), true);
  assert.equal(r.stores.has('c%2etest/lastlog2'), false);
});

test('a listing that could not be made whole falls back to SFTP, whatever came of it', () => {
  const r = parse(`${BANNER}d 4096 1 a%2etest\0\0PAU-FALLBACK\0`);
  assert.equal(r.fallback, true);
  assert.equal(r.entries.size, 0);
});

test('anything but the banner first is not our script', () => {
  for (const stream of ['', 'Welcome!\n', '\0\0\0\x05\x02', 'x'.repeat(100), 'PAU-FILES 1 1\n']) {
    assert.throws(() => parse(stream), NotOurScript, JSON.stringify(stream));
  }
});

const hostile: Array<[string, string | Buffer, RegExp]> = [
  ['an endless name', `${BANNER}${'a'.repeat(20_000)}`, /name too long/],
  ['an endless record', `${BANNER}\0L ${'a'.repeat(70_000)}`, /record too long/],
  ['a listing record out of shape', `${BANNER}f -1 1 x\0`, /out of shape/],
  ['a path climbing out', `${BANNER}d 1 1 ../etc\0`, /out of place/],
  ['a path too deep', `${BANNER}f 1 1 a/b/c\0`, /out of place/],
  ['a path listed twice', `${BANNER}d 1 1 a\0d 1 1 a\0`, /twice/],
  [
    'a file listed twice',
    `${BANNER}${LISTING}S a%2etest/lastlog2\0l f 1 1 u.dat\0L 12 1 u.dat login=1\0E a%2etest\0`,
    /listed twice/,
  ],
  ['a stray record', `${BANNER}${LISTING}stray\0`, /out of place/],
  ['a file before its folder', `${BANNER}${LISTING}L 12 1 u.dat login=1\0`, /before its folder/],
  [
    'a file of the other store before its folder',
    `${BANNER}${LISTING}S a%2etest/lastlog2\0A 12 1 u.dat 1\0`,
    /before its folder/,
  ],
  [
    'an event out of shape',
    `${BANNER}${LISTING}S a%2etest/lastlog2\0L 12 1 u.dat login=os.exit()\0`,
    /event out of shape/,
  ],
  [
    'an account record out of shape',
    `${BANNER}${LISTING}S a%2etest/accounts\0A 12 1 u.dat yes\0`,
    /account record out of shape/,
  ],
  [
    'an account record with more after its flag',
    `${BANNER}${LISTING}S a%2etest/accounts\0A 12 1 u.dat 1 \0`,
    /account record out of shape/,
  ],
  [
    'an event record with two spaces between its events',
    `${BANNER}${LISTING}S a%2etest/lastlog2\0L 12 1 u.dat login=1  logout=2\0`,
    /event out of shape/,
  ],
  [
    'an event record ending in a space',
    `${BANNER}${LISTING}S a%2etest/lastlog2\0L 12 1 u.dat login=1 \0`,
    /event out of shape/,
  ],
  ['a name with a slash', `${BANNER}${LISTING}S a%2etest/lastlog2\0l f 1 1 ../x\0`, /out of shape/],
  ['escape codes as a record', `${BANNER}${LISTING}\u001b[2J\0`, /out of place/],
  ['a stream cut short', `${BANNER}${LISTING}${A_FILES}`, /before its end/],
  [
    'a host without its end',
    `${BANNER}${LISTING}S a%2etest/lastlog2\0PAU-END\0`,
    /without its end/,
  ],
  ['more after the end', `${WHOLE}more\0`, /after the end/],
  [
    'a folder that the server could not walk whole',
    `${BANNER}${LISTING}S a%2etest/lastlog2\0Z 1\0`,
    /could not list/,
  ],
  ['a host ended twice', `${BANNER}${LISTING}${A_FILES}E a%2etest\0`, /out of place/],
  [
    'a host ended inside another',
    `${BANNER}${LISTING}S a%2etest/lastlog2\0E b%2etest\0`,
    /out of place/,
  ],
  ['a host sent in two parts', `${BANNER}${LISTING}${A_FILES}S a%2etest/lastlog2\0`, /two parts/],
  [
    'a host inside another',
    `${BANNER}${LISTING}S a%2etest/lastlog2\0S b%2etest/lastlog2\0`,
    /two parts/,
  ],
  [
    'a fallback after the walk began',
    `${BANNER}${LISTING}S a%2etest/lastlog2\0PAU-FALLBACK\0`,
    /out of place/,
  ],
];

for (const [what, stream, reason] of hostile) {
  test(`${what} stops the read with a reason`, () => {
    assert.throws(() => parse(stream), reason);
  });
}
