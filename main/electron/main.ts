/**
 * The Electron main process: a thin shell. For now it shows one window with the product's state;
 * the tray, the monitor and settings arrive with the desktop-app issue.
 */
import { BrowserWindow, app, session } from 'electron';
import { join } from 'node:path';

if (!app.requestSingleInstanceLock()) {
  app.quit();
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 420,
    height: 320,
    show: false,
    webPreferences: { contextIsolation: true, sandbox: true, nodeIntegration: false },
  });
  win.webContents.on('will-navigate', (event) => event.preventDefault());
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.once('ready-to-show', () => win.show());
  void win.loadFile(join(__dirname, '..', '..', '..', 'renderer', 'index.html'));
  return win;
}

void app.whenReady().then(() => {
  session.defaultSession.setPermissionRequestHandler((_wc, _perm, callback) => callback(false));
  let win = createWindow();
  app.on('second-instance', () => {
    if (win.isDestroyed()) win = createWindow();
    win.show();
    win.focus();
  });
});

app.on('window-all-closed', () => app.quit());
