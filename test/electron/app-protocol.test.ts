/**
 * The app's own protocol (main/electron/app-protocol.ts): which URLs map to which renderer file,
 * the handler under Node, and the point of it all in real headless Chromium: with the page served
 * by the handler, a script elsewhere on disk does not load, while on file:// it does.
 *
 * Electron's runtime (and so `protocol.handle` itself) cannot run here, and Debian's Chromium does
 * not know the app's scheme. What stands in for Electron's protocol: a loopback HTTP server whose
 * every request goes through the same handler function (web Request in, web Response out, as
 * protocol.handle passes them). For the CSP that is the same situation: `'self'` then means one
 * origin (scheme, host, port), as it means `prosody-active-users://app` in the app, and the page
 * is a secure context (loopback), as the scheme's `secure` privilege makes it.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import type { Browser } from 'playwright-core';
import {
  APP_ORIGIN,
  APP_PAGE_URL,
  type AppFileLookup,
  createAppFileHandler,
  lookUpAppFile,
} from '../../main/electron/app-protocol.js';
import { CONTENT_SECURITY_POLICY } from '../../main/core/csp.js';
import { freePort } from '../helpers/prosody-server.js';
import { launchChromium } from '../support/chromium.js';

const file = (name: string, contentType: string): AppFileLookup => ({
  kind: 'file',
  name,
  contentType,
});
const notFound = { kind: 'refused', status: 404 } as const;

const LOOKUPS: Array<[string, string, Partial<AppFileLookup>]> = [
  ['the page', `${APP_ORIGIN}/index.html`, file('index.html', 'text/html; charset=utf-8')],
  ['the bundle', `${APP_ORIGIN}/app.js`, file('app.js', 'text/javascript; charset=utf-8')],
  ['a stylesheet', `${APP_ORIGIN}/styles.css`, file('styles.css', 'text/css; charset=utf-8')],
  [
    'the page with a fragment',
    `${APP_PAGE_URL}#settings`,
    file('index.html', 'text/html; charset=utf-8'),
  ],
  ['the page with a query', `${APP_PAGE_URL}?x=1`, file('index.html', 'text/html; charset=utf-8')],
  ['the bare origin', `${APP_ORIGIN}/`, notFound],
  ['a parent folder (normalised away, then unknown)', `${APP_ORIGIN}/../etc/passwd`, notFound],
  ['an encoded parent folder', `${APP_ORIGIN}/%2e%2e/%2e%2e/etc/passwd`, notFound],
  ['an encoded slash', `${APP_ORIGIN}/..%2f..%2fetc%2fpasswd`, notFound],
  ['an encoded backslash', `${APP_ORIGIN}/..%5c..%5cevil.js`, notFound],
  ['a NUL byte', `${APP_ORIGIN}/app.js%00.png`, notFound],
  ['a subfolder', `${APP_ORIGIN}/sub/app.js`, notFound],
  ['a dot file', `${APP_ORIGIN}/.env.js`, notFound],
  ['a name with two dots', `${APP_ORIGIN}/app..js`, notFound],
  ['a kind of file the window has not', `${APP_ORIGIN}/better_sqlite3.node`, notFound],
  ['a database', `${APP_ORIGIN}/history.sqlite`, notFound],
  ['another host', `${APP_SCHEME_OF()}://elsewhere/index.html`, notFound],
  ['another scheme', 'file:///index.html', notFound],
  ['a malformed escape', `${APP_ORIGIN}/%E0%A4%A.js`, { kind: 'refused', status: 400 }],
];

function APP_SCHEME_OF(): string {
  return APP_ORIGIN.split('://')[0]!;
}

for (const [what, url, expected] of LOOKUPS) {
  test(`the app's protocol: ${what} (${url}) is ${expected.kind === 'file' ? `served as ${expected.name}` : `refused with ${(expected as { status: number }).status}`}`, () => {
    const found = lookUpAppFile(url, 'GET', APP_ORIGIN);
    if (expected.kind === 'file') assert.deepEqual(found, expected);
    else
      assert.deepEqual(
        { kind: found.kind, status: (found as { status?: number }).status },
        expected,
      );
  });
}

test("the app's protocol refuses every method but GET and HEAD", () => {
  assert.equal(lookUpAppFile(APP_PAGE_URL, 'POST', APP_ORIGIN).kind, 'refused');
  assert.deepEqual(lookUpAppFile(APP_PAGE_URL, 'HEAD', APP_ORIGIN).kind, 'file');
});

/** A renderer folder, and beside it a folder with a script that is not the app's. */
function layout(): { dir: string; rendererDir: string; elsewhere: string } {
  const dir = mkdtempSync(join(tmpdir(), 'app-protocol-'));
  const rendererDir = join(dir, 'renderer');
  const elsewhere = join(dir, 'elsewhere');
  mkdirSync(rendererDir);
  mkdirSync(elsewhere);
  mkdirSync(join(rendererDir, 'folder.js'));
  writeFileSync(join(elsewhere, 'evil.js'), 'document.documentElement.dataset.evil = "ran";\n');
  writeFileSync(join(rendererDir, 'app.js'), 'document.documentElement.dataset.bundle = "ran";\n');
  writeFileSync(
    join(rendererDir, 'index.html'),
    `<!doctype html>
<html>
  <head>
    <meta charset="utf-8" />
    <meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}" />
    <script src="app.js"></script>
    <script src="${pathToFileURL(join(elsewhere, 'evil.js')).href}"></script>
    <script src="../elsewhere/evil.js"></script>
    <script src="%2e%2e/elsewhere/evil.js"></script>
    <script src="..%2felsewhere%2fevil.js"></script>
  </head>
  <body>
    <p>page</p>
  </body>
</html>
`,
  );
  return { dir, rendererDir, elsewhere };
}

