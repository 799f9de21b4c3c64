/**
 * The window in real headless Chromium (the built renderer, fed by a real AppService, as in
 * window.test.ts): a server whose refreshes had the live view shows who is online, per host too,
 * and the chart's caption and legend name the online series.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Figures, TOTAL_HOST } from '../../main/core/monitor-types.js';
import type { AppWindow } from '../support/chromium.js';
import { type SeededWindow, openSeededWindow } from '../support/seeded-window.js';

const HOUR = 3600;
const NOW = Math.floor(Date.now() / 1000);

const figures = (dau: number, online: number | null): Figures => ({
  dau,
  wau: dau * 2,
  mau: dau * 3,
  accounts: dau * 4,
  new1d: 0,
  new7d: 0,
  new30d: 0,
  newestEvent: NOW - 600,
  ...(online === null ? {} : { online }),
});

let seeded: SeededWindow;
let win: AppWindow;

before(async () => {
  seeded = await openSeededWindow({
    tmpPrefix: 'pau-window-online-',
    profiles: ['live'],
    now: NOW,
    seed: (h) => {
      for (let k = 8; k >= 0; k--) {
        const at = NOW - k * 6 * HOUR;
        // The first refreshes had no live view: a gap in the online series, not a zero.
        const online = k > 5 ? null : 3 + k;
        h.record({
          ok: true,
          profile: 'live',
          at,
          hosts: {
            [TOTAL_HOST]: figures(10, online === null ? null : online + 1),
            'a.example': figures(7, online),
            'b.example': figures(3, online === null ? null : 1),
          },
          method: 'SFTP files',
          bytesReceived: 100,
          seconds: 0.1,
        });
      }
    },
  });
  win = seeded.win;
});

after(async () => {
  await seeded?.close();
});

test('the window shows online now beside the figures, per host and in the chart', async () => {
  const { page } = win;
  assert.equal(await page.locator('#figure-online .extra-value').textContent(), '4');
  assert.match((await page.locator('#figure-online-name').textContent()) ?? '', /Online now/);
  const headers = await page.locator('#hosts-table thead th').allTextContents();
  assert.deepEqual(headers.slice(0, 5), ['Host', 'DAU', 'WAU', 'MAU', 'Online']);
  const rows = await page
    .locator('#hosts-table tbody tr')
    .evaluateAll((trs) =>
      trs.map((tr) => Array.from(tr.children, (c) => c.textContent).slice(0, 5)),
    );
  assert.deepEqual(rows, [
    ['a.example', '7', '14', '21', '3'],
    ['b.example', '3', '6', '9', '1'],
  ]);
  await page.waitForFunction(() =>
    /Online, where the live server was asked: from 9 to 4\./.test(
      document.getElementById('chart-caption')?.textContent ?? '',
    ),
  );
  assert.match((await page.locator('.legend').textContent()) ?? '', /Online/);
  await win.screenshot('figures-online');
  assert.deepEqual(win.problems, []);
});
