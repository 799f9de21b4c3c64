/**
 * The window in real headless Chromium (the built renderer, fed by a real AppService): the alerts
 * of the last 24 hours are listed, every one, so that a grouped notification ("no logins lately on
 * 300 hosts") has its details one click away.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Figures, TOTAL_HOST } from '../../main/core/monitor-types.js';
import type { AppWindow } from '../support/chromium.js';
import { type SeededWindow, openSeededWindow } from '../support/seeded-window.js';
import { flatFigures } from '../fixtures/monitor-figures.js';

const NOW = Math.floor(Date.now() / 1000);
const HOSTS = Array.from({ length: 300 }, (_, i) => `h${String(i).padStart(3, '0')}.test`);

const figures: Figures = flatFigures(1, NOW - 13 * 3600);

let seeded: SeededWindow;
let win: AppWindow;

before(async () => {
  seeded = await openSeededWindow({
    tmpPrefix: 'pau-window-alerts-',
    profiles: ['grouped'],
    now: NOW,
    seed: (h) => {
      h.record({
        ok: true,
        profile: 'grouped',
        at: NOW - 60,
        hosts: { [TOTAL_HOST]: figures, ...Object.fromEntries(HOSTS.map((x) => [x, figures])) },
        method: 'local read',
        bytesReceived: 0,
        seconds: 0.1,
      });
      for (const host of HOSTS) {
        h.recordAlert(
          {
            kind: 'stale',
            profile: 'grouped',
            host,
            newestEvent: NOW - 13 * 3600,
            hours: 13,
            at: NOW - 60,
          },
          NOW - 60,
        );
      }
    },
  });
  win = seeded.win;
});

after(async () => {
  await seeded?.close();
});

test('the window lists every alert of the last 24 hours, with what each one says', async () => {
  const list = win.page.locator('#alert-list > li');
  assert.equal(await list.count(), 300);
  assert.match(
    (await win.page.locator('#alerts-heading').textContent()) ?? '',
    /Alerts in the last 24 hours \(300\)/,
  );
  const titles = await win.page.locator('#alert-list .alert-title').allTextContents();
  assert.deepEqual(
    new Set(titles),
    new Set(HOSTS.map((h) => `grouped: no logins on ${h} for 13 h`)),
  );
  assert.match(
    (await list.first().locator('.alert-body').textContent()) ?? '',
    /^No login or logout on h\d{3}\.test for 13 h \(the newest at .*\): is mod_lastlog2 still loaded\?$/,
  );
});
