/**
 * The built window in real headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core), fed by a real AppService in the test process.
 *
 * Only Electron's IPC transport is replaced: where the preload's functions would call
 * ipcRenderer.invoke and main's handler would call the AppService, each function of
 * `window.prosodyActiveUsers` here calls a Playwright binding that calls the same AppService
 * function with the same arguments; snapshots the service publishes reach the page's onSnapshot
 * listeners the way 'snapshot:changed' events would. The page gets nothing else from outside.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import { API_CHANNELS } from '../../main/core/ipc-contract.js';
import type { AppService } from '../../main/app/app-service.js';

export const PROJECT_DIR = join(__dirname, '..', '..');
export const RENDERER_DIR = join(PROJECT_DIR, 'dist', 'renderer');
export const SCREENSHOT_DIR = join(PROJECT_DIR, 'test-output', 'screenshots');

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Builds dist/renderer (esbuild, plus index.html and styles.css) the way `npm run build` does. */
export function buildRenderer(): void {
  execFileSync('npm', ['run', '--silent', 'build:renderer'], { cwd: PROJECT_DIR, stdio: 'pipe' });
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

export interface AppWindow {
  page: Page;
  context: BrowserContext;
  /** Main's 'profile:show' event (a notification about the profile was clicked). */
  showProfile(profile: string): Promise<void>;
  /** Console errors, page errors and CSP refusals seen so far: none in a good run. */
  problems: string[];
  /** A full-page PNG under test-output/screenshots; the pointer is moved away first, unless kept. */
  screenshot(name: string, options?: { keepPointer?: boolean }): Promise<string>;
  close(): Promise<void>;
}

export interface OpenOptions {
  colorScheme?: 'light' | 'dark';
  width?: number;
  height?: number;
}

type PageWindow = Record<string, unknown>;

/** Opens the built index.html with the bridge in place of the preload. */
export async function openAppWindow(
  browser: Browser,
  service: AppService,
  options: OpenOptions = {},
): Promise<AppWindow> {
  const context = await browser.newContext({
    // The tray panel's size (main/electron/window.ts).
    viewport: { width: options.width ?? 400, height: options.height ?? 600 },
    colorScheme: options.colorScheme ?? 'light',
    reducedMotion: 'reduce',
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith(pathToFileURL(RENDERER_DIR).href)) problems.push(`request: ${r.url()}`);
  });

  const names = Object.keys(API_CHANNELS) as Array<keyof typeof API_CHANNELS>;
  for (const name of names) {
    await page.exposeBinding(`__pauInvoke_${name}`, (source, ...args: unknown[]) => {
      // Like main's sender check: only our page's main frame may call.
      if (source.frame !== page.mainFrame()) throw new Error(`${name}: not the main frame`);
      const fn = service[name] as (...a: unknown[]) => Promise<unknown>;
      return fn(...args);
    });
  }
  await page.addInitScript((apiNames: string[]) => {
    const w = window as unknown as PageWindow;
    const listeners = new Set<(snapshot: unknown) => void>();
    const api: Record<string, unknown> = {};
    for (const n of apiNames) {
      api[n] = (...args: unknown[]) =>
        (w[`__pauInvoke_${n}`] as (...a: unknown[]) => unknown)(...args);
    }
    api.onSnapshot = (listener: (snapshot: unknown) => void) => {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    };
    w.__pauSnapshotChanged = (snapshot: unknown) => {
      for (const l of listeners) l(snapshot);
    };
    const showListeners = new Set<(profile: unknown) => void>();
    api.onShowProfile = (listener: (profile: unknown) => void) => {
      showListeners.add(listener);
      return () => void showListeners.delete(listener);
    };
    w.__pauShowProfile = (profile: unknown) => {
      for (const l of showListeners) l(profile);
    };
    // contextBridge exposes a frozen, non-writable object; so does this.
    Object.defineProperty(window, 'prosodyActiveUsers', { value: Object.freeze(api) });
  }, names);

  let open = true;
  const unsubscribe = service.subscribe((snapshot) => {
    if (!open) return;
    page
      .evaluate((s) => {
        const push = (window as unknown as PageWindow).__pauSnapshotChanged;
        if (typeof push === 'function') push(s);
      }, snapshot)
      .catch(() => undefined); // the page was closing
  });

  await page.goto(pathToFileURL(join(RENDERER_DIR, 'index.html')).href);
  return {
    page,
    context,
    problems,
    async showProfile(profile) {
      await page.evaluate((p) => {
        const push = (window as unknown as PageWindow).__pauShowProfile;
        if (typeof push === 'function') push(p);
      }, profile);
    },
    async screenshot(name, shotOptions = {}) {
      mkdirSync(SCREENSHOT_DIR, { recursive: true });
      if (!shotOptions.keepPointer) await page.mouse.move(0, 0);
      const path = join(SCREENSHOT_DIR, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    async close() {
      open = false;
      unsubscribe();
      await context.close();
    },
  };
}
