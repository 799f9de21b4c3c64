/**
 * A TEST DOUBLE of the `electron` module, and nothing more: with it, the built main process
 * (dist/main/electron/main.js) runs unchanged under Node in CI, where no display and no Electron
 * binary are available. register.ts makes `require('electron')` return this module.
 *
 * What is real and what is not:
 * - BrowserWindow: real headless Chromium (playwright-core, /usr/bin/chromium) loading the real
 *   built page with the real compiled preload (browser-window-double.ts). Only the transport
 *   between the preload and main is replaced: ipcRenderer.invoke reaches the handlers registered on
 *   ipcMain here through a Playwright binding, and webContents.send reaches ipcRenderer listeners
 *   through page.evaluate. The page's world can see those two helpers, where Electron's isolated
 *   world would hide them; nothing in the app relies on that.
 * - protocol.handle: the handler main gives serves the page, on a loopback origin that the double
 *   translates to the app's scheme and back (protocol-double.ts).
 * - Tray, Menu, Notification, dialog, safeStorage, powerMonitor, screen, session and app: recorded
 *   only, so that a test can read them and click them (control.ts: the test's requests). safeStorage
 *   "encrypts" by base64 with a prefix; it keeps nothing secret and claims nothing.
 * - app.requestSingleInstanceLock: a lock file and a Unix socket in userData, between processes,
 *   as Electron's own lock is; a second instance's argv reaches the first as 'second-instance'.
 * - app.quit: before-quit (which may be prevented), the windows' close, will-quit, quit, then the
 *   process exits, open handles or not, as Electron's does.
 */
