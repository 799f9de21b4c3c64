/**
 * The built main process with the Electron TEST DOUBLE (test/electron-double/): an alert whose text
 * carries markup from a path reaches Electron's Notification with its body escaped. On Linux
 * Electron hands the body to libnotify as it is, and the desktop's daemon reads markup in it
 * (main/core/notification-text.ts); the double records what Electron was given. Build first:
 * `npm run build`.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type MainProcess, startMainProcess } from '../electron-double/main-process.js';

const HOSTILE = '<b>&amp;<img src=x>\u202e';
let app: MainProcess;
let home: string;

before(() => {
  home = mkdtempSync(join(tmpdir(), 'pau-notification-markup-'));
  const state = join(home, '.config', 'prosody-active-users');
  mkdirSync(state, { recursive: true, mode: 0o700 });
  writeFileSync(
    join(state, 'settings.json'),
    JSON.stringify({
      version: 1,
      profiles: [
        {
          name: 'broken',
          local: { db: join(home, `${HOSTILE}.sqlite`) },
          alerts: { failuresBeforeAlert: 1 },
        },
      ],
    }),
  );
  app = startMainProcess({ home });
});

after(async () => {
  await app?.kill();
  // Seen once in CI: ENOTEMPTY while removing .config, as if a file were still being written
  // there; removing again after a moment clears it.
  rmSync(home, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
});

test('markup and a bidi override in an alert reach the Electron notification escaped', async () => {
  const state = await app.waitFor('a notification', (s) => s.notifications.length > 0 && s);
  const { title, body } = state.notifications[0]!;
  assert.match(title, /^broken: /);
  assert.doesNotMatch(body, /[<>\u202e]/);
  assert.ok(
    body.includes('&lt;b&gt;&amp;amp;&lt;img src=x&gt;\\u202e.sqlite'),
    `the body shows the path as text: ${body}`,
  );
});
