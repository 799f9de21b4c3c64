/**
 * Only regular files are read: a FIFO named as the Prosody config, the settings, the SSH config, a
 * key or known_hosts would otherwise block the read forever (a FIFO's open waits for a writer).
 * Through the built CLI, with real FIFOs.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { countSources } from '../../main/core/activity-source.js';
import { discoverLocalSources } from '../../main/sources/discover-local.js';
import { writeProsodyInternal } from '../fixtures/prosody-internal.js';
import { runBuiltCliAsync } from '../fixtures/run-built-cli.js';

const NOW = 1_795_536_000;
const dir = mkdtempSync(join(tmpdir(), 'pau-special-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function fifo(name: string): string {
  const path = join(dir, name);
  execFileSync('mkfifo', [path]);
  return path;
}

async function assertOneLine(args: string[], pattern: RegExp): Promise<void> {
  const r = await runBuiltCliAsync(args);
  assert.equal(r.status, 1, `status ${r.status}\n${r.stderr}`);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, pattern);
}

test('a FIFO as --config is refused with one line', async () => {
  await assertOneLine(['--config', fifo('prosody.cfg.lua')], /is a FIFO, not a regular file/);
});

test('a FIFO as settings.json is refused with one line', async () => {
  const stateDir = join(dir, 'state');
  mkdirSync(stateDir);
  execFileSync('mkfifo', [join(stateDir, 'settings.json')]);
  await assertOneLine(['--profile', 'p', '--state-dir', stateDir], /a FIFO, not a regular file/);
});

for (const option of ['--ssh-config', '--identity', '--known-hosts']) {
  test(`a FIFO as ${option} is refused with one line, before connecting`, async () => {
    const others = option === '--ssh-config' ? [] : ['--ssh-config', '/dev/null'];
    await assertOneLine(
      ['--ssh', '127.0.0.1:1', ...others, option, fifo(`${option.slice(2)}-fifo`)],
      /a FIFO, not a regular file/,
    );
  });
}

test('a FIFO where the config is looked for by default leaves a notice, and the data is read', async () => {
  const data = join(dir, 'data');
  writeProsodyInternal(data, [{ host: 'a.test', user: 'x', event: 'login', timestamp: NOW - 60 }]);
  const found = await discoverLocalSources(fifo('default.cfg.lua'), data);
  assert.ok(found.ok, JSON.stringify(found));
  const counted = await countSources(found.value, NOW);
  assert.ok(counted.ok);
  assert.equal(counted.value.total.dau, 1);
  assert.match(counted.value.notices.join('\n'), /default\.cfg\.lua is a FIFO, not a regular file/);
});

test('a FIFO as --db is refused with one line', async () => {
  await assertOneLine(['--db', fifo('prosody.sqlite')], /a FIFO, not a regular file/);
});