test("the handler serves the renderer's files with the policy, and 404 for a missing file or a folder", async () => {
  const { dir, rendererDir } = layout();
  try {
    const refusals: string[] = [];
    const handle = createAppFileHandler({
      rendererDir,
      origin: APP_ORIGIN,
      csp: CONTENT_SECURITY_POLICY,
      readFile: (path) => readFile(path),
      onRefused: (url, reason) => refusals.push(`${url}: ${reason}`),
    });
    const page = await handle(new Request(APP_PAGE_URL));
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(page.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
    assert.match(await page.text(), /<p>page<\/p>/);
    assert.equal((await handle(new Request(`${APP_ORIGIN}/missing.js`))).status, 404);
    assert.equal((await handle(new Request(`${APP_ORIGIN}/folder.js`))).status, 404);
    assert.deepEqual(refusals, [
      `${APP_ORIGIN}/missing.js: no such file`,
      `${APP_ORIGIN}/folder.js: no such file`,
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The stand-in for Electron's protocol: every request through the same handler. */
async function serveThroughHandler(
  rendererDir: string,
): Promise<{ origin: string; server: Server }> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const handle = createAppFileHandler({
    rendererDir,
    origin,
    csp: CONTENT_SECURITY_POLICY,
    readFile: (path) => readFile(path),
  });
  const server = createServer((req, res) => {
    void handle(new Request(`${origin}${req.url ?? '/'}`, { method: req.method })).then(
      async (response) => {
        const headers: Record<string, string> = {};
        response.headers.forEach((value, name) => (headers[name] = value));
        res.writeHead(response.status, headers);
        res.end(Buffer.from(await response.arrayBuffer()));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { origin, server };
}

async function scriptsThatRan(browser: Browser, url: string): Promise<Record<string, string>> {
  const page = await browser.newPage();
  try {
    await page.goto(url, { waitUntil: 'load' });
    return (await page.evaluate('({ ...document.documentElement.dataset })')) as Record<
      string,
      string
    >;
  } finally {
    await page.close();
  }
}

test('served by the handler, the page runs its own script and no script from elsewhere on disk', async () => {
  const { dir, rendererDir } = layout();
  const { origin, server } = await serveThroughHandler(rendererDir);
  const browser = await launchChromium();
  try {
    assert.deepEqual(await scriptsThatRan(browser, `${origin}/index.html`), { bundle: 'ran' });
  } finally {
    await browser.close();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  }
});

test("why: on file:// the same policy lets a script elsewhere on disk run, since 'self' is every file", async () => {
  const { dir, rendererDir } = layout();
  const browser = await launchChromium();
  try {
    assert.deepEqual(
      await scriptsThatRan(browser, pathToFileURL(join(rendererDir, 'index.html')).href),
      { bundle: 'ran', evil: 'ran' },
    );
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
