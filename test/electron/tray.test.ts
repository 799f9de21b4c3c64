import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { MenuItemConstructorOptions, Menu, NativeImage, Rectangle, Tray } from 'electron';
import type { AppSnapshot, ProfileView } from '../../main/core/ipc-contract.js';
import { type TrayCommand, type TrayView, trayView } from '../../main/core/tray-state.js';
import {
  type TrayElectron,
  createAppTray,
  menuLabel,
  trayIconPath,
} from '../../main/electron/tray.js';

const ICON_DIR = join(__dirname, '..', '..', 'main', 'electron', 'assets', 'tray');
const T0 = 1_795_536_000;

/** A stand-in for Electron's Tray that records every call. */
class FakeTray extends EventEmitter {
  calls: Array<[method: string, arg: unknown]> = [];
  destroyed = false;
  bounds: Rectangle = { x: 0, y: 0, width: 0, height: 0 };
  constructor(readonly image: FakeImage) {
    super();
  }
  setImage(image: FakeImage) {
    this.calls.push(['setImage', image.path]);
  }
  setToolTip(text: string) {
    this.calls.push(['setToolTip', text]);
  }
  setTitle(text: string) {
    this.calls.push(['setTitle', text]);
  }
  setContextMenu(menu: FakeMenu) {
    this.calls.push(['setContextMenu', menu]);
  }
  popUpContextMenu(menu: FakeMenu) {
    this.calls.push(['popUpContextMenu', menu]);
  }
  getBounds() {
    return this.bounds;
  }
  isDestroyed() {
    return this.destroyed;
  }
  destroy() {
    this.destroyed = true;
  }
}

interface FakeImage {
  path: string;
}
interface FakeMenu {
  template: MenuItemConstructorOptions[];
}

function fakeElectron() {
  const trays: FakeTray[] = [];
  const menus: FakeMenu[] = [];
  const electron: TrayElectron = {
    Tray: function (image: FakeImage) {
      const tray = new FakeTray(image);
      trays.push(tray);
      return tray;
    } as unknown as new (image: NativeImage) => Tray,
    Menu: {
      buildFromTemplate: (template) => {
        const menu = { template };
        menus.push(menu);
        return menu as unknown as Menu;
      },
    },
    nativeImage: { createFromPath: (path) => ({ path }) as unknown as NativeImage },
  };
  return { electron, trays, menus };
}

function profile(name: string, status: ProfileView['status'], dau = 12): ProfileView {
  const f = (value: number) => ({ value, d24h: null, d7d: null });
  return {
    name,
    status,
    total: { dau: f(dau), wau: f(40), mau: f(95), new1d: 0, new7d: 0, new30d: 0, accounts: 9 },
    hosts: [],
    lastSuccessAt: T0,
    lastAttemptAt: T0,
    nextRefreshAt: T0 + 3600,
    method: 'query',
    bytesReceived: 10,
    seconds: 1,
    error: status === 'failing' ? { kind: 'network', message: 'Cannot reach it.', at: T0 } : null,
  };
}

function view(
  profiles: ProfileView[],
  over: Partial<AppSnapshot> = {},
  showTitle = true,
): TrayView {
  return trayView({
    snapshot: {
      profiles,
      firstRun: false,
      alertsPausedUntil: null,
      startAtLogin: false,
      secretsAvailable: true,
      ...over,
    },
    formatTime: (at) => new Date(at * 1000).toISOString().slice(11, 16),
    showTitle,
  });
}

function setup(platform: NodeJS.Platform, initial = view([profile('home', 'ok')])) {
  const fake = fakeElectron();
  const commands: TrayCommand[] = [];
  const toggles: Array<Rectangle | null> = [];
  const tray = createAppTray(
    {
      electron: fake.electron,
      platform,
      iconDir: ICON_DIR,
      onToggleWindow: (bounds) => toggles.push(bounds),
      onCommand: (command) => commands.push(command),
    },
    initial,
  );
  const fakeTray = fake.trays[0];
  assert.ok(fakeTray);
  return { ...fake, fakeTray, tray, commands, toggles };
}

/** Chooses the menu item with this label in the last menu built. */
function choose(menus: FakeMenu[], label: string): void {
  const item = menus.at(-1)?.template.find((i) => i.label === label);
  assert.ok(item?.click, `no item "${label}"`);
  item.click({} as never, undefined, {} as never);
}

test('the tray starts with the state icon, the tooltip and the context menu (Linux)', () => {
  const { fakeTray, menus } = setup('linux');
  assert.equal(fakeTray.image.path, join(ICON_DIR, 'tray-ok.png'));
  assert.deepEqual(
    fakeTray.calls.map(([m]) => m),
    ['setToolTip', 'setContextMenu'],
  );
  assert.equal(fakeTray.calls[0]?.[1], 'home — DAU 12 · WAU 40 · MAU 95\nupdated 16:00');
  assert.equal(menus.length, 1);
});

test('the same view again draws nothing', () => {
  const { fakeTray, tray, menus } = setup('linux');
  fakeTray.calls = [];
  assert.equal(tray.render(view([profile('home', 'ok')])), false);
  assert.deepEqual(fakeTray.calls, []);
  assert.equal(menus.length, 1);
});