import { EventEmitter } from 'node:events';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { type Server, createConnection, createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { DoubleState, Message, RecordedMenuItem, Reply, Request } from './control.js';
import { WindowDouble, closeChromium, type WindowHost } from './browser-window-double.js';

export { protocol } from './protocol-double.js';

const PROJECT_DIR = join(__dirname, '..', '..');

// ---- recording -------------------------------------------------------------------------------

const errorBoxes: DoubleState['errorBoxes'] = [];
const notifications: DoubleState['notifications'] = [];
/** The notifications shown, in order, to click. */
const shown: Notification[] = [];
let ready = false;
let singleInstanceLock: boolean | null = null;
let listenersAtWhenReady: string[] | null = null;
/** Added to the real clock: the wall time that passed while the "machine" slept. */
let clockOffsetMs = 0;
const realDateNow = Date.now.bind(Date);
Date.now = () => realDateNow() + clockOffsetMs;

// ---- app -------------------------------------------------------------------------------------

interface PreventableEvent {
  preventDefault(): void;
  defaultPrevented: boolean;
}

function preventable(): PreventableEvent {
  const event = {
    defaultPrevented: false,
    preventDefault() {
      event.defaultPrevented = true;
    },
  };
  return event;
}

class AppDouble extends EventEmitter {
  readonly isPackaged = false;
  readonly commandLine = { appendSwitch: () => {}, hasSwitch: () => false };
  private readonly paths = new Map<string, string>([
    ['home', homedir()],
    ['userData', join(homedir(), '.config', 'prosody-active-users')],
  ]);
  private readyPromise: Promise<void> | null = null;
  private quitting = false;
  private exiting = false;
  /** Work to finish before the process may exit (a second instance's message). */
  private readonly pending = new Set<Promise<unknown>>();
  private singletonServer: Server | null = null;

  getName(): string {
    return 'prosody-active-users';
  }
  getVersion(): string {
    return '0.0.0-test-double';
  }
  getAppPath(): string {
    return PROJECT_DIR;
  }
  setPath(name: string, path: string): void {
    this.paths.set(name, path);
  }
  getPath(name: string): string {
    const path = this.paths.get(name);
    if (path === undefined) throw new Error(`the Electron test double knows no path ${name}`);
    return path;
  }
  setAppUserModelId(): void {}
  isReady(): boolean {
    return ready;
  }
  whenReady(): Promise<void> {
    listenersAtWhenReady ??= this.eventNames().map(String);
    this.readyPromise ??= new Promise<void>((resolve) =>
      setImmediate(() => {
        ready = true;
        this.emit('ready', preventable(), {});
        resolve();
      }),
    );
    return this.readyPromise;
  }
  getLoginItemSettings(): { openAtLogin: boolean } {
    return { openAtLogin: false };
  }
  setLoginItemSettings(): void {}

  requestSingleInstanceLock(): boolean {
    const dir = this.getPath('userData');
    // Electron makes the folder for its lock too.
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const lock = join(dir, 'DoubleSingletonLock');
    const socket = join(dir, 'DoubleSingletonSocket');
    const owner = existsSync(lock) ? Number(readFileSync(lock, 'utf8')) : NaN;
    if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
      singleInstanceLock = false;
      // Electron hands argv and the working directory to the first instance.
      const delivered = new Promise<void>((resolve) => {
        const conn = createConnection(socket, () => {
          conn.end(JSON.stringify({ argv: process.argv, cwd: process.cwd() }), () => resolve());
        });
        conn.on('error', () => resolve());
      });
      this.pending.add(delivered);
      return false;
    }
    rmSync(lock, { force: true });
    rmSync(socket, { force: true });
    const fd = openSync(lock, 'wx', 0o600);
    writeSync(fd, String(process.pid));
    closeSync(fd);
    this.singletonServer = createServer((conn) => {
      let text = '';
      conn.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      conn.on('end', () => {
        const { argv, cwd } = JSON.parse(text) as { argv: string[]; cwd: string };
        this.emit('second-instance', preventable(), argv, cwd, null);
      });
    });
    this.singletonServer.listen(socket);
    this.singletonServer.unref();
    singleInstanceLock = true;
    process.once('exit', () => {
      rmSync(lock, { force: true });
      rmSync(socket, { force: true });
    });
    return true;
  }

  quit(): void {
    if (this.quitting || this.exiting) return;
    this.quitting = true;
    void (async () => {
      try {
        const before = preventable();
        this.emit('before-quit', before);
        if (before.defaultPrevented) return;
        for (const win of WindowDouble.all()) {
          if (!win.closeFromQuit()) return;
        }
        const will = preventable();
        this.emit('will-quit', will);
        if (will.defaultPrevented) return;
        this.emit('quit', preventable(), 0);
        await this.end(0);
      } finally {
        this.quitting = false;
      }
    })();
  }

  exit(code = 0): void {
    void this.end(code);
  }

  private async end(code: number): Promise<void> {
    if (this.exiting) return;
    this.exiting = true;
    await Promise.all([...this.pending]);
    this.singletonServer?.close();
    await closeChromium();
    process.exit(code);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export const app = new AppDouble();

// ---- IPC -------------------------------------------------------------------------------------

type InvokeHandler = (event: unknown, ...args: unknown[]) => unknown;

class IpcMainDouble extends EventEmitter {
  readonly handlers = new Map<string, InvokeHandler>();
  handle(channel: string, handler: InvokeHandler): void {
    if (this.handlers.has(channel)) {
      // Electron's own message.
      throw new Error(`Attempted to register a second handler for '${channel}'`);
    }
    this.handlers.set(channel, handler);
  }
  handleOnce(channel: string, handler: InvokeHandler): void {
    this.handle(channel, (...args) => {
      this.handlers.delete(channel);
      return handler(...args);
    });
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
}

export const ipcMain = new IpcMainDouble();

const host: WindowHost = {
  invoke: async (channel, event, args) => {
    const handler = ipcMain.handlers.get(channel);
    if (handler === undefined) throw new Error(`No handler registered for '${channel}'`);
    return handler(event, ...args);
  },
  webContentsCreated: (contents) => app.emit('web-contents-created', preventable(), contents),
};

export class BrowserWindow extends WindowDouble {
  constructor(options: ConstructorParameters<typeof WindowDouble>[1] = {}) {
    super(host, options);
  }
  static getAllWindows(): WindowDouble[] {
    return WindowDouble.all();
  }
}

// ---- tray, menu, images ------------------------------------------------------------------------

interface TemplateItem {
  type?: string;
  label?: string;
  enabled?: boolean;
  checked?: boolean;
  click?: (item: unknown, win: unknown, event: unknown) => void;
}

export class Menu {
  constructor(readonly items: TemplateItem[]) {}
  static buildFromTemplate(template: TemplateItem[]): Menu {
    return new Menu(template.map((item) => ({ ...item })));
  }
  static setApplicationMenu(): void {}
}

export const nativeImage = {
  createFromPath: (path: string) => ({ path, isEmpty: () => !existsSync(path) }),
  createEmpty: () => ({ path: '', isEmpty: () => true }),
};

/** The app's tray icon (the last one made). */
const trays: Tray[] = [];
const currentTrayOf = (): Tray | null => trays.at(-1) ?? null;

export class Tray extends EventEmitter {
  image: string;
  tooltip = '';
  title = '';
  contextMenu: Menu | null = null;
  private destroyed = false;
  constructor(image: { path: string }) {
    super();
    this.image = image.path;
    trays.push(this);
  }
  setImage(image: { path: string }): void {
    this.image = image.path;
  }
  setToolTip(text: string): void {
    this.tooltip = text;
  }
  setTitle(text: string): void {
    this.title = text;
  }
  setContextMenu(menu: Menu | null): void {
    this.contextMenu = menu;
  }
  popUpContextMenu(menu?: Menu): void {
    if (menu) this.contextMenu = menu;
  }
  /** Linux reports no bounds (zeros), as Electron there does. */
  getBounds(): { x: number; y: number; width: number; height: number } {
    return { x: 0, y: 0, width: 0, height: 0 };
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  destroy(): void {
    this.destroyed = true;
  }
}

function recordedMenu(menu: Menu | null): RecordedMenuItem[] {
  return (menu?.items ?? []).map((item) => ({
    type: item.type ?? 'normal',
    label: item.label ?? '',
    enabled: item.enabled ?? true,
    checked: item.checked ?? false,
  }));
}

// ---- everything else recorded --------------------------------------------------------------------

export const dialog = {
  showErrorBox: (title: string, content: string) => {
    errorBoxes.push({ title, content });
    // Also on stderr: a box shown just before an exit is read from there.
    console.error(`[electron test double] error box: ${title}\n${content}`);
  },
  showMessageBox: () => Promise.resolve({ response: 0, checkboxChecked: false }),
};

export class Notification extends EventEmitter {
  static isSupported(): boolean {
    return true;
  }
  constructor(private readonly options: { title?: string; body?: string } = {}) {
    super();
  }
  show(): void {
    notifications.push({ title: this.options.title ?? '', body: this.options.body ?? '' });
    shown.push(this);
    this.emit('show');
  }
  close(): void {}
}

const SAFE_PREFIX = 'electron-test-double:';

export const safeStorage = {
  isEncryptionAvailable: () => true,
  isAsyncEncryptionAvailable: () => Promise.resolve(true),
  getSelectedStorageBackend: () => 'gnome_libsecret',
  encryptString: (text: string) => Buffer.from(SAFE_PREFIX + text, 'utf8'),
  decryptString: (blob: Buffer) => decryptDouble(blob),
  encryptStringAsync: (text: string) => Promise.resolve(Buffer.from(SAFE_PREFIX + text, 'utf8')),
  decryptStringAsync: (blob: Buffer) =>
    Promise.resolve({ result: decryptDouble(blob), shouldReEncrypt: false }),
};

function decryptDouble(blob: Buffer): string {
  const text = blob.toString('utf8');
  if (!text.startsWith(SAFE_PREFIX)) throw new Error('Error while decrypting the ciphertext');
  return text.slice(SAFE_PREFIX.length);
}

export const powerMonitor = new EventEmitter();

const DISPLAY = {
  id: 1,
  bounds: { x: 0, y: 0, width: 1920, height: 1080 },
  workArea: { x: 0, y: 32, width: 1920, height: 1048 },
  scaleFactor: 1,
};

export const screen = Object.assign(new EventEmitter(), {
  getCursorScreenPoint: () => ({ x: 1800, y: 10 }),
  getPrimaryDisplay: () => DISPLAY,
  getAllDisplays: () => [DISPLAY],
  getDisplayMatching: () => DISPLAY,
  getDisplayNearestPoint: () => DISPLAY,
});

export const nativeTheme = Object.assign(new EventEmitter(), {
  shouldUseDarkColors: false,
  themeSource: 'system',
});

export const session = {
  defaultSession: {
    setPermissionRequestHandler: () => {},
    setPermissionCheckHandler: () => {},
    setDevicePermissionHandler: () => {},
    webRequest: { onHeadersReceived: () => {} },
    protocol: { handle: () => {}, unhandle: () => {} },
  },
};

export const shell = {
  openExternal: () => Promise.resolve(),
  openPath: () => Promise.resolve(''),
};

export const contextBridge = {
  exposeInMainWorld: () => {
    throw new Error('contextBridge runs in the preload, which the test double runs in Chromium');
  },
};

// ---- the test's requests -----------------------------------------------------------------------

function state(): DoubleState {
  const currentTray = currentTrayOf();
  return {
    ready,
    singleInstanceLock,
    tray:
      currentTray === null
        ? null
        : {
            image: currentTray.image,
            tooltip: currentTray.tooltip,
            title: currentTray.title,
            menu: recordedMenu(currentTray.contextMenu),
            destroyed: currentTray.isDestroyed(),
          },
    windows: WindowDouble.all().map((w) => w.record()),
    errorBoxes,
    notifications,
    appListeners: app.eventNames().map(String),
    listenersAtWhenReady,
  };
}

function windowAt(index: number): WindowDouble {
  const win = WindowDouble.all()[index];
  if (win === undefined) throw new Error(`no window ${index}`);
  return win;
}

async function answer(request: Request): Promise<unknown> {
  const currentTray = currentTrayOf();
  switch (request.op) {
    case 'state':
      return state();
    case 'click-menu-item': {
      const item = currentTray?.contextMenu?.items.find((i) => i.label === request.label);
      if (item === undefined) throw new Error(`no tray menu item labelled ${request.label}`);
      if (item.enabled === false) throw new Error(`the tray menu item ${request.label} is off`);
      // Electron flips a checkbox before calling its click handler.
      if (item.type === 'checkbox') item.checked = !item.checked;
      item.click?.(item, null, {});
      return null;
    }
    case 'click-tray':
      currentTray?.emit('click', preventable(), currentTray.getBounds(), { x: 0, y: 0 });
      return null;
    case 'click-notification': {
      const notification = shown[request.index];
      if (notification === undefined) throw new Error(`no notification ${request.index}`);
      notification.emit('click', preventable());
      return null;
    }
    case 'power':
      clockOffsetMs += request.advanceClockMs ?? 0;
      powerMonitor.emit(request.event);
      return null;
    case 'blur-window':
      windowAt(request.index).emit('blur');
      return null;
    case 'page-eval':
      return windowAt(request.index).evaluate(request.expression);
    case 'page-press':
      await windowAt(request.index).press(request.key);
      return null;
  }
}

process.on('message', (message: Message) => {
  void answer(message).then(
    (value) => process.send?.({ id: message.id, ok: true, value } satisfies Reply),
    (error: unknown) =>
      process.send?.({
        id: message.id,
        ok: false,
        error: error instanceof Error ? error.message : String(error),
      } satisfies Reply),
  );
});
// The channel must not keep a quitting app alive.
process.channel?.unref();
