/**
 * The Electron test double's BrowserWindow (see electron-double.ts): a page in real headless
 * Chromium (playwright-core), loading what main loads, with the compiled preload run first in the
 * page under a `require` that knows only 'electron' (as a sandboxed preload's does). Its
 * ipcRenderer.invoke calls a Playwright binding that reaches ipcMain's handler with an event whose
 * `sender` is this window's webContents and whose `senderFrame` says which frame called.
 * Showing, hiding, focus and position are recorded, not drawn: headless Chromium has no screen.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { type Browser, type Frame, type Page, chromium } from 'playwright-core';
import type { RecordedWindow } from './control.js';
import { appUrl, loadableUrl } from './protocol-double.js';

/** As test/support/chromium.ts launches it: headless, nothing fetched in the background. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

let browser: Promise<Browser> | null = null;

function launch(): Promise<Browser> {
  browser ??= chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  return browser;
}

export async function closeChromium(): Promise<void> {
  if (browser === null) return;
  const b = await browser.catch(() => null);
  await b?.close().catch(() => undefined);
}

/** What the window needs from the rest of the double. */
export interface WindowHost {
  invoke(channel: string, event: unknown, args: unknown[]): Promise<unknown>;
  webContentsCreated(contents: WebContentsDouble): void;
}

interface WindowOptions {
  width?: number;
  height?: number;
  webPreferences?: { preload?: string };
}

/** Electron's WebFrameMain, as far as main's sender check reads it. */
export interface FrameDouble {
  readonly url: string;
  readonly parent: FrameDouble | null;
  readonly processId: number;
  readonly routingId: number;
}

/** The preload wrapped as a sandboxed preload runs: `require('electron')` and nothing else. */
function preloadScript(preloadPath: string): string {
  const source = readFileSync(preloadPath, 'utf8');
  return `(() => {
  const listeners = new Map();
  window.__electronDoubleDispatch = (channel, args) => {
    for (const listener of [...(listeners.get(channel) ?? [])]) listener({}, ...args);
  };
  const ipcRenderer = {
    invoke: (channel, ...args) => window.__electronDoubleInvoke(channel, args),
    on(channel, listener) {
      if (!listeners.has(channel)) listeners.set(channel, new Set());
      listeners.get(channel).add(listener);
      return ipcRenderer;
    },
    removeListener(channel, listener) {
      listeners.get(channel)?.delete(listener);
      return ipcRenderer;
    },
  };
  const contextBridge = {
    exposeInMainWorld(key, api) {
      Object.defineProperty(window, key, { value: Object.freeze({ ...api }) });
    },
  };
  const require = (name) => {
    if (name !== 'electron') throw new Error('module not found: ' + name);
    return { contextBridge, ipcRenderer };
  };
  const module = { exports: {} };
  const exports = module.exports;
  ${source.replace(/^\/\/# sourceMappingURL=.*$/m, '')}
})();`;
}

let nextId = 1;

export class WebContentsDouble extends EventEmitter {
  readonly id = nextId++;
  readonly mainFrame: FrameDouble;
  windowOpenHandler: unknown = null;
  private loading = false;

  constructor(private readonly win: WindowDouble) {
    super();
    const pageUrl = () => win.pageUrl() ?? '';
    this.mainFrame = {
      get url() {
        return pageUrl();
      },
      parent: null,
      processId: 1,
      routingId: this.id,
    };
  }
  isDestroyed(): boolean {
    return this.win.isDestroyed();
  }
  isLoading(): boolean {
    return this.loading;
  }
  isDevToolsOpened(): boolean {
    return false;
  }
  getURL(): string {
    return this.win.pageUrl() ?? '';
  }
  setWindowOpenHandler(handler: unknown): void {
    this.windowOpenHandler = handler;
  }
  send(channel: string, ...args: unknown[]): void {
    void this.win.dispatch(channel, args);
  }
  async load(url: string): Promise<void> {
    this.loading = true;
    try {
      await this.win.goto(url);
    } finally {
      this.loading = false;
    }
    this.emit('did-finish-load');
  }
}

export class WindowDouble extends EventEmitter {
  private static readonly windows: WindowDouble[] = [];
  static all(): WindowDouble[] {
    return WindowDouble.windows.filter((w) => !w.isDestroyed());
  }

  readonly webContents: WebContentsDouble;
  private visible = false;
  private destroyed = false;
  private position: [number, number] = [0, 0];
  private positioned = false;
  private allWorkspaces: RecordedWindow['allWorkspaces'] = null;
  private alwaysOnTop: RecordedWindow['alwaysOnTop'] = null;
  private readonly page: Promise<Page>;
  private loadedPage: Page | null = null;

