/**
 * The window in headless Chromium over an app whose history is seeded and whose refreshes are
 * held, so that the page shows the recorded figures and nothing a refresh would replace them with.
 * Each profile reads the same one-login Prosody SQLite file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import type { HistoryDb } from '../../main/store/history-db.js';
import { type AppFixture, gate, heldSources, makeApp } from '../app/app-fixture.js';
import { activityRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';
import { type AppWindow, buildRenderer, launchChromium, openAppWindow } from './chromium.js';

export interface SeededWindow {
  win: AppWindow;
  close(): Promise<void>;
}

export async function openSeededWindow(options: {
  tmpPrefix: string;
  profiles: string[];
  /** The SQLite file's one login is an hour before this. */
  now: number;
  seed: (history: HistoryDb) => void;
}): Promise<SeededWindow> {
  const held = gate();
  let browser: Browser | undefined;
  let app: AppFixture | undefined;
  let win: AppWindow | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), options.tmpPrefix));
  const close = async () => {
    held.open();
    await win?.close();
    await app?.close();
    await browser?.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    buildRenderer();
    browser = await launchChromium();
    const db = join(dataDir, 'prosody.sqlite');
    writeProsodySqlite(db, [
      activityRow({
        host: 'a.example',
        user: 'alice',
        event: 'login',
        timestamp: options.now - 3600,
      }),
    ]);
    app = await makeApp({
      settings: { version: 1, profiles: options.profiles.map((name) => ({ name, local: { db } })) },
      sources: heldSources(held.wait),
      seed: options.seed,
    });
    await app.service.start();
    win = await openAppWindow(browser, app.service);
    await win.page.locator('#figure-dau-value').waitFor();
    return { win, close };
  } catch (e) {
    await close();
    throw e;
  }
}
