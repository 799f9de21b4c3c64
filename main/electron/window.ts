/**
 * The window: a small frameless panel next to the tray icon, hidden until asked for and hidden
 * again when it loses focus. Runs in the main process. Its options (the security settings above
 * all) and its placement are plain functions, tested without Electron.
 */
import type { BrowserWindowConstructorOptions, Point, Rectangle, Size } from 'electron';

/** The panel's size: room for three large figures, a chart and a short table. */
export const WINDOW_SIZE: Readonly<Size> = { width: 400, height: 600 };

/** Space kept between the panel, the tray icon and the screen's edges. */
const MARGIN = 8;

/**
 * A click on the tray icon while the panel is open first takes the focus away (the panel hides on
 * blur), then arrives as a click: within this long after a blur, a toggle leaves the panel hidden
 * instead of opening it again.
 */
export const BLUR_TOGGLE_GRACE_MS = 300;

export interface WindowOptionsInput {
  /** The compiled preload script (dist/main/electron/preload.js). */
  preload: string;
  /** The system uses a dark theme (nativeTheme.shouldUseDarkColors): no white flash before paint. */
  dark: boolean;
  /** The window icon (Linux shows it in the window switcher). */
  icon?: string;
  /** Developer tools: on in development, off in a packaged app. */
  devTools: boolean;
}

/**
 * The window's options. The renderer gets no Node and no Electron: context isolation, the OS
 * sandbox, web security; no webview tag, no insecure content, no navigation by dropping a file.
 */
export function windowOptions(input: WindowOptionsInput): BrowserWindowConstructorOptions {
  return {
    ...WINDOW_SIZE,
    show: false,
    frame: false,
    resizable: false,
    movable: false,
    minimizable: false,
    maximizable: false,
    fullscreenable: false,
    skipTaskbar: true,
    title: 'Prosody Active Users',
    backgroundColor: input.dark ? '#1e1e1e' : '#ffffff',
    ...(input.icon === undefined ? {} : { icon: input.icon }),
    webPreferences: {
      preload: input.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      devTools: input.devTools,
    },
  };
}

type Edge = 'top' | 'bottom' | 'left' | 'right';

/**
 * Where the panel's top-left corner goes: next to the tray icon, on the side away from the panel
 * or taskbar that holds it (below a menu bar or top panel, above a bottom taskbar, beside a side
 * one), centred on the icon and kept inside the work area. `tray` may be any small rectangle to
 * anchor on (the cursor where the icon's bounds are unknown); null centres the panel.
 */
export function positionNearTray(tray: Rectangle | null, size: Size, workArea: Rectangle): Point {
  const right = workArea.x + workArea.width;
  const bottom = workArea.y + workArea.height;
  if (tray === null) {
    return {
      x: Math.round(workArea.x + (workArea.width - size.width) / 2),
      y: Math.round(workArea.y + (workArea.height - size.height) / 2),
    };
  }
  const cx = tray.x + tray.width / 2;
  const cy = tray.y + tray.height / 2;
  const edge = trayEdge(tray, workArea);
  let x: number;
  let y: number;
  switch (edge) {
    case 'top':
      x = cx - size.width / 2;
      y = Math.max(tray.y + tray.height, workArea.y) + MARGIN;
      break;
    case 'bottom':
      x = cx - size.width / 2;
      y = Math.min(tray.y, bottom) - size.height - MARGIN;
      break;
    case 'left':
      x = Math.max(tray.x + tray.width, workArea.x) + MARGIN;
      y = cy - size.height / 2;
      break;
    case 'right':
      x = Math.min(tray.x, right) - size.width - MARGIN;
      y = cy - size.height / 2;
      break;
  }
  return {
    x: Math.round(clamp(x, workArea.x + MARGIN, right - size.width - MARGIN, workArea.x)),
    y: Math.round(clamp(y, workArea.y + MARGIN, bottom - size.height - MARGIN, workArea.y)),
  };
}

/** The screen edge the icon sits on: outside the work area if it is, else the nearest one. */
function trayEdge(tray: Rectangle, workArea: Rectangle): Edge {
  const right = workArea.x + workArea.width;
  const bottom = workArea.y + workArea.height;
  if (tray.y + tray.height <= workArea.y) return 'top';
  if (tray.y >= bottom) return 'bottom';
  if (tray.x + tray.width <= workArea.x) return 'left';
  if (tray.x >= right) return 'right';
  const cx = tray.x + tray.width / 2;
  const cy = tray.y + tray.height / 2;
  const distances: Array<[Edge, number]> = [
    ['top', cy - workArea.y],
    ['bottom', bottom - cy],
    ['left', cx - workArea.x],
    ['right', right - cx],
  ];
  distances.sort((a, b) => a[1] - b[1]);
  return distances[0]?.[0] ?? 'top';
}

/** `value` within [min, max]; `fallback` when the range is empty (a panel wider than the screen). */
function clamp(value: number, min: number, max: number, fallback: number): number {
  if (max < min) return fallback;
  return Math.min(Math.max(value, min), max);
}

/** What the panel logic needs of a BrowserWindow. */
export interface PanelWindow {
  isVisible(): boolean;
  isDestroyed(): boolean;
  show(): void;
  hide(): void;
  focus(): void;
  setPosition(x: number, y: number): void;
  on(event: 'blur', listener: () => void): unknown;
}

export interface Panel {
  /** A click on the tray icon: open next to it, or close. */
  toggle(): void;
  /** Open (or bring forward): "Open", "Settings…", a second launch. */
  show(): void;
  hide(): void;
}

export interface PanelOptions {
  /** Milliseconds, for the blur-then-click grace. */
  now(): number;
  /** Where to put the panel when it opens (positionNearTray with today's screen), or null. */
  position(): Point | null;
  /** Keep the panel open when it loses focus (while developer tools are in use). */
  keepOnBlur?(): boolean;
}

/** Show/hide behaviour of the panel: hides on blur, toggles from the tray. */
export function createPanel(win: PanelWindow, options: PanelOptions): Panel {
  let hiddenByBlurAt = Number.NEGATIVE_INFINITY;

  win.on('blur', () => {
    if (win.isDestroyed() || !win.isVisible() || options.keepOnBlur?.()) return;
    hiddenByBlurAt = options.now();
    win.hide();
  });

  const show = (): void => {
    if (win.isDestroyed()) return;
    const at = options.position();
    if (at !== null) win.setPosition(at.x, at.y);
    win.show();
    win.focus();
  };
  const hide = (): void => {
    if (!win.isDestroyed()) win.hide();
  };

  return {
    toggle: () => {
      if (win.isDestroyed()) return;
      if (win.isVisible()) hide();
      else if (options.now() - hiddenByBlurAt >= BLUR_TOGGLE_GRACE_MS) show();
    },
    show,
    hide,
  };
}
