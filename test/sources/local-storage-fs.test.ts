import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  localStorageFs,
  readCappedAsync,
  readCappedSync,
} from '../../main/sources/local-storage-fs.js';

const dir = mkdtempSync(join(tmpdir(), 'pau-local-fs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const readers = {
  sync: async (path: string, max: number) => readCappedSync(path, max),
  async: readCappedAsync,
  adaptive: localStorageFs.readCapped,
};

const cases: Array<{ name: string; content: string; max: number; expected: unknown }> = [
  { name: 'small', content: 'return { ["login"] = 1; };\n', max: 100, expected: 'text' },
  { name: 'empty', content: '', max: 100, expected: 'text' },
  { name: 'exactly-at-cap', content: 'x'.repeat(100), max: 100, expected: 'text' },
  { name: 'one-past-cap', content: 'x'.repeat(101), max: 100, expected: { tooLarge: true } },
  // Larger than one read: the chunks must join without losing or doubling a byte.
  { name: 'many-reads', content: 'zoë 美咲 '.repeat(5000), max: 1 << 20, expected: 'text' },
  {
    name: 'many-reads-past-cap',
    content: 'y'.repeat(70_000),
    max: 64 * 1024,
    expected: { tooLarge: true },
  },
];

for (const [kind, read] of Object.entries(readers)) {
  for (const c of cases) {
    test(`the ${kind} reader reads ${c.name} as ${c.expected === 'text' ? 'its text' : 'too large'}`, async () => {
      const path = file(`${kind}-${c.name}.dat`, c.content);
      const got = await read(path, c.max);
      assert.deepEqual(got, c.expected === 'text' ? { text: c.content } : c.expected);
    });
  }

  test(`the ${kind} reader gives null for a file that vanished`, async () => {
    assert.equal(await read(join(dir, `${kind}-gone.dat`), 100), null);
  });

  test(`the ${kind} reader decodes a multi-byte character split between two reads`, async () => {
    // 8191 ASCII bytes, then a two-byte character across the 8 KiB read boundary.
    const content = 'a'.repeat(8191) + 'ë' + 'b';
    const path = file(`${kind}-split.dat`, content);
    assert.deepEqual(await read(path, 1 << 20), { text: content });
  });

  test(`the ${kind} reader calls a folder not a plain file rather than empty`, async () => {
    const path = join(dir, `${kind}-folder.dat`);
    mkdirSync(path, { recursive: true });
    assert.deepEqual(await read(path, 100), { unreadable: 'not a plain file' });
  });

  test(`the ${kind} reader calls a FIFO not a plain file without waiting for a writer`, async () => {
    const path = join(dir, `${kind}-fifo.dat`);
    execFileSync('mkfifo', [path]);
    assert.deepEqual(await read(path, 100), { unreadable: 'not a plain file' });
  });
}

test('many reads at once through the adaptive reader all get their own text', async () => {
  const paths = Array.from({ length: 500 }, (_, i) =>
    file(`many-${i}.dat`, `return { ["timestamp"] = ${i}; };\n`),
  );
  const texts = await Promise.all(paths.map((p) => localStorageFs.readCapped(p, 1000)));
  texts.forEach((t, i) => assert.deepEqual(t, { text: `return { ["timestamp"] = ${i}; };\n` }));
});
