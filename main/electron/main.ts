/**
 * The Electron main process: the app's composition root. It builds every adapter, wires them to
 * the AppService (main/app/app-service.ts), and owns the app's lifecycle. Everything it wires is
 * tested on its own under Node; this file is glue, checked by the compiler against Electron's
 * types.
 *
 * Decisions:
 * - One folder with the CLI: userData is the CLI's state directory (config/state-dir.ts), so
 *   settings.json and history.sqlite are the same files for both; Chromium's own caches go to a
 *   `chromium` subfolder (sessionData). Set before anything reads userData, the single-instance
 *   lock included.
 * - A tray app: no dock icon on macOS, the window is a panel next to the tray icon, and closing it
 *   only hides it. Quit is in the tray menu.
 * - Windows shows notifications only for an app with an AppUserModelId: the installer's appId
 *   (electron-builder.yml) is set here and given to the notifier.
 */
import '../lean-heap.js';
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import {
  BrowserWindow,
  Menu,
  Notification,
  Tray,
  app,
  dialog,
  ipcMain,
  nativeImage,
  nativeTheme,
  powerMonitor,
  protocol,
  safeStorage,
  screen,
  session,
} from 'electron';
import { createAppService } from '../app/app-service.js';
import { realAppSourceDeps } from '../app/app-sources.js';
import { describeAppFailure } from '../app/describe-app-failure.js';
import { HISTORY_FILE } from '../config/state-files.js';
import { ACCOUNT_CACHE_FILE } from '../sources/account-cache.js';
import { openProfilesStore } from '../config/profiles-store.js';
import { stateDir } from '../config/state-dir.js';
import { stateFolderWarning } from '../config/state-folder-check.js';
import { CONTENT_SECURITY_POLICY } from '../core/csp.js';
import type { AppSnapshot } from '../core/ipc-contract.js';
import { type TrayCommand, pauseUntil, trayView } from '../core/tray-state.js';
import { DesktopNotifier } from '../notify/desktop-notifier.js';
import { APP_ID, appPaths } from './app-paths.js';
import { registerAppScheme, serveAppProtocol } from './app-protocol.js';
import { createAutostart, launchCommand } from './autostart.js';
import { chooseAppNotifier } from './electron-notifier.js';
import { openHistoryInElectron } from './electron-history.js';
import { registerIpcHandlers, sendEvent } from './ipc-handlers.js';
import { formatLocalTime, localMinuteOfDay, nextLocalMidnight } from './local-time.js';
import { SafeStorageSecretStore } from './safe-storage-secrets.js';
import { guardSession, guardWebContents, type Refusal } from './security.js';
import { isWaylandSession, panelAnchor, showOnEverySpace } from './panel-placement.js';
import { deferredShow } from './second-instance.js';
import { showView } from './show-view.js';
import { QUIT_GRACE_MS, stopWithin } from './stop-within.js';
import { createAppTray } from './tray.js';
import { WINDOW_SIZE, createPanel, positionNearTray, windowOptions } from './window.js';

const platform = process.platform;
const paths = appPaths(__dirname);
const dataDir = stateDir({ env: process.env, platform, home: homedir() });

const log = (...parts: unknown[]): void => console.error('[prosody-active-users]', ...parts);
const logRefusal = (r: Refusal): void => log(`refused ${r.what}: ${r.detail}`);

app.setPath('userData', dataDir);
app.setPath('sessionData', join(dataDir, 'chromium'));
if (platform === 'win32') app.setAppUserModelId(APP_ID);
// The window is served from the app's own protocol, not file:// (app-protocol.ts).
registerAppScheme(protocol);

// Every web contents, whichever creates it, gets the navigation and window guards.
app.on('web-contents-created', (_event, contents) => guardWebContents(contents, logRefusal));

// Registered before anything is awaited: a second launch during start-up is not lost.
const secondInstance = deferredShow();

if (!app.requestSingleInstanceLock()) {
  // Another instance runs: it shows its window (its 'second-instance' handler), this one leaves.
  app.quit();
} else {
  app.on('second-instance', () => secondInstance.request());
  app
    .whenReady()
    .then(start)
    .catch((error: unknown) => {
      // A bug, or better-sqlite3's Electron build missing (dist/electron-native: npm start or
      // main/tools/native-modules.ts makes it).
      log('could not start', error);
      dialog.showErrorBox(
        'Prosody Active Users cannot start',
        error instanceof Error ? error.message : String(error),
      );
      app.exit(1);
    });
}