test('a change draws once, and only what changed', () => {
  const { fakeTray, tray, menus } = setup('linux');
  fakeTray.calls = [];
  assert.equal(tray.render(view([profile('home', 'failing')])), true);
  assert.deepEqual(
    fakeTray.calls.map(([m, arg]) => (m === 'setContextMenu' ? m : `${m} ${String(arg)}`)),
    [
      `setImage ${join(ICON_DIR, 'tray-stale-or-failing.png')}`,
      'setToolTip home — DAU 12 · WAU 40 · MAU 95\nfailing: cannot reach server, last good 16:00',
      'setContextMenu',
    ],
  );
  assert.equal(menus.length, 2);
  fakeTray.calls = [];
  assert.equal(tray.render(view([profile('home', 'failing')])), false);
  assert.deepEqual(fakeTray.calls, []);
});

test('a change of the alert pause only rebuilds the menu and the tooltip, not the icon', () => {
  const { fakeTray, tray } = setup('linux');
  fakeTray.calls = [];
  tray.render(view([profile('home', 'ok')], { alertsPausedUntil: T0 + 3600 }));
  assert.deepEqual(
    fakeTray.calls.map(([m]) => m),
    ['setToolTip', 'setContextMenu'],
  );
});

test('the menu shows each profile as a disabled item and escapes ampersands', () => {
  const { menus } = setup('win32', view([profile('R&D', 'ok')]));
  const items = menus[0]?.template ?? [];
  const figures = items.find((i) => i.label?.startsWith('R&&D'));
  assert.deepEqual(figures, { label: 'R&&D — DAU 12 · WAU 40 · MAU 95', enabled: false });
  assert.equal(menuLabel('a & b && c'), 'a && b &&&& c');
});

test('menu items call the right commands', () => {
  const { menus, commands } = setup(
    'linux',
    view([profile('home', 'ok')], { alertsPausedUntil: T0 }),
  );
  for (const label of [
    'Open Prosody Active Users',
    'Refresh now',
    'Resume alerts',
    'Pause alerts for 1 hour',
    'Pause alerts until tomorrow',
    'Settings…',
    'Start at login',
    'Quit',
  ]) {
    choose(menus, label);
  }
  assert.deepEqual(commands, [
    'open',
    'refresh-now',
    'resume-alerts',
    'pause-1h',
    'pause-until-tomorrow',
    'settings',
    'toggle-start-at-login',
    'quit',
  ]);
});

test('start at login is a checkbox that follows the snapshot', () => {
  const { menus, tray } = setup('linux');
  const box = () => menus.at(-1)?.template.find((i) => i.label === 'Start at login');
  assert.deepEqual([box()?.type, box()?.checked], ['checkbox', false]);
  tray.render(view([profile('home', 'ok')], { startAtLogin: true }));
  assert.equal(box()?.checked, true);
});

test('a click toggles the window with the icon bounds, or null where they are unknown', () => {
  const { fakeTray, toggles } = setup('win32');
  fakeTray.emit('click', {}, { x: 100, y: 1040, width: 24, height: 24 });
  fakeTray.emit('click', {}, { x: 0, y: 0, width: 0, height: 0 });
  assert.deepEqual(toggles, [{ x: 100, y: 1040, width: 24, height: 24 }, null]);
});

test('macOS: template icons, the DAU as title, and the menu popped up on a right click', () => {
  const { fakeTray, menus, tray } = setup('darwin');
  assert.equal(fakeTray.image.path, join(ICON_DIR, 'tray-okTemplate.png'));
  assert.deepEqual(
    fakeTray.calls.map(([m, arg]) => (m === 'setTitle' ? `setTitle ${String(arg)}` : m)),
    ['setToolTip', 'setTitle 12'],
    'no setContextMenu: on macOS it would swallow left clicks',
  );
  fakeTray.emit('right-click', {}, { x: 0, y: 0, width: 22, height: 22 });
  assert.deepEqual(fakeTray.calls.at(-1), ['popUpContextMenu', menus.at(-1)]);
  fakeTray.calls = [];
  tray.render(view([profile('home', 'ok', 13)]));
  assert.ok(fakeTray.calls.some(([m, arg]) => m === 'setTitle' && arg === '13'));
});

test('other platforms never get a title', () => {
  const { fakeTray } = setup('linux');
  assert.ok(!fakeTray.calls.some(([m]) => m === 'setTitle'));
});

test('bounds are asked of the tray on macOS and Windows only', () => {
  const win = setup('win32');
  win.fakeTray.bounds = { x: 5, y: 6, width: 16, height: 16 };
  assert.deepEqual(win.tray.bounds(), { x: 5, y: 6, width: 16, height: 16 });
  const linux = setup('linux');
  linux.fakeTray.bounds = { x: 5, y: 6, width: 16, height: 16 };
  assert.equal(linux.tray.bounds(), null);
});

test('destroy destroys the icon once', () => {
  const { fakeTray, tray } = setup('linux');
  tray.destroy();
  tray.destroy();
  assert.equal(fakeTray.destroyed, true);
});

test('every state has its icons on disk, in 1x and 2x, template and coloured', () => {
  for (const state of ['ok', 'alerting', 'stale-or-failing', 'refreshing'] as const) {
    for (const platform of ['darwin', 'linux'] as const) {
      const path = trayIconPath(ICON_DIR, state, platform);
      assert.ok(existsSync(path), path);
      assert.ok(existsSync(path.replace(/\.png$/, '@2x.png')), `${path} @2x`);
    }
  }
});
