/**
 * Where the app's files are, from the folder of the compiled main process (dist/main/electron).
 * Runs in the main process.
 * The build puts the renderer in dist/renderer and the Electron build of better-sqlite3 in
 * dist/electron-native; the tray icons stay in main/electron/assets (committed PNGs, which tsc
 * does not copy). In a packaged app all of these are inside app.asar, except what electron-builder
 * unpacks (asarUnpack): a native module must be loaded from app.asar.unpacked.
 */
import { join, sep } from 'node:path';
import { NATIVE_BINARY } from '../tools/native-modules.js';
import { APP_PAGE_URL } from './app-protocol.js';

/**
 * electron-builder.yml's appId: Windows' AppUserModelId (notifications need one) and the
 * notifier's appID. test/electron/electron-builder-config.test.ts keeps the two the same.
 */
export const APP_ID = 'org.prosody-active-users.app';

export interface AppPaths {
  /** The renderer's page. */
  indexHtml: string;
  /** The folder the app's protocol serves (app-protocol.ts): the page and its files. */
  rendererDir: string;
  /** The page's URL on the app's protocol: the only page our IPC answers. */
  rendererUrl: string;
  /** The compiled preload script. */
  preload: string;
  /** The folder of the tray icons. */
  trayIconDir: string;
  /** The app icon (window icon on Linux; notification icon, read by notify-send and the like). */
  appIcon: string;
  /** better-sqlite3 built for Electron's ABI. */
  nativeBinding: string;
}

/** The paths, given `__dirname` of dist/main/electron/main.js. */
export function appPaths(electronDir: string): AppPaths {
  const dist = join(electronDir, '..', '..');
  const project = join(dist, '..');
  const rendererDir = join(dist, 'renderer');
  const indexHtml = join(rendererDir, 'index.html');
  const assets = join(project, 'main', 'electron', 'assets');
  return {
    indexHtml,
    rendererDir,
    rendererUrl: APP_PAGE_URL,
    preload: join(electronDir, 'preload.js'),
    trayIconDir: join(assets, 'tray'),
    appIcon: asarUnpacked(join(assets, 'app-icon.png')),
    nativeBinding: asarUnpacked(join(dist, 'electron-native', NATIVE_BINARY)),
  };
}

/** The path with `app.asar` replaced by `app.asar.unpacked`, where unpacked files live. */
export function asarUnpacked(path: string): string {
  return path.replace(`${sep}app.asar${sep}`, `${sep}app.asar.unpacked${sep}`);
}