async function start(): Promise<void> {
  app.dock?.hide();
  guardSession(session.defaultSession, CONTENT_SECURITY_POLICY, logRefusal);
  serveAppProtocol(protocol, {
    rendererDir: paths.rendererDir,
    csp: CONTENT_SECURITY_POLICY,
    readFile: (path) => readFile(path),
    onRefused: (url, reason) => log(`refused ${url}: ${reason}`),
  });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });

  const history = openHistoryInElectron(join(dataDir, HISTORY_FILE), paths.nativeBinding);
  if (!history.ok) {
    dialog.showErrorBox('Prosody Active Users cannot start', describeAppFailure(history.failure));
    app.exit(1);
    return;
  }

  const secrets = new SafeStorageSecretStore({ safeStorage, dir: dataDir, platform, onError: log });
  const secretsAvailable = (await secrets.availability()).ok;
  const autostart = createAutostart({
    platform,
    app,
    env: process.env,
    home: homedir(),
    command: launchCommand({
      execPath: process.execPath,
      packaged: app.isPackaged,
      appPath: app.getAppPath(),
      env: process.env,
    }),
  });
  const service = createAppService({
    profiles: openProfilesStore(dataDir),
    history: history.value,
    secrets,
    // Electron's notifications (the app's name and icon; a click shows that server), else
    // node-notifier's (electron-notifier.ts).
    notifier: chooseAppNotifier(
      { Notification, icon: paths.appIcon, onClick: (profile) => showProfile(profile) },
      () => new DesktopNotifier({ appID: APP_ID, icon: paths.appIcon }),
    ),
    sources: realAppSourceDeps({
      home: homedir(),
      localUser: userInfo().username,
      env: process.env,
      platform,
    }),
    clock: { now: () => Date.now(), setTimeout, clearTimeout },
    localMinuteOfDay,
    getStartAtLogin: () => autostart.isEnabled(),
    setStartAtLogin: (enabled) => autostart.setEnabled(enabled),
    secretsAvailable,
    knownHostsPath: join(homedir(), '.ssh', 'known_hosts'),
    accountCacheFile: join(dataDir, ACCOUNT_CACHE_FILE),
    stateFolderWarning: stateFolderWarning(dataDir, platform),
    onError: log,
  });

  // The window: created hidden, shown next to the tray icon.
  const win = new BrowserWindow(
    windowOptions({
      preload: paths.preload,
      dark: nativeTheme.shouldUseDarkColors,
      icon: paths.appIcon,
      devTools: !app.isPackaged,
    }),
  );
  showOnEverySpace(win, platform);
  let quitting = false;
  win.on('close', (event) => {
    if (quitting) return;
    event.preventDefault();
    win.hide();
  });

  let tray: ReturnType<typeof createAppTray> | null = null;
  const panel = createPanel(win, {
    now: () => Date.now(),
    keepOnBlur: () => win.webContents.isDevToolsOpened(),
    position: () => {
      const anchor = panelAnchor({
        trayBounds: tray?.bounds() ?? null,
        cursor: screen.getCursorScreenPoint(),
        wayland: platform === 'linux' && isWaylandSession(process.env),
      });
      const display = anchor ? screen.getDisplayMatching(anchor) : screen.getPrimaryDisplay();
      return positionNearTray(anchor, WINDOW_SIZE, display.workArea);
    },
  });

  function showProfile(profile: string): void {
    panel.show();
    if (!win.isDestroyed()) sendEvent(win.webContents, 'profile:show', profile);
  }

  const disposeIpc = registerIpcHandlers({
    ipcMain,
    service,
    webContents: () => (win.isDestroyed() ? null : win.webContents),
    hideWindow: () => panel.hide(),
    rendererUrl: paths.rendererUrl,
    onRefused: (r) => log(`IPC ${r.channel} refused: ${r.reason}`),
    onError: (channel, error) => log(`IPC ${channel} failed`, error),
  });

  // The tray, redrawn from every snapshot (it skips a redraw when nothing it shows changed).
  let latest: AppSnapshot = await service.getSnapshot();
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  const viewOf = (snapshot: AppSnapshot) =>
    trayView({
      snapshot,
      formatTime: (at) => formatLocalTime(at, nowSeconds()),
      showTitle: platform === 'darwin',
    });
  const run = (work: Promise<unknown>) => void work.catch((error: unknown) => log(error));
  const onCommand = (command: TrayCommand): void => {
    switch (command) {
      case 'open':
        panel.show();
        return;
      case 'settings':
        panel.show();
        showView(win.webContents, { view: 'settings' });
        return;
      case 'refresh-now':
        run(service.refreshNow(null));
        return;
      case 'pause-1h':
      case 'pause-until-tomorrow':
      case 'resume-alerts':
        run(service.pauseAlerts(pauseUntil(command, nowSeconds(), nextLocalMidnight)));
        return;
      case 'toggle-start-at-login':
        run(
          service.setStartAtLogin(!latest.startAtLogin).then((result) => {
            if (!result.ok && result.message !== null) {
              dialog.showErrorBox('Start at login', result.message);
            }
          }),
        );
        return;
      case 'quit':
        app.quit();
        return;
    }
  };
  tray = createAppTray(
    {
      electron: { Tray, Menu, nativeImage },
      platform,
      iconDir: paths.trayIconDir,
      onToggleWindow: () => panel.toggle(),
      onCommand,
    },
    viewOf(latest),
  );
  const unsubscribe = service.subscribe((snapshot) => {
    latest = snapshot;
    tray?.render(viewOf(snapshot));
  });

  // The machine woke up: overdue refreshes run now rather than at the next timer.
  powerMonitor.on('resume', () => service.wake());
  secondInstance.attach(() => panel.show());
  // Closing the window does not quit a tray app.
  app.on('window-all-closed', () => {});

  // Quit cleanly: stop the monitor (waiting a few seconds at most for refreshes under way), then
  // close the history.
  let stopped = false;
  app.on('before-quit', (event) => {
    quitting = true;
    if (stopped) return;
    event.preventDefault();
    void (async () => {
      try {
        unsubscribe();
        disposeIpc();
        const outcome = await stopWithin(() => service.stop(), QUIT_GRACE_MS, {
          setTimeout,
          clearTimeout,
        });
        if (outcome === 'gave-up') log('quitting without waiting longer for a refresh under way');
        history.value.close();
      } catch (error) {
        log('while quitting', error);
      } finally {
        stopped = true;
        tray?.destroy();
        app.quit();
      }
    })();
  });

  await service.start();
  latest = await service.getSnapshot();
  tray.render(viewOf(latest));
  // First run, or settings that could not be read: the window opens, and the page shows its
  // settings view for such a snapshot by itself.
  run(win.loadURL(paths.rendererUrl));
  if (latest.firstRun || Boolean(latest.settingsProblem)) panel.show();
}
