/**
 * A click on a notification shows the server it is about: main sends 'profile:show' with the
 * profile's name (main/electron/electron-notifier.ts → main.ts), and the BUILT page, in real
 * headless Chromium, switches to that profile's figures from whatever it showed, settings
 * included. Only Electron's IPC transport is replaced (test/support/chromium.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { type AppFixture, makeApp } from '../app/app-fixture.js';
import { activityRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';
import {
  type AppWindow,
  buildRenderer,
  launchChromium,
  openAppWindow,
} from '../support/chromium.js';

const NOW = Math.floor(Date.now() / 1000);
let dir: string;
let browser: Browser;
let app: AppFixture;
let win: AppWindow;

/** A database with `n` accounts that logged in an hour ago. */
function database(name: string, n: number): string {
  const path = join(dir, `${name}.sqlite`);
  const rows = Array.from({ length: n }, (_, i) =>
    activityRow({ host: 'example.org', user: `u${i}`, event: 'login', timestamp: NOW - 3600 }),
  );
  writeProsodySqlite(path, rows);
  return path;
}

before(async () => {
  buildRenderer();
  dir = mkdtempSync(join(tmpdir(), 'pau-click-'));
  app = await makeApp({
    settings: {
      version: 1,
      profiles: [
        { name: 'home', local: { db: database('home', 3) } },
        { name: 'work', local: { db: database('work', 7) } },
      ],
    },
  });
  await app.service.start();
  browser = await launchChromium();
  win = await openAppWindow(browser, app.service);
});

after(async () => {
  await win?.close();
  await browser?.close();
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

const dau = () => win.page.locator('#figure-dau-value').textContent();

test("a clicked notification about another server shows that server's figures, even from settings", async () => {
  const { page } = win;
  await page.waitForFunction(
    () => document.getElementById('figure-dau-value')?.textContent === '3',
  );
  assert.equal(await page.locator('#profile-picker').inputValue(), 'home');
  await page.locator('#nav-settings').click();
  await page.locator('#settings-heading').waitFor();

  await win.showProfile('work');
  await page.waitForFunction(
    () => document.getElementById('figure-dau-value')?.textContent === '7',
  );
  assert.equal(await page.locator('#profile-picker').inputValue(), 'work');
  assert.equal(await page.locator('#settings-heading').isVisible(), false);
  assert.equal(await page.locator('#nav-settings').getAttribute('aria-current'), null);
  assert.deepEqual(win.problems, []);
});

test('a notification about a server that is gone from the settings changes nothing', async () => {
  await win.showProfile('removed meanwhile');
  assert.equal(await win.page.locator('#profile-picker').inputValue(), 'work');
  assert.equal(await dau(), '7');
});
