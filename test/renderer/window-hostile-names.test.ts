/**
 * The window in real headless Chromium (the built renderer, fed by a real AppService through the
 * page's IPC contract, as in window.test.ts), showing host names and a failure sentence that a
 * hostile server could send: object-key names, markup, escape sequences and bidi overrides. Each
 * shows as itself, as text, with control characters escaped visibly (as on the terminal).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Figures, TOTAL_HOST } from '../../main/core/monitor-types.js';
import type { AppWindow } from '../support/chromium.js';
import { type SeededWindow, openSeededWindow } from '../support/seeded-window.js';
import { flatFigures } from '../fixtures/monitor-figures.js';

const NOW = Math.floor(Date.now() / 1000);
const DAY = 86_400;
const MARKUP = '<img src=x onerror="document.title=\'pwned\'">.org';

const figures = (dau: number): Figures => flatFigures(dau, NOW - 600);

/** Host name as sent → as the table must show it. */
const HOSTS: Array<[string, string]> = [
  ['__proto__', '__proto__'],
  ['constructor', 'constructor'],
  ['toString', 'toString'],
  [MARKUP, MARKUP],
  ['evil\u202egro.elpmaxe', 'evil\\u202egro.elpmaxe'],
  ['a\x1b[2Jb\r\nTOTAL', 'a\\x1b[2Jb\\r\\nTOTAL'],
  ['c1\u009b31m.org', 'c1\\x9b31m.org'],
];

let seeded: SeededWindow;
let win: AppWindow;

before(async () => {
  seeded = await openSeededWindow({
    tmpPrefix: 'pau-window-hostile-',
    profiles: ['hostile'],
    now: NOW,
    seed: (h) => {
      h.record({
        ok: true,
        profile: 'hostile',
        at: NOW - 7200,
        // Own properties, __proto__ included (an object literal would set the prototype instead).
        hosts: Object.fromEntries([
          [TOTAL_HOST, figures(HOSTS.length)],
          ...HOSTS.map(([host]): [string, Figures] => [host, figures(1)]),
        ]),
        method: 'local read',
        bytesReceived: 0,
        seconds: 0.1,
      });
      h.record({
        ok: false,
        profile: 'hostile',
        at: NOW - 3600,
        kind: 'remote-protocol',
        message: `The server answered \x1b]0;owned\x07 ${MARKUP} \u202edetacilpmoc`,
      });
      for (const [host] of HOSTS) {
        h.recordAlert(
          { kind: 'stale', profile: 'hostile', host, newestEvent: NOW - 2 * DAY, hours: 36 },
          NOW - 1800,
        );
      }
    },
  });
  win = seeded.win;
});

after(async () => {
  await seeded?.close();
});

test('every hostile host name shows in the table as itself, controls escaped', async () => {
  const { page } = win;
  await page.locator('#hosts-table').waitFor();
  const shown = await page.locator('#hosts-table tbody th').allTextContents();
  assert.deepEqual([...shown].sort(), HOSTS.map(([, text]) => text).sort());
});

test('markup in a host name or failure sentence stays text: no element made, nothing run', async () => {
  const { page } = win;
  await page.locator('#refresh-error').waitFor();
  assert.equal(await page.locator('main img, #hosts-table img, #refresh-error img').count(), 0);
  assert.notEqual(await page.title(), 'pwned');
});

test('the failure sentence from a server shows its control characters escaped', async () => {
  const { page } = win;
  const text = await page.locator('#refresh-error .problem-text').textContent();
  assert.equal(text, `The server answered \\x1b]0;owned\\x07 ${MARKUP} \\u202edetacilpmoc`);
});

test('every hostile host name shows in the alert details as itself, controls escaped', async () => {
  const { page } = win;
  await page.locator('#alert-list').waitFor();
  const titles = await page.locator('#alert-list .alert-title').allTextContents();
  assert.deepEqual(
    [...titles].sort(),
    HOSTS.map(([, shown]) => `hostile: no logins on ${shown} for 36 h`).sort(),
  );
  const bodies = await page.locator('#alert-list .alert-body').allTextContents();
  for (const [, shown] of HOSTS) {
    assert.ok(
      bodies.some((b) => b.startsWith(`No login or logout on ${shown} for 36 h`)),
      `a body names ${shown}: ${JSON.stringify(bodies)}`,
    );
  }
});
