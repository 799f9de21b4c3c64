/**
 * The preload: the window's only way to the main process, exposed as `window.prosodyActiveUsers`.
 * Runs in the renderer's isolated world. With `sandbox: true` its `require` knows only 'electron'
 * (and a few Node built-ins; `exports` and `module` are dummies, electron/electron#39484), so this
 * file imports nothing else at run time: the channel names are
 * written out here, and `satisfies typeof API_CHANNELS` (a type-only import) makes a wrong or
 * missing one a compile error. test/electron/preload.test.ts runs the compiled file with a
 * `require` that knows only 'electron'.
 */
import { contextBridge, ipcRenderer } from 'electron';
import type {
  API_CHANNELS,
  EventChannel,
  InvokeChannel,
  InvokeChannels,
  RendererApi,
} from '../core/ipc-contract.js';

const CHANNELS = {
  getSnapshot: 'snapshot:get',
  getSeries: 'series:get',
  refreshNow: 'refresh:now',
  getSettings: 'settings:get',
  saveSettings: 'settings:save',
  testConnection: 'connection:test',
  trustHostKey: 'host-key:trust',
  setSecret: 'secret:set',
  pauseAlerts: 'alerts:pause',
  setStartAtLogin: 'start-at-login:set',
} as const satisfies typeof API_CHANNELS;

const SNAPSHOT_CHANGED = 'snapshot:changed' satisfies EventChannel;
const PROFILE_SHOW = 'profile:show' satisfies EventChannel;

function invoke<C extends InvokeChannel>(
  channel: C,
  ...args: InvokeChannels[C]['args']
): Promise<InvokeChannels[C]['result']> {
  return ipcRenderer.invoke(channel, ...args);
}

const api = {
  getSnapshot: () => invoke(CHANNELS.getSnapshot),
  getSeries: (profile, window) => invoke(CHANNELS.getSeries, profile, window),
  refreshNow: (profile) => invoke(CHANNELS.refreshNow, profile),
  getSettings: () => invoke(CHANNELS.getSettings),
  saveSettings: (settings) => invoke(CHANNELS.saveSettings, settings),
  testConnection: (name, settings) => invoke(CHANNELS.testConnection, name, settings),
  trustHostKey: (host, port, fingerprint, knownHostsPath) =>
    invoke(CHANNELS.trustHostKey, host, port, fingerprint, knownHostsPath),
  setSecret: (profile, kind, value) => invoke(CHANNELS.setSecret, profile, kind, value),
  pauseAlerts: (until) => invoke(CHANNELS.pauseAlerts, until),
  setStartAtLogin: (enabled) => invoke(CHANNELS.setStartAtLogin, enabled),
  onSnapshot: (listener) => {
    // The page gets the snapshot only, never Electron's event (it would expose `sender`).
    const forward = (_event: Electron.IpcRendererEvent, snapshot: unknown) =>
      listener(snapshot as Parameters<typeof listener>[0]);
    ipcRenderer.on(SNAPSHOT_CHANGED, forward);
    return () => void ipcRenderer.removeListener(SNAPSHOT_CHANGED, forward);
  },
  onShowProfile: (listener) => {
    const forward = (_event: Electron.IpcRendererEvent, profile: unknown) => {
      if (typeof profile === 'string') listener(profile);
    };
    ipcRenderer.on(PROFILE_SHOW, forward);
    return () => void ipcRenderer.removeListener(PROFILE_SHOW, forward);
  },
} satisfies RendererApi;

contextBridge.exposeInMainWorld('prosodyActiveUsers', api);
