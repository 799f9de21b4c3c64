import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FilesStreamParser, NotOurScript } from '../../main/ssh/files-stream.js';

const LISTING =
  'd 4096 1795536000.5 a%2etest\0d 4096 1795536000 a%2etest/lastlog2\0' +
  'f 12 1795536001.25 a%2etest/lastlog2/u.dat\0\0';
const FILE = 'L ./a%2etest/lastlog2/u.dat 12 login=1795536000.5 logout=\n';

/** Feeds `stream` in chunks of `size` bytes and ends it. */
function parse(stream: string | Buffer, size = 7) {
  const bytes = Buffer.from(stream);
  const p = new FilesStreamParser();
  for (let i = 0; i < bytes.length; i += size) p.push(bytes.subarray(i, i + size));
  return p.end();
}

test('a whole stream gives the listing, whole-second mtimes and each file’s events, in any chunking', () => {
  for (const size of [1, 3, 64, 4096]) {
    const r = parse(`PAU-FILES 1 1795536100\n${LISTING}${FILE}PAU-END\n`, size);
    assert.equal(r.serverNow, 1795536100);
    const store = r.stores.get('a%2etest/lastlog2');
    assert.deepEqual(store?.entries(), [
      { name: 'u.dat', isDir: false, type: 'file', size: 12, mtime: 1795536001 },
    ]);
    // login=1795536000.5 logout= : one activity, one record without a timestamp.
    assert.deepEqual(store.take('u.dat', 64 * 1024, 12), {
      summary: [1795536000.5, null, 0, 0, 1],
    });
  }
});

test('the listing is whole at the first line after it, and a host once the next host’s lines come', () => {
  const p = new FilesStreamParser();
  const steps: Array<[chunk: string, listed: boolean, a: boolean, b: boolean]> = [
    ['PAU-FILES 1 1\n', false, false, false],
    [LISTING, false, false, false],
    [FILE, true, false, false],
    ['A ./a%2etest/accounts/u.dat 5 0\n', true, false, false],
    ['L ./b%2etest/lastlog2/u.dat 12 login=1\n', true, true, false],
    ['PAU-END\n', true, true, true],
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

test('a name with a newline in it is listed as it is', () => {
  const r = parse(`PAU-FILES 1 1\nf 3 1 a%2etest/lastlog2/new\nline.dat\0\0PAU-END\n`);
  assert.deepEqual(
    r.stores
      .get('a%2etest/lastlog2')
      ?.entries()
      .map((e) => e.name),
    ['new\nline.dat'],
  );
});

test('a file that was not listed is not used', () => {
  const r = parse(`PAU-FILES 1 1\n${LISTING}L ./a%2etest/lastlog2/new.dat 3 login=1\nPAU-END\n`);
  assert.equal(r.stores.get('a%2etest/lastlog2')?.take('new.dat', 64 * 1024, 3), null);
});

test('anything but the banner first is not our script', () => {
  for (const stream of ['', 'Welcome!\n', '\0\0\0\x05\x02', 'x'.repeat(100)]) {
    assert.throws(() => parse(stream), NotOurScript, JSON.stringify(stream));
  }
});

const hostile: Array<[string, string | Buffer, RegExp]> = [
  ['an endless name', `PAU-FILES 1 1\n${'a'.repeat(20_000)}`, /name too long/],
  ['an endless line', `PAU-FILES 1 1\n\0L ${'a'.repeat(70_000)}`, /line too long/],
  ['a record out of shape', 'PAU-FILES 1 1\nf -1 1 x\0', /out of shape/],
  ['a path climbing out', 'PAU-FILES 1 1\nf 1 1 ../etc/shadow\0', /out of place/],
  ['a path listed twice', 'PAU-FILES 1 1\nd 1 1 a\0d 1 1 a\0', /twice/],
  [
    'a file listed twice',
    `PAU-FILES 1 1\n${LISTING.slice(0, -1)}f 12 1 a%2etest/lastlog2/u.dat\0\0PAU-END\n`,
    /listed twice/,
  ],
  ['a stray line', `PAU-FILES 1 1\n${LISTING} stray\n`, /out of place/],
  [
    'an event out of shape',
    `PAU-FILES 1 1\n${LISTING}L ./a%2etest/lastlog2/u.dat 12 login=os.exit()\n`,
    /event out of shape/,
  ],
  [
    'a verdict in the wrong store',
    `PAU-FILES 1 1\n${LISTING}A ./a%2etest/lastlog2/u.dat 12 1\n`,
    /wrong store/,
  ],
  ['escape codes as a line', `PAU-FILES 1 1\n${LISTING}\u001b[2J\n`, /out of place/],
  ['a stream cut short', `PAU-FILES 1 1\n${LISTING}${FILE}`, /before its end/],
  ['more after the end', `PAU-FILES 1 1\n${LISTING}PAU-END\nmore\n`, /after the end/],
  ['a file sent twice', `PAU-FILES 1 1\n${LISTING}${FILE}${FILE}PAU-END\n`, /twice/],
  [
    'a host sent in two parts',
    `PAU-FILES 1 1\n${LISTING}${FILE}L ./b%2etest/lastlog2/u.dat 12 login=1\n${FILE.replace('u.dat', 'v.dat')}`,
    /two parts/,
  ],
];

for (const [what, stream, reason] of hostile) {
  test(`${what} stops the read with a reason`, () => {
    assert.throws(() => parse(stream), reason);
  });
}
