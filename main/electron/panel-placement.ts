/**
 * Where the panel opens, and on which Spaces. Runs in the main process; plain functions, tested
 * without Electron.
 *
 * - The anchor: the tray icon's bounds where the platform gives them (macOS, Windows); else the
 *   cursor, which is next to the icon when its menu was just used (X11). Under Wayland neither is
 *   known: Electron's Tray has no bounds there and a client never learns the pointer's position
 *   outside its own windows (screen.getCursorScreenPoint answers a stale point or 0,0), and a
 *   compositor places a client's windows itself. The panel is then centred on the primary display,
 *   which is what a compositor that ignores the request does too, rather than sent to a corner.
 * - macOS: a panel opened from the menu bar belongs on the Space the user is on, also above an
 *   app in full screen, as the `menubar` library's panels are: visible on all workspaces and on
 *   full-screen ones, at the level of a pop-up menu. `visibleOnFullScreen` makes Electron hide the
 *   dock icon, which this tray app has hidden anyway (electron/electron#26350 is the reverse case).
 */
import type { Point, Rectangle } from 'electron';

/** A Wayland session: the compositor places windows and keeps the pointer to itself. */
export function isWaylandSession(env: Readonly<Record<string, string | undefined>>): boolean {
  return env.XDG_SESSION_TYPE === 'wayland' || (env.WAYLAND_DISPLAY ?? '') !== '';
}

export interface AnchorInput {
  /** The tray icon's bounds, null where unknown. */
  trayBounds: Rectangle | null;
  /** Electron's cursor position. */
  cursor: Point;
  wayland: boolean;
}

/** What to place the panel next to; null centres it on the primary display. */
export function panelAnchor(input: AnchorInput): Rectangle | null {
  if (input.trayBounds !== null) return input.trayBounds;
  // 0,0 is what Electron answers when it does not know; nobody clicks a tray icon there.
  const unknown = input.wayland || (input.cursor.x === 0 && input.cursor.y === 0);
  return unknown ? null : { ...input.cursor, width: 0, height: 0 };
}

/** What this needs of a BrowserWindow. */
export interface SpacesWindow {
  setVisibleOnAllWorkspaces(visible: boolean, options?: { visibleOnFullScreen?: boolean }): void;
  setAlwaysOnTop(flag: boolean, level?: 'pop-up-menu'): void;
}

/** macOS: the panel opens on the current Space, above full-screen apps. Elsewhere nothing. */
export function showOnEverySpace(win: SpacesWindow, platform: NodeJS.Platform): void {
  if (platform !== 'darwin') return;
  win.setVisibleOnAllWorkspaces(true, { visibleOnFullScreen: true });
  win.setAlwaysOnTop(true, 'pop-up-menu');
}