  constructor(
    private readonly host: WindowHost,
    private readonly options: WindowOptions,
  ) {
    super();
    WindowDouble.windows.push(this);
    this.webContents = new WebContentsDouble(this);
    host.webContentsCreated(this.webContents);
    this.page = this.openPage();
    this.page.catch(() => undefined);
  }

  private async openPage(): Promise<Page> {
    const b = await launch();
    const context = await b.newContext({
      viewport: { width: this.options.width ?? 800, height: this.options.height ?? 600 },
      reducedMotion: 'reduce',
    });
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') console.error(`[window console] ${m.text()}`);
    });
    page.on('pageerror', (e) => console.error(`[window page error] ${e.message}`));
    await page.exposeBinding(
      '__electronDoubleInvoke',
      (source: { frame: Frame }, channel: string, args: unknown[]) => {
        const event = { sender: this.webContents, senderFrame: this.frameOf(page, source.frame) };
        return this.host.invoke(channel, event, args);
      },
    );
    const preload = this.options.webPreferences?.preload;
    if (preload !== undefined) await page.addInitScript({ content: preloadScript(preload) });
    this.loadedPage = page;
    return page;
  }

  private frameOf(page: Page, frame: Frame): FrameDouble {
    if (frame === page.mainFrame()) return this.webContents.mainFrame;
    return { url: frame.url(), parent: this.webContents.mainFrame, processId: 1, routingId: -1 };
  }

  pageUrl(): string | null {
    const url = this.loadedPage?.url();
    return url === undefined || url === 'about:blank' ? null : appUrl(url);
  }

  async goto(url: string): Promise<void> {
    const page = await this.page;
    await page.goto(await loadableUrl(url));
  }

  async dispatch(channel: string, args: unknown[]): Promise<void> {
    const page = await this.page;
    await page
      .evaluate(
        ([c, a]) => {
          const w = window as unknown as {
            __electronDoubleDispatch?: (c: string, a: unknown[]) => void;
          };
          w.__electronDoubleDispatch?.(c, a);
        },
        [channel, args] as const,
      )
      .catch(() => undefined); // the page was navigating or closing, as Electron drops it too
  }

  async evaluate(expression: string): Promise<unknown> {
    const page = await this.page;
    return page.evaluate(expression);
  }

  async press(key: string): Promise<void> {
    const page = await this.page;
    await page.keyboard.press(key);
  }

  loadFile(path: string, options: { hash?: string; query?: Record<string, string> } = {}) {
    const query = new URLSearchParams(options.query ?? {}).toString();
    const url =
      pathToFileURL(path).href +
      (query === '' ? '' : `?${query}`) +
      (options.hash === undefined ? '' : `#${options.hash}`);
    return this.webContents.load(url);
  }
  loadURL(url: string): Promise<void> {
    return this.webContents.load(url);
  }

  show(): void {
    this.visible = true;
    this.emit('show');
  }
  hide(): void {
    this.visible = false;
    this.emit('hide');
  }
  focus(): void {}
  isVisible(): boolean {
    return this.visible;
  }
  isFocused(): boolean {
    return this.visible;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  setPosition(x: number, y: number): void {
    this.position = [x, y];
    this.positioned = true;
  }
  getPosition(): [number, number] {
    return this.position;
  }
  center(): void {}
  setVisibleOnAllWorkspaces(visible: boolean, options?: unknown): void {
    this.allWorkspaces = { visible, options: options ?? null };
  }
  setAlwaysOnTop(flag: boolean, level?: string): void {
    this.alwaysOnTop = { flag, level: level ?? null };
  }
  /** Electron's close: 'close' may be prevented; else the window is destroyed. */
  close(): void {
    void this.closeFromQuit();
  }
  /** Closes; false when a 'close' listener prevented it. */
  closeFromQuit(): boolean {
    if (this.destroyed) return true;
    let prevented = false;
    this.emit('close', {
      preventDefault: () => {
        prevented = true;
      },
    });
    if (prevented) return false;
    this.destroy();
    return true;
  }
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.visible = false;
    this.emit('closed');
    void this.page.then((p) => p.context().close()).catch(() => undefined);
  }

  record(): RecordedWindow {
    return {
      visible: this.visible,
      destroyed: this.destroyed,
      url: this.pageUrl(),
      position: this.position,
      positioned: this.positioned,
      allWorkspaces: this.allWorkspaces,
      alwaysOnTop: this.alwaysOnTop,
    };
  }
}
