/**
 * Every SFTP request internal storage makes waits at most the step time that --timeout sets
 * (8 × --timeout), never a fixed two minutes. A server that leaves a READ unanswered is an
 * in-process ssh2 server (test/support/fault-server.ts): a real sshd answers every request.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, test } from 'node:test';
import { writeProsodyInternal } from '../fixtures/prosody-internal.js';
import { runBuiltCliAsync } from '../fixtures/run-built-cli.js';
import { sshCliOptions } from '../helpers/ssh-test-host.js';
import { startFaultServer } from '../support/fault-server.js';

const NOW = 1_795_536_000;
const DATA_DIR = '/var/lib/prosody';
const work = mkdtempSync(join(tmpdir(), 'pau-internal-timeout-'));
after(() => rmSync(work, { recursive: true, force: true }));

function internalFiles(): Map<string, Buffer> {
  const local = join(work, 'data');
  writeProsodyInternal(
    local,
    Array.from({ length: 20 }, (_, i) => ({
      host: 'a.test',
      user: `u${i}`,
      event: 'login' as const,
      timestamp: NOW - 60,
    })),
  );
  const files = new Map<string, Buffer>();
  for (const e of readdirSync(local, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) {
      const path = join(e.parentPath, e.name);
      files.set(`${DATA_DIR}/${relative(local, path)}`, readFileSync(path));
    }
  }
  return files;
}

test('a READ the server never answers fails after 8 × --timeout, naming the file', async () => {
  const s = await startFaultServer({
    sftp: {
      files: internalFiles(),
      onRequest: (t, n) => (t === 'READ' && n > 3 ? 'stall' : 'answer'),
    },
  });
  try {
    const run = await runBuiltCliAsync([
      ...sshCliOptions(s.user, s.port, s.identityPath, s.knownHostsPath),
      '--remote-data-dir',
      DATA_DIR,
      '--no-live',
      '--at',
      String(NOW),
      '--timeout',
      '0.25',
    ]);
    assert.equal(run.status, 1, `${run.stderr}${run.status === null ? ' (timed out)' : ''}`);
    assert.match(
      run.stderr,
      /^prosody-active-users: 127\.0\.0\.1 did not answer within 2 s while reading \/var\/lib\/prosody\/.+\.dat:/,
    );
  } finally {
    await s.close();
  }
});
