/**
 * The window in real headless Chromium: the BUILT renderer (dist/renderer, as Electron loads it),
 * fed by a real AppService in this process — the real monitor engine counting real Prosody SQLite
 * files, a real history database, a real sshd for the host key prompt. Only Electron's IPC
 * transport is replaced (see test/support/chromium.ts): each function of window.prosodyActiveUsers
 * reaches the AppService through a Playwright binding instead of ipcRenderer.invoke.
 *
 * Each state is asserted on the page (text, roles, aria attributes) and photographed under
 * test-output/screenshots/ for a person to look at.
 */
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { ActivitySource } from '../../main/core/activity-source.js';
import { CONTENT_SECURITY_POLICY } from '../../main/core/csp.js';
import { type Figures, TOTAL_HOST } from '../../main/core/monitor-types.js';
import { sha256Fingerprint } from '../../main/ssh/host-key-fingerprint.js';
import type { HistoryDb } from '../../main/store/history-db.js';
import type { AppSourceDeps } from '../../main/app/app-sources.js';
import { type AppFixture, gate, makeApp } from '../app/app-fixture.js';
import { type ActivitySeed, activityRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';
import {
  type AppWindow,
  RENDERER_DIR,
  buildRenderer,
  launchChromium,
  openAppWindow,
} from '../support/chromium.js';
import {
  type GeneratedKey,
  type SshdInstance,
  type TestUser,
  generateKey,
  startSshd,
} from '../support/sshd.js';

const HOUR = 3600;
const DAY = 24 * HOUR;
const NOW = Math.floor(Date.now() / 1000);
const MINUS = '\u2212';
const NBSP = '\u00a0';

/**
 * a.example: 8 active today, 18 this week, 30 this month; b.example: 4, 12, 20. In total DAU 12,
 * WAU 30, MAU 50; two registrations in the last 24 hours, five in the last week.
 */
function prosodySeeds(now: number): ActivitySeed[] {
  const seeds: ActivitySeed[] = [];
  const logins = (host: string, prefix: string, n: number, ago: (i: number) => number) => {
    for (let i = 0; i < n; i++) {
      seeds.push({ host, user: `${prefix}${i}`, event: 'login', timestamp: now - ago(i) });
    }
  };
  logins('a.example', 'today', 8, (i) => (i + 1) * HOUR);
  logins('a.example', 'week', 10, () => 3 * DAY);
  logins('a.example', 'month', 12, () => 20 * DAY);
  logins('b.example', 'today', 4, () => 2 * HOUR);
  logins('b.example', 'week', 8, () => 5 * DAY);
  logins('b.example', 'month', 8, () => 25 * DAY);
  for (const [user, ago] of [
    ['today0', 2 * HOUR],
    ['today1', 5 * HOUR],
    ['week0', 3 * DAY],
    ['week1', 3 * DAY],
    ['week2', 4 * DAY],
  ] as const) {
    seeds.push({ host: 'a.example', user, event: 'registered', timestamp: now - ago });
  }
  return seeds;
}

function figures(dau: number, wau: number, mau: number, at: number): Figures {
  return { dau, wau, mau, accounts: mau, new1d: 1, new7d: 3, new30d: 6, newestEvent: at - 600 };
}

/** What the monitor recorded every 6 hours over 90 days; 24 h and 7 d ago exactly as the deltas need. */
function seedHistory(history: HistoryDb, profile: string, from: number, until: number): void {
  for (let k = Math.ceil(from / 6); k <= until / 6; k++) {
    const at = NOW - k * 6 * HOUR;
    const total =
      k === 4
        ? figures(10, 25, 50, at)
        : k === 28
          ? figures(15, 30, 40, at)
          : figures(
              12 + Math.round(3 * Math.sin(k / 3)),
              28 + Math.round(2 * Math.sin(k / 7)),
              46 + Math.round(4 * Math.sin(k / 20)),
              at,
            );
    const a = { ...total, dau: Math.round(total.dau * 0.66), wau: Math.round(total.wau * 0.6) };
    a.mau = Math.round(total.mau * 0.6);
    const b = { ...total, dau: total.dau - a.dau, wau: total.wau - a.wau, mau: total.mau - a.mau };
    history.record({
      ok: true,
      profile,
      at,
      hosts: { [TOTAL_HOST]: total, 'a.example': a, 'b.example': b },
      method: 'local read',
      bytesReceived: 0,
      seconds: 0.02,
    });
  }
}

/** The real adapters; local sources under `held` wait for the gate before reading. */
function holdingSources(
  held: string,
  until: Promise<void>,
): (real: AppSourceDeps) => AppSourceDeps {
  return (real) => ({
    ...real,
    sqliteSource(path) {
      const source = real.sqliteSource(path);
      if (!path.startsWith(held)) return source;
      const heldSource: ActivitySource = {
        label: source.label,
        async feed(tally) {
          await until;
          return source.feed(tally);
        },
      };
      return heldSource;
    },
  });
}

/** Waits (up to 5 s) for something on this side of the bridge to become true. */
async function until(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 20) {
    if (waited > 5000) assert.fail('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Keyboard focus moves to the element with this id (the page moves it on the next frame). */
async function expectFocus(page: Page, id: string): Promise<void> {
  await page
    .waitForFunction((want) => document.activeElement?.id === want, id, { timeout: 5000 })
    .catch(async () => {
      const actual = await page.evaluate(() => document.activeElement?.id);
      assert.fail(`focus is on ${JSON.stringify(actual)}, not ${id}`);
    });
}

/** The settings list comes to name exactly these servers (within 5 s). */
async function expectServerNames(page: Page, want: string[]): Promise<void> {
  await page
    .waitForFunction(
      (w) => {
        const names = Array.from(document.querySelectorAll('.server-name'), (el) => el.textContent);
        return JSON.stringify(names) === JSON.stringify(w);
      },
      want,
      { timeout: 5000 },
    )
    .catch(async () => {
      assert.deepEqual(await page.locator('.server-name').allTextContents(), want);
    });
}

/** Text content with runs of white space as one space. */
async function textOf(page: Page, selector: string): Promise<string> {
  const text = await page.locator(selector).first().textContent();
  return (text ?? '').replace(/\s+/g, ' ').trim();
}

/** The accessible description: the text of the elements aria-describedby names. */
async function descriptionOf(page: Page, selector: string): Promise<string> {
  return page.locator(selector).evaluate((el) =>
    (el.getAttribute('aria-describedby') ?? '')
      .split(/\s+/)
      .map((id) => document.getElementById(id)?.textContent ?? '')
      .join(' ')
      .replace(/\s+/g, ' ')
      .trim(),
  );
}

/** One change line of a figure card: its class, what the eye reads, what a screen reader says. */
function deltaOf(page: Page, figure: 'dau' | 'wau' | 'mau', n: number) {
  return page
    .locator(`#figure-${figure} .delta`)
    .nth(n)
    .evaluate((li) => ({
      className: li.className,
      vs: li.querySelector('.vs')?.textContent,
      change: li.querySelector('.change')?.textContent,
      spoken: li.querySelector('.visually-hidden')?.textContent,
    }));
}

/** No console errors, CSP refusals or outside requests, and nothing wider than the window. */
async function assertNoProblems(win: AppWindow): Promise<void> {
  assert.deepEqual(win.problems, [], 'no console errors, CSP refusals or outside requests');
  const [scrollWidth, clientWidth] = await win.page.evaluate(() => [
    document.documentElement.scrollWidth,
    document.documentElement.clientWidth,
  ]);
  assert.ok(scrollWidth <= clientWidth, `the page is ${scrollWidth} px wide in ${clientWidth} px`);
}

let browser: Browser;
let sshd: SshdInstance;
let key: GeneratedKey;
let sshUser: TestUser;
let remoteDb: string;
let dataDir: string;

before(async () => {
  buildRenderer();
  browser = await launchChromium();
  dataDir = mkdtempSync(join(tmpdir(), 'pau-window-data-'));
  sshd = await startSshd({ passwordAuth: false, hostKeyTypes: ['ed25519'] });
  key = await generateKey('ed25519');
  sshUser = await sshd.addUser('window', { authorizedKeys: [key.authorizedKey] });
  const remoteDir = mkdtempSync(join(sshd.dir, 'prosody-'));
  chmodSync(remoteDir, 0o755);
  remoteDb = join(remoteDir, 'prosody.sqlite');
  writeProsodySqlite(remoteDb, prosodySeeds(NOW).map(activityRow));
  chownSync(remoteDb, sshUser.uid, sshUser.gid);
});

after(async () => {
  await browser?.close();
  await sshd?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the built page', () => {
  test('has a strict CSP and no inline script or style', () => {
    const html = readFileSync(join(RENDERER_DIR, 'index.html'), 'utf8');
    const csp = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1];
    // The policy main also sends as a header: the same text in both places.
    assert.equal(csp, CONTENT_SECURITY_POLICY);
    assert.match(csp ?? '', /^default-src 'none'; script-src 'self'; style-src 'self';/);
    assert.doesNotMatch(html, /<style|\sstyle=|<script(?![^>]*\ssrc=)/i);
    assert.doesNotMatch(html, /node_modules/);
    const css = readFileSync(join(RENDERER_DIR, 'app.css'), 'utf8');
    assert.match(css, /\.uplot/, "uPlot's stylesheet is bundled into app.css");
  });
});

describe('first run', () => {
  let app: AppFixture;
  let win: AppWindow;

  before(async () => {
    app = await makeApp();
    await app.service.start();
    win = await openAppWindow(browser, app.service);
  });

  after(async () => {
    await win?.close();
    await app?.close();
  });

  test('opens on settings with the guide to a least-privilege account', async () => {
    const { page } = win;
    await page.getByRole('heading', { name: 'Welcome: add your Prosody server' }).waitFor();
    const guide = page.getByRole('region', { name: 'A least-privilege monitoring account' });
    await guide.waitFor();
    const text = (await guide.textContent()) ?? '';
    assert.match(text, /useradd --system .*--groups prosody prosody-monitor/s);
    assert.match(text, /--print-forced-command/);
    assert.match(text, /authorized_keys/);
    assert.equal(await page.getByRole('form', { name: 'Add a server' }).count(), 1);
    assert.equal(await page.locator('#nav-settings').getAttribute('aria-current'), 'page');
    assert.equal(await page.getByText('No server yet.').count(), 1);
    await win.screenshot('first-run');
    await assertNoProblems(win);
  });

  test('a bad field is refused with the message beside that field', async () => {
    const { page } = win;
    await page.getByLabel('Name', { exact: true }).fill('xmpp');
    await page.getByLabel('SSH target').fill('bad target');
    await page.getByRole('button', { name: 'Save' }).click();
    const target = page.locator('#field-target');
    await page.locator('#field-target-error').waitFor();
    assert.equal(await target.getAttribute('aria-invalid'), 'true');
    assert.equal(
      await textOf(page, '#field-target-error'),
      'Must be [user@]host[:port] or an ssh_config alias, not "bad target"',
    );
    assert.match(await descriptionOf(page, '#field-target'), /Must be \[user@\]host\[:port\]/);
    // Beside the field: its error follows its input in the same field box.
    assert.equal(
      await page
        .locator('#field-target-error')
        .evaluate((el) => el.parentElement?.querySelector('input')?.id),
      'field-target',
    );
    assert.equal(
      await textOf(page, '#form-problems'),
      'Not saved: one field needs a change, shown beside it.',
    );
    assert.equal(await page.getByRole('alert').filter({ hasText: 'Not saved' }).count(), 1);
    await expectFocus(page, 'field-target');
    assert.equal(await page.locator('#field-name').getAttribute('aria-invalid'), null);
    assert.equal(existsSync(app.store.path), false, 'nothing was saved');
    await win.screenshot('settings-validation');
    await assertNoProblems(win);
  });

  test('an unknown host key shows its SHA256 fingerprint; trusted, every step passes', async () => {
    const { page } = win;
    const fingerprint = sha256Fingerprint(sshd.hostKeys[0]!.blob);
    await page.getByLabel('Name', { exact: true }).fill('xmpp');
    await page.getByLabel('SSH target').fill(`${sshUser.name}@127.0.0.1:${sshd.port}`);
    await page.getByLabel('Identity file (optional)').fill(key.privatePath);
    await page.getByRole('radio', { name: 'A SQLite database' }).check();
    await page.getByLabel('Database path').fill(remoteDb);
    await page.getByRole('button', { name: 'Test connection' }).click();

    const prompt = page.getByRole('group', { name: 'Unknown host key' });
    await prompt.waitFor();
    assert.equal(await textOf(page, '#host-key-fingerprint'), fingerprint);
    assert.match((await prompt.textContent()) ?? '', /127\.0\.0\.1 port \d+ is not in known_hosts/);
    assert.equal(await textOf(page, '#step-connect .step-state'), 'OK');
    assert.equal(await textOf(page, '#step-host-key .step-state'), 'Failed');
    assert.equal(await textOf(page, '#step-authenticate .step-state'), 'Skipped');
    assert.equal(await page.locator('#field-target').getAttribute('aria-invalid'), null);
    await expectFocus(page, 'trust-key');
    assert.equal(existsSync(app.knownHostsPath), false, 'nothing trusted before the user says so');
    await win.screenshot('unknown-host-key');

    await page.getByRole('button', { name: 'Trust this key' }).click();
    await page.getByText('Every step worked.').waitFor();
    for (const step of ['connect', 'host-key', 'authenticate', 'find-data', 'read']) {
      assert.equal(await textOf(page, `#step-${step} .step-state`), 'OK', step);
    }
    assert.match(await textOf(page, '#step-read'), /DAU 12 · WAU 30 · MAU 50/);
    assert.match(await textOf(page, '#trust-message'), /^Added 127\.0\.0\.1's ssh-ed25519 key/);
    assert.match(readFileSync(app.knownHostsPath, 'utf8'), /^\[127\.0\.0\.1\]:\d+ ssh-ed25519 /);
    await win.screenshot('host-key-trusted');

    // Saved, the first run is over: the figures come over SSH.
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#figure-dau-value').waitFor();
    await page.waitForFunction(
      () => document.getElementById('figure-dau-value')?.textContent === '12',
    );
    assert.match(
      await textOf(page, '#status-line'),
      /remote query, [\d.]+.(bytes|kB) in [\d.]+.s$/,
    );
    await assertNoProblems(win);
  });
});

describe('figures', () => {
  let app: AppFixture;
  let win: AppWindow;
  const lab = gate();

  before(async () => {
    const homeDb = join(dataDir, 'home.sqlite');
    const labDb = join(dataDir, 'lab', 'prosody.sqlite');
    writeProsodySqlite(homeDb, prosodySeeds(NOW).map(activityRow));
    mkdirSync(join(dataDir, 'lab'), { recursive: true });
    writeProsodySqlite(labDb, prosodySeeds(NOW).map(activityRow));
    app = await makeApp({
      settings: {
        version: 1,
        profiles: [
          { name: 'home', local: { db: homeDb } },
          { name: 'work', local: { db: join(dataDir, 'work', 'gone.sqlite') } },
          { name: 'lab', local: { db: labDb } },
        ],
      },
      seed: (h) => {
        seedHistory(h, 'home', 1, 90 * 24);
        seedHistory(h, 'work', 1, 3 * 24);
      },
      sources: holdingSources(join(dataDir, 'lab'), lab.wait),
    });
    await app.service.start();
    await app.service.refreshNow('home');
    await app.service.refreshNow('work');
    win = await openAppWindow(browser, app.service);
    await win.page.locator('#figure-dau-value').waitFor();
  });

  after(async () => {
    lab.open();
    await win?.close();
    await app?.close();
  });

  test('loading: a server counted for the first time says so and is marked busy', async () => {
    const { page } = win;
    await page.getByLabel('Server').selectOption('lab');
    const loading = page.locator('#loading');
    await loading.waitFor();
    assert.equal(
      await textOf(page, '#loading'),
      'Counting the active users of lab for the first time…',
    );
    assert.equal(await loading.getAttribute('role'), 'status');
    assert.equal(await page.locator('#figures').getAttribute('aria-busy'), 'true');
    assert.equal(await textOf(page, '#profile-status'), 'Refreshing…');
    assert.equal(await textOf(page, '#figure-dau-value'), '—');
    await win.screenshot('loading');

    lab.open();
    await page.waitForFunction(
      () => document.getElementById('figure-dau-value')?.textContent === '12',
    );
    assert.equal(await page.locator('#figures').getAttribute('aria-busy'), null);
    // Nothing was recorded a day or a week ago: no change is shown, and none is invented.
    assert.deepEqual(await deltaOf(page, 'dau', 0), {
      className: 'delta delta-none',
      vs: '24 h',
      change: '—',
      spoken: 'no figure recorded 24 hours earlier',
    });
    await assertNoProblems(win);
  });

  test('figures with their changes, definitions, the chart and the hosts', async () => {
    const { page } = win;
    await page.getByLabel('Server').selectOption('home');
    await page.waitForFunction(
      () => document.getElementById('figures-heading')?.textContent === 'home',
    );
    const dau = page.getByRole('group', { name: 'DAU', exact: true });
    assert.equal(await textOf(page, '#figure-dau-value'), '12');
    assert.equal(await textOf(page, '#figure-wau-value'), '30');
    assert.equal(await textOf(page, '#figure-mau-value'), '50');

    // Signed, with an arrow and words for screen readers: readable without colour.
    assert.deepEqual(await deltaOf(page, 'dau', 0), {
      className: 'delta delta-up',
      vs: '24 h',
      change: `▲+20${NBSP}%`,
      spoken: `up 20${NBSP}% against 24 hours earlier (from 10)`,
    });
    assert.deepEqual(await deltaOf(page, 'dau', 1), {
      className: 'delta delta-down',
      vs: '7 d',
      change: `▼${MINUS}20${NBSP}%`,
      spoken: `down 20${NBSP}% against 7 days earlier (from 15)`,
    });
    assert.equal((await deltaOf(page, 'wau', 1)).change, `→0${NBSP}%`);
    assert.equal((await deltaOf(page, 'mau', 1)).change, `▲+25${NBSP}%`);
    assert.match(await textOf(page, '#figure-stickiness'), /24.%/);
    assert.match(await textOf(page, '#figure-registrations'), /2 in 24 h · 5 in 7 d · 5 in 30 d/);

    // Definitions: for screen readers as the description, and on hover.
    assert.equal(
      await descriptionOf(page, '#figure-dau'),
      'Daily active users: Accounts that logged in or out within the last 24 hours.',
    );
    const definition = page.locator('#figure-dau-def');
    assert.equal(await definition.isVisible(), false);
    await dau.hover();
    await definition.waitFor({ state: 'visible' });
    assert.match(
      (await definition.textContent()) ?? '',
      /logged in or out within the last 24 hours/,
    );
    await win.screenshot('figures-definition', { keepPointer: true });
    await page.mouse.move(0, 0);

    // The status line: last and next refresh, method, bytes and time.
    const status = await textOf(page, '#status-line');
    assert.match(
      status,
      /^Last refresh .+ \(just now\) · next .+ \(in 60.min\) · local read, in .+s$/,
    );

    // The chart: uPlot's canvas, described by its caption.
    assert.equal((await page.locator('.chart canvas').count()) > 0, true);
    assert.match(
      await textOf(page, '#chart-caption'),
      /^DAU, WAU and MAU over the last 7 days, from \d+ refreshes/,
    );
    assert.equal(await page.locator('#window-7d').getAttribute('aria-pressed'), 'true');
    await page.getByRole('button', { name: '90 days' }).click();
    await page.waitForFunction(() =>
      /over the last 90 days, from 3\d\d refreshes/.test(
        document.getElementById('chart-caption')?.textContent ?? '',
      ),
    );
    assert.equal(await page.locator('#window-90d').getAttribute('aria-pressed'), 'true');
    assert.equal(await page.locator('#window-7d').getAttribute('aria-pressed'), 'false');

    // The hosts, in a table with headers.
    const rows = await page
      .locator('#hosts-table tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) => Array.from(tr.children, (c) => c.textContent).slice(0, 4)),
      );
    assert.deepEqual(rows, [
      ['a.example', '8', '18', '30'],
      ['b.example', '4', '12', '20'],
    ]);
    assert.equal(await page.getByRole('columnheader', { name: 'DAU' }).count(), 1);
    // In the 400 px panel the whole table fits its card: no column is cut off or hidden.
    const fit = await page.locator('#hosts-table').evaluate((table) => {
      const box = table.parentElement!.getBoundingClientRect();
      const cells = Array.from(table.querySelectorAll('th, td'), (c) => c.getBoundingClientRect());
      return {
        overflow: table.parentElement!.scrollWidth - table.parentElement!.clientWidth,
        rightmost: Math.max(...cells.map((c) => c.right)) - box.right,
      };
    });
    assert.ok(fit.overflow <= 0 && fit.rightmost <= 0.5, JSON.stringify(fit));
    await page.getByRole('button', { name: '7 days' }).click();
    await win.screenshot('figures');
    await assertNoProblems(win);
  });

  test('a failing server: what to do, and the last good figures marked stale', async () => {
    const { page } = win;
    await page.getByLabel('Server').selectOption('work');
    const error = page.getByRole('alert').filter({ hasText: 'failed' });
    await error.waitFor();
    const text = ((await error.textContent()) ?? '').replace(/\s+/g, ' ');
    assert.match(text, /The refresh at .+ failed\./);
    assert.match(text, /No Prosody SQLite database at .*gone\.sqlite: check the path/);
    assert.equal(await page.getByRole('button', { name: 'Try again' }).count(), 1);
    assert.equal(await page.getByRole('button', { name: 'Open settings' }).count(), 1);
    assert.equal(await textOf(page, '#profile-status'), 'Refresh failing');
    assert.match(
      await textOf(page, '#stale-note'),
      /^Stale These are the last good figures, from .+ \(6.h ago\)\.$/,
    );
    // The last good figures (recorded 6 hours ago), each marked stale for screen readers too.
    assert.notEqual(await textOf(page, '#figure-dau-value'), '—');
    assert.equal(await page.locator('#figure-dau').getAttribute('class'), 'figure is-stale');
    assert.match(await descriptionOf(page, '#figure-dau'), /These are the last good figures/);
    assert.match(await textOf(page, '#status-line'), /last attempt .+ failed/);
    await win.screenshot('failing-stale');
    await assertNoProblems(win);
  });

  test('follows the dark theme', async () => {
    const { page } = win;
    await page.getByLabel('Server').selectOption('home');
    await page.waitForFunction(
      () => document.getElementById('figures-heading')?.textContent === 'home',
    );
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const light = await background();
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForFunction(
      (before) => getComputedStyle(document.body).backgroundColor !== before,
      light,
    );
    const dark = await background();
    const luminance = (rgb: string) => {
      const [r = 0, g = 0, b = 0] = (rgb.match(/\d+/g) ?? []).map(Number);
      return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
    };
    assert.ok(luminance(light) > 0.8, light);
    assert.ok(luminance(dark) < 0.2, dark);
    assert.ok(luminance(await page.evaluate(() => getComputedStyle(document.body).color)) > 0.8);
    assert.equal((await page.locator('.chart canvas').count()) > 0, true);
    await win.screenshot('dark');
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('button', { name: 'Edit home' }).click();
    await win.screenshot('dark-settings');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Figures' }).click();
    await page.emulateMedia({ colorScheme: 'light' });
    await assertNoProblems(win);
  });

  test('every control is reachable with Tab and has an accessible name', async () => {
    const { page } = win;
    await page.waitForFunction(
      () => document.getElementById('figures-heading')?.textContent === 'home',
    );

    /**
     * Tabs from the top until focus leaves the page or comes back: each stop's key (its id, or
     * its radio group) and its role and accessible name as Chromium's accessibility tree has them.
     */
    const tabThrough = async (): Promise<Array<{ key: string; aria: string }>> => {
      // A click on the title puts the start of Tab navigation at the top of the page.
      await page.locator('h1').click();
      const stops: Array<{ key: string; aria: string }> = [];
      for (let i = 0; i < 200; i++) {
        await page.keyboard.press('Tab');
        const key = await page.evaluate(() => {
          const a = document.activeElement;
          if (!a || a === document.body) return null;
          return a instanceof HTMLInputElement && a.type === 'radio'
            ? `radio:${a.name}`
            : a.id || a.tagName;
        });
        if (key === null || stops.some((s) => s.key === key)) break;
        const aria = await page.locator(':focus').ariaSnapshot({ timeout: 2000 });
        stops.push({ key, aria: aria.split('\n')[0] ?? '' });
      }
      return stops;
    };
    /** Every enabled, visible control on the page (one per radio group). */
    const controls = () =>
      page.evaluate(() => {
        const seenRadio = new Set<string>();
        return Array.from(
          document.querySelectorAll<HTMLElement>(
            'button, input, select, textarea, a[href], [tabindex]',
          ),
        )
          .filter((el) => el.getAttribute('tabindex') !== '-1')
          .filter((el) => !(el as HTMLButtonElement).disabled && el.getClientRects().length > 0)
          .filter((el) => {
            if (!(el instanceof HTMLInputElement) || el.type !== 'radio') return true;
            if (seenRadio.has(el.name)) return false;
            seenRadio.add(el.name);
            return true;
          })
          .map((el) =>
            el instanceof HTMLInputElement && el.type === 'radio'
              ? `radio:${el.name}`
              : el.id || el.tagName,
          );
      });
    const check = async (screen: string) => {
      const stops = await tabThrough();
      for (const s of stops) {
        assert.match(
          s.aria,
          /^- \w+ "[^"]+"/,
          `${screen}: ${s.key} has a role and a name (${s.aria})`,
        );
      }
      const reached = new Set(stops.map((s) => s.key));
      for (const control of await controls()) {
        assert.ok(reached.has(control), `${screen}: ${control} is reachable with Tab`);
      }
      return stops;
    };

    const dashboard = await check('figures');
    assert.deepEqual(
      dashboard.slice(0, 4).map((s) => s.aria),
      [
        '- combobox "Server":',
        '- button "Refresh now"',
        '- button "Figures"',
        '- button "Settings"',
      ],
    );
    assert.ok(dashboard.some((s) => s.aria === '- button "30 days"'));

    // Enter on a focused button works the same as a click.
    await page.locator('#nav-settings').focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Settings' }).waitFor();
    // A snapshot pushed by the monitor may redraw the list between focus and key press; the
    // locator's press focuses the current button and presses on it, so ask again if it was redrawn.
    const form = page.getByRole('form', { name: 'Edit “home”' });
    for (let attempt = 0; attempt < 5 && !(await form.isVisible()); attempt++) {
      await page.getByRole('button', { name: 'Edit home' }).press('Enter');
      await form.waitFor({ timeout: 2000 }).catch(() => undefined);
    }
    await form.waitFor();
    // The form takes the focus, on its first field.
    await expectFocus(page, 'field-name');
    const settings = await check('settings');
    for (const name of [
      '- textbox "Name"',
      '- radio "On this computer"',
      '- textbox "Database path"',
      '- textbox "Large change (%)"',
      '- button "Test connection"',
      '- button "Save"',
      '- checkbox "Start at login"',
      '- button "Pause for 1 hour"',
      '- button "Edit work"',
      '- button "Remove lab"',
    ]) {
      assert.ok(
        settings.some((s) => s.aria.startsWith(name)),
        `${name} among ${settings.map((s) => s.aria).join(', ')}`,
      );
    }
    await page.locator('#field-intervalMinutes').focus();
    await win.screenshot('keyboard-focus');
    await assertNoProblems(win);
  });

  test('settings: a server removed, start at login and the alert pause', async () => {
    const { page } = win;
    if (await page.locator('#cancel-profile').count())
      await page.locator('#cancel-profile').click();
    if ((await page.locator('#nav-settings').getAttribute('aria-current')) !== 'page') {
      await page.getByRole('button', { name: 'Settings' }).click();
    }
    await page.getByRole('button', { name: 'Remove lab' }).click();
    const confirm = page.getByRole('group', { name: 'Remove lab?' });
    await confirm.waitFor();
    await expectFocus(page, 'keep-2');
    await confirm.getByRole('button', { name: 'Remove lab' }).click();
    await page.getByText('Removed lab.').waitFor();
    // The list the page shows once the removal is through, not at some moment on the way.
    await expectServerNames(page, ['home', 'work']);
    assert.deepEqual(
      (await app.service.getSettings()).profiles.map((p) => p.name),
      ['home', 'work'],
    );

    await page.getByRole('checkbox', { name: 'Start at login' }).check();
    await until(() => app.startAtLogin.enabled);
    // Ticked once the snapshot saying so has been drawn, not just after the click.
    await page.waitForFunction(
      () =>
        (document.getElementById('start-at-login') as HTMLInputElement | null)?.checked === true,
      undefined,
      { timeout: 5000 },
    );

    await page.getByRole('button', { name: 'Pause for 1 hour' }).click();
    await page.getByRole('button', { name: 'Resume alerts' }).waitFor();
    assert.match(await textOf(page, '#pause-label'), /^Alerts are paused until .+\.$/);
    const paused = (await app.service.getSnapshot()).alertsPausedUntil;
    assert.ok(paused !== null && Math.abs(paused - (Date.now() / 1000 + 3600)) < 60);
    await win.screenshot('settings-servers');
    await page.getByRole('button', { name: 'Resume alerts' }).click();
    await page.getByRole('button', { name: 'Pause for 1 hour' }).waitFor();
    assert.equal((await app.service.getSnapshot()).alertsPausedUntil, null);
    await assertNoProblems(win);
  });
});
