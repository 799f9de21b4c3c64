/**
 * The tray icon: draws a TrayView (core/tray-state.ts) and reports clicks. Runs in the main
 * process. Electron's Tray, Menu and nativeImage come in as parameters, so a test drives it with
 * fakes; the module keeps the last view it drew and returns early when nothing changed.
 *
 * Platform behaviour it relies on (Electron's Tray docs, "Platform Considerations"):
 * - Linux: with an app indicator (most desktops) the icon shows only when it has a context menu,
 *   and clicks are not reported; the menu is the way in, so it is always set and holds "Open".
 *   Changed menu items take effect only through another setContextMenu, which every redraw does.
 * - macOS: a tray with a context menu opens the menu on a left click, so there the menu is not set
 *   but popped up on a right click, and a left click toggles the window. Template images follow
 *   the menu bar's light or dark look.
 * - Windows: a left click is reported, a right click opens the context menu.
 */
import { join } from 'node:path';
import type { MenuItemConstructorOptions, Menu, NativeImage, Rectangle, Tray } from 'electron';
import {
  type TrayCommand,
  type TrayMenuItem,
  type TrayState,
  type TrayView,
  sameTrayView,
} from '../core/tray-state.js';

/** The parts of Electron the tray needs: `{ Tray, Menu, nativeImage }` from 'electron'. */
export interface TrayElectron {
  Tray: new (image: NativeImage) => Tray;
  Menu: { buildFromTemplate(template: MenuItemConstructorOptions[]): Menu };
  nativeImage: { createFromPath(path: string): NativeImage };
}

export interface AppTrayOptions {
  electron: TrayElectron;
  platform: NodeJS.Platform;
  /** The folder of the tray PNGs (main/electron/assets/tray). */
  iconDir: string;
  /** A click on the icon: show or hide the window next to it (bounds are null where unknown). */
  onToggleWindow(bounds: Rectangle | null): void;
  /** A menu item was chosen. */
  onCommand(command: TrayCommand): void;
}

export interface AppTray {
  /** Draws the view; false (and nothing drawn) when it is the one already shown. */
  render(view: TrayView): boolean;
  /** Where the icon is on screen (macOS and Windows; null elsewhere or when unknown). */
  bounds(): Rectangle | null;
  destroy(): void;
}

/**
 * The icon's file for a state: a template image on macOS (`…Template.png`; nativeImage loads the
 * `@2x` file next to it on high-DPI screens), a coloured one elsewhere.
 */
export function trayIconPath(iconDir: string, state: TrayState, platform: NodeJS.Platform): string {
  return join(iconDir, `tray-${state}${platform === 'darwin' ? 'Template' : ''}.png`);
}

/**
 * A label as Electron shows it: a single `&` marks a keyboard mnemonic and disappears, `&&` shows
 * one `&` (electron/electron#9584, #25028). Profile names may contain `&`.
 */
export function menuLabel(text: string): string {
  return text.replaceAll('&', '&&');
}

/** The menu model as an Electron menu template; choosing an item calls `onCommand`. */
export function menuTemplate(
  items: readonly TrayMenuItem[],
  onCommand: (command: TrayCommand) => void,
): MenuItemConstructorOptions[] {
  return items.map((item): MenuItemConstructorOptions => {
    switch (item.type) {
      case 'separator':
        return { type: 'separator' };
      case 'info':
        return { label: menuLabel(item.label), enabled: false };
      case 'checkbox':
        return {
          type: 'checkbox',
          label: menuLabel(item.label),
          checked: item.checked,
          click: () => onCommand(item.command),
        };
      case 'command':
        return {
          label: menuLabel(item.label),
          enabled: item.enabled,
          click: () => onCommand(item.command),
        };
    }
  });
}

/** Creates the tray icon showing `initial`. */
export function createAppTray(options: AppTrayOptions, initial: TrayView): AppTray {
  const { electron, platform, iconDir } = options;
  const popUpMenu = platform === 'darwin';
  const image = (state: TrayState) =>
    electron.nativeImage.createFromPath(trayIconPath(iconDir, state, platform));

  const tray = new electron.Tray(image(initial.state));
  let drawn: TrayView | null = null;
  let menu: Menu | null = null;

  tray.on('click', (_event, bounds) => options.onToggleWindow(usable(bounds)));
  if (popUpMenu) {
    tray.on('right-click', () => {
      if (menu !== null) tray.popUpContextMenu(menu);
    });
  }

  const render = (view: TrayView): boolean => {
    if (sameTrayView(drawn, view)) return false;
    const before = drawn;
    if (before !== null && before.state !== view.state) tray.setImage(image(view.state));
    if (before?.tooltip !== view.tooltip) tray.setToolTip(view.tooltip);
    if (platform === 'darwin' && before?.title !== view.title) tray.setTitle(view.title);
    if (before === null || JSON.stringify(before.menu) !== JSON.stringify(view.menu)) {
      menu = electron.Menu.buildFromTemplate(menuTemplate(view.menu, options.onCommand));
      if (!popUpMenu) tray.setContextMenu(menu);
    }
    drawn = view;
    return true;
  };

  render(initial);

  return {
    render,
    bounds: () => {
      if (platform !== 'darwin' && platform !== 'win32') return null;
      return usable(tray.getBounds());
    },
    destroy: () => {
      if (!tray.isDestroyed()) tray.destroy();
    },
  };
}

/** Bounds with an area, or null (Linux reports zeros). */
function usable(bounds: Rectangle | undefined): Rectangle | null {
  return bounds !== undefined && bounds.width > 0 && bounds.height > 0 ? bounds : null;
}
