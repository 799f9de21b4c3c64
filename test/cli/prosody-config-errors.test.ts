/**
 * A Prosody config that cannot be parsed is said, with its file and line: named with --config it
 * is an error (exit 1, one line), since the data found without it may not be the data meant; found
 * by default, a notice, and Prosody's defaults apply.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { countSources } from '../../main/core/activity-source.js';
import { discoverLocalSources } from '../../main/sources/discover-local.js';
import { parseProsodyConfig } from '../../main/sources/prosody-config-parser.js';
import { writeProsodyInternal } from '../fixtures/prosody-internal.js';
import { runBuiltCliAsync } from '../fixtures/run-built-cli.js';

const NOW = 1_795_536_000;
const dir = mkdtempSync(join(tmpdir(), 'pau-config-errors-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const BROKEN = 'VirtualHost "a.test"\n\nstorage = @sql\nVirtualHost "b.test"\n';

function brokenConfig(name: string): string {
  const path = join(dir, name);
  writeFileSync(path, BROKEN);
  return path;
}

const CASES: Array<[what: string, text: string, line: number]> = [
  ['an unexpected character', BROKEN, 3],
  ['an unfinished string', 'data_path = "/var/lib/prosody\nVirtualHost "a"\n', 1],
  ['a NUL byte', 'VirtualHost "a.test"\n\0\n', 2],
  ['nesting too deep', `x = ${'{'.repeat(1000)}`, 1],
];
for (const [what, text, line] of CASES) {
  test(`the config parser says on which line it stopped: ${what}`, () => {
    assert.equal(parseProsodyConfig(text).unreadable?.line, line);
  });
}

test('a config without errors has nothing unreadable', () => {
  assert.equal(
    parseProsodyConfig('VirtualHost "a.test"\n-- @ in a comment\n').unreadable,
    undefined,
  );
});

test('an unparseable --config exits 1 with one line naming the file and the line', async () => {
  const path = brokenConfig('named.cfg.lua');
  const r = await runBuiltCliAsync(['--config', path]);
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.ok(r.stderr.includes(path), r.stderr);
  assert.match(r.stderr, /line 3/);
});

test('an unparseable config found by default leaves a notice, and the default data is read', async () => {
  const data = join(dir, 'data');
  writeProsodyInternal(data, [{ host: 'a.test', user: 'x', event: 'login', timestamp: NOW - 60 }]);
  const path = brokenConfig('default.cfg.lua');
  const found = await discoverLocalSources(path, data);
  assert.ok(found.ok, JSON.stringify(found));
  const counted = await countSources(found.value, NOW);
  assert.ok(counted.ok);
  assert.equal(counted.value.total.dau, 1);
  assert.ok(
    counted.value.notices.some((n) => n.includes(path) && /line 3/.test(n)),
    counted.value.notices.join('\n'),
  );
});
