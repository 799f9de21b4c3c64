/**
 * The window in real headless Chromium (the built renderer, fed by a real AppService, as in
 * window.test.ts): the per-host table's "Left out" column, shown where Prosody 13's rule left
 * accounts out, absent on a 0.12 server and on figures recorded before it was kept; and the widest
 * table (Online and Left out both) in the 400 px panel, where it scrolls in its own box.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { type Figures, TOTAL_HOST } from '../../main/core/monitor-types.js';
import type { AppWindow } from '../support/chromium.js';
import { type SeededWindow, openSeededWindow } from '../support/seeded-window.js';

const HOUR = 3600;
const NOW = Math.floor(Date.now() / 1000);

const figures = (dau: number, extra: Partial<Figures> = {}): Figures => ({
  dau,
  wau: dau * 2,
  mau: dau * 3,
  accounts: dau * 4,
  new1d: 0,
  new7d: 0,
  new30d: 1,
  newestEvent: NOW - 600,
  ...extra,
});

let seeded: SeededWindow;
let win: AppWindow;

before(async () => {
  seeded = await openSeededWindow({
    tmpPrefix: 'pau-window-left-out-',
    profiles: ['thirteen', 'twelve', 'older'],
    now: NOW,
    seed: (h) => {
      const record = (profile: string, hosts: Record<string, Figures>) =>
        h.record({
          ok: true,
          profile,
          at: NOW - HOUR,
          hosts,
          method: 'SFTP files',
          bytesReceived: 100,
          seconds: 0.1,
        });
      // Prosody 13 with the live view: the widest table there is, with long host names.
      record('thirteen', {
        [TOTAL_HOST]: figures(10, { online: 4, excludedDisabled: 12, excludedNoAccount: 1234 }),
        'chat.example.org': figures(7, { online: 3, excludedDisabled: 12, excludedNoAccount: 0 }),
        'conference.example.org': figures(3, {
          online: 1,
          excludedDisabled: 0,
          excludedNoAccount: 1234,
        }),
      });
      // Prosody 0.12 with the live view: its rule leaves nobody out, so both are recorded as 0.
      const none = { excludedDisabled: 0, excludedNoAccount: 0 };
      record('twelve', {
        [TOTAL_HOST]: figures(10, { online: 4, ...none }),
        'a.example': figures(7, { online: 3, ...none }),
        'b.example': figures(3, { online: 1, ...none }),
      });
      // A refresh recorded before the exclusions were kept (history schema before 5): unknown.
      record('older', {
        [TOTAL_HOST]: figures(10),
        'a.example': figures(10),
      });
    },
  });
  win = seeded.win;
});

after(async () => {
  await seeded?.close();
});

async function showProfile(page: Page, name: string, firstHost: string): Promise<void> {
  await page.getByLabel('Server').selectOption(name);
  await page.waitForFunction(
    (host) => document.querySelector('#hosts-table tbody th')?.textContent === host,
    firstHost,
  );
}

const headers = (page: Page) => page.locator('#hosts-table thead th').allTextContents();

test('a Prosody 13 server that left accounts out shows them per host, with the numbers', async () => {
  const { page } = win;
  await showProfile(page, 'thirteen', 'chat.example.org');
  assert.deepEqual(await headers(page), [
    'Host',
    'DAU',
    'WAU',
    'MAU',
    'Online',
    'New 30 d',
    'Latest activity',
    'Left out',
  ]);
  const leftOut = await page
    .locator('#hosts-table tbody tr')
    .evaluateAll((trs) =>
      trs.map((tr) => [tr.children[0]?.textContent, tr.lastElementChild?.textContent]),
    );
  assert.deepEqual(leftOut, [
    ['chat.example.org', '12 disabled, 0 no account'],
    ['conference.example.org', '0 disabled, 1,234 no account'],
  ]);
  assert.deepEqual(win.problems, []);
});

test('with Online and Left out both, the table scrolls in its own box at 400 px and every column can be reached', async () => {
  const { page } = win;
  await showProfile(page, 'thirteen', 'chat.example.org');
  assert.equal(page.viewportSize()?.width, 400);
  const table = page.locator('#hosts-table');
  // Where each column sits against the table's box, scrolled to the start or to the end.
  const measure = (scrollTo: 'start' | 'end') =>
    table.evaluate((t, to) => {
      const wrap = t.parentElement!;
      wrap.scrollLeft = to === 'start' ? 0 : wrap.scrollWidth;
      const box = wrap.getBoundingClientRect();
      const section = wrap.closest('section')!.getBoundingClientRect();
      const rows = Array.from(t.querySelectorAll('tr'), (tr) =>
        Array.from(tr.children, (c) => c.getBoundingClientRect()),
      );
      const firsts = rows.map((r) => r[0]!);
      const lasts = rows.map((r) => r[r.length - 1]!);
      return {
        pageOverflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
        boxPastCard: box.right - section.right,
        scrolls: getComputedStyle(wrap).overflowX,
        hidden: wrap.scrollWidth - wrap.clientWidth,
        // Past the scrollable area: a column no scrolling could show.
        pastScrollEnd:
          Math.max(...lasts.map((c) => c.right)) - (box.left + wrap.scrollWidth - wrap.scrollLeft),
        lastColumnPastBox: Math.max(...lasts.map((c) => c.right)) - box.right,
        hostColumnOutOfBox: Math.max(
          ...firsts.map((c) => Math.max(box.left - c.left, c.right - box.right)),
        ),
      };
    }, scrollTo);
  const start = await measure('start');
  await win.screenshot('left-out-and-online');
  const end = await measure('end');
  await win.screenshot('left-out-and-online-scrolled');
  const facts = JSON.stringify({ start, end });
  // The page itself never scrolls sideways, and the table's box stays inside its card.
  assert.ok(start.pageOverflow <= 0 && end.pageOverflow <= 0, facts);
  assert.ok(start.boxPastCard <= 0.5, facts);
  // What does not fit scrolls in the box, and scrolling reaches the last column whole.
  assert.ok(start.hidden <= 0 || ['auto', 'scroll'].includes(start.scrolls), facts);
  assert.ok(start.pastScrollEnd <= 0.5, facts);
  assert.ok(end.lastColumnPastBox <= 0.5, facts);
  // The host names stay in view however far the table is scrolled.
  assert.ok(start.hostColumnOutOfBox <= 0.5 && end.hostColumnOutOfBox <= 0.5, facts);
  // The Left out cells wrap between their two parts, never inside one.
  const lines = await page
    .locator('#hosts-table td.left-out > span')
    .evaluateAll((spans) => spans.map((s) => s.getClientRects().length));
  assert.deepEqual(lines, [1, 1, 1, 1]);
  assert.deepEqual(win.problems, []);
});

test('a Prosody 0.12 server, whose rule leaves nobody out, has no Left out column', async () => {
  const { page } = win;
  await showProfile(page, 'twelve', 'a.example');
  assert.deepEqual(await headers(page), [
    'Host',
    'DAU',
    'WAU',
    'MAU',
    'Online',
    'New 30 d',
    'Latest activity',
  ]);
  assert.equal(await page.locator('#hosts-table .left-out').count(), 0);
});

test('figures recorded before the exclusions were kept have no Left out column', async () => {
  const { page } = win;
  await showProfile(page, 'older', 'a.example');
  assert.deepEqual(await headers(page), [
    'Host',
    'DAU',
    'WAU',
    'MAU',
    'New 30 d',
    'Latest activity',
  ]);
  assert.equal(await page.locator('#hosts-table .left-out').count(), 0);
});
