/**
 * The Content-Security-Policy in real Chromium, on a file:// page laid out like the built renderer
 * (index.html, app.js, styles.css side by side): the bundled script and the stylesheet load, and
 * inline script, eval, inline style attributes and network requests are refused. Electron's own
 * Chromium is not available here, so Debian's chromium stands in for it (driven by playwright-core);
 * the test is skipped where that is not installed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { CONTENT_SECURITY_POLICY } from '../../main/core/csp.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const INDEX = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}" />
    <link rel="stylesheet" href="styles.css" />
    <script src="app.js" defer></script>
    <script>document.documentElement.dataset.inlineScript = 'ran';</script>
  </head>
  <body>
    <p id="styled">styled by styles.css</p>
    <p id="inline-style" style="color: rgb(1, 2, 3)">styled inline</p>
  </body>
</html>
`;

const APP = `
const root = document.documentElement;
root.dataset.bundle = 'ran';
try { eval('1'); root.dataset.eval = 'ran'; } catch { root.dataset.eval = 'refused'; }
try { new Function('return 1')(); root.dataset.fn = 'ran'; } catch { root.dataset.fn = 'refused'; }
const span = document.createElement('span');
span.id = 'scripted-style';
span.style.color = 'rgb(4, 5, 6)';
document.body.append(span);
fetch('https://example.org/').then(
  () => (root.dataset.fetch = 'ran'),
  () => (root.dataset.fetch = 'refused'),
);
`;

const STYLES = '#styled { color: rgb(10, 20, 30); }\n';

test('the policy lets the bundled script and stylesheet load from file:// and refuses the rest', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'csp-'));
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    writeFileSync(join(dir, 'index.html'), INDEX);
    writeFileSync(join(dir, 'app.js'), APP);
    writeFileSync(join(dir, 'styles.css'), STYLES);
    const page = await browser.newPage();
    await page.goto(pathToFileURL(join(dir, 'index.html')).href);
    await page.waitForFunction(() => document.documentElement.dataset.fetch !== undefined);
    // A string, not a function: tsx would wrap a function's inner helpers in its own __name.
    const seen = await page.evaluate(`(() => {
        const color = (id) => {
          const el = document.getElementById(id);
          return el === null ? null : getComputedStyle(el).color;
        };
        const d = document.documentElement.dataset;
        return {
          bundle: d.bundle,
          inlineScript: d.inlineScript ?? 'refused',
          eval: d.eval,
          fn: d.fn,
          fetch: d.fetch,
          stylesheet: color('styled'),
          inlineStyle: color('inline-style'),
          scriptedStyle: color('scripted-style'),
        };
      })()`);
    assert.deepEqual(seen, {
      bundle: 'ran',
      inlineScript: 'refused',
      eval: 'refused',
      fn: 'refused',
      fetch: 'refused',
      stylesheet: 'rgb(10, 20, 30)',
      inlineStyle: 'rgb(0, 0, 0)',
      // Styles set from script (the CSSOM) are not governed by CSP: the chart library uses them.
      scriptedStyle: 'rgb(4, 5, 6)',
    });
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
