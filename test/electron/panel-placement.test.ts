import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Rectangle } from 'electron';
import {
  type AnchorInput,
  isWaylandSession,
  panelAnchor,
  showOnEverySpace,
} from '../../main/electron/panel-placement.js';
import { WINDOW_SIZE, positionNearTray } from '../../main/electron/window.js';

const icon = { x: 1500, y: 0, width: 22, height: 24 };

const anchors: Array<[name: string, input: AnchorInput, anchor: Rectangle | null]> = [
  [
    'the icon where its bounds are known',
    { trayBounds: icon, cursor: { x: 10, y: 10 }, wayland: false },
    icon,
  ],
  [
    'the cursor on X11, where the icon has no bounds',
    { trayBounds: null, cursor: { x: 1700, y: 12 }, wayland: false },
    { x: 1700, y: 12, width: 0, height: 0 },
  ],
  [
    'nothing under Wayland, where the cursor is not known',
    { trayBounds: null, cursor: { x: 1700, y: 12 }, wayland: true },
    null,
  ],
  [
    'nothing when Electron answers the cursor as 0,0',
    { trayBounds: null, cursor: { x: 0, y: 0 }, wayland: false },
    null,
  ],
];

for (const [name, input, anchor] of anchors) {
  test(`the panel is anchored on ${name}`, () => {
    assert.deepEqual(panelAnchor(input), anchor);
  });
}

test('without an anchor (Wayland) the panel is centred in the work area, not sent to a corner', () => {
  const workArea = { x: 0, y: 32, width: 1920, height: 1048 };
  const anchor = panelAnchor({ trayBounds: null, cursor: { x: 0, y: 0 }, wayland: true });
  assert.deepEqual(positionNearTray(anchor, WINDOW_SIZE, workArea), { x: 760, y: 256 });
});

const sessions: Array<[env: Record<string, string>, wayland: boolean]> = [
  [{ XDG_SESSION_TYPE: 'wayland' }, true],
  [{ WAYLAND_DISPLAY: 'wayland-0' }, true],
  [{ XDG_SESSION_TYPE: 'x11', DISPLAY: ':0' }, false],
  [{ WAYLAND_DISPLAY: '' }, false],
  [{}, false],
];

for (const [env, wayland] of sessions) {
  test(`${JSON.stringify(env)} is ${wayland ? '' : 'not '}a Wayland session`, () => {
    assert.equal(isWaylandSession(env), wayland);
  });
}

function recordingWindow() {
  const calls: unknown[][] = [];
  return {
    calls,
    win: {
      setVisibleOnAllWorkspaces: (...args: unknown[]) => void calls.push(['workspaces', ...args]),
      setAlwaysOnTop: (...args: unknown[]) => void calls.push(['on-top', ...args]),
    },
  };
}

test('macOS: the panel joins every Space, full-screen ones too, at the level of a pop-up menu', () => {
  const { calls, win } = recordingWindow();
  showOnEverySpace(win, 'darwin');
  assert.deepEqual(calls, [
    ['workspaces', true, { visibleOnFullScreen: true }],
    ['on-top', true, 'pop-up-menu'],
  ]);
});

for (const platform of ['linux', 'win32'] as const) {
  test(`${platform}: the panel's workspaces and level are left to the desktop`, () => {
    const { calls, win } = recordingWindow();
    showOnEverySpace(win, platform);
    assert.deepEqual(calls, []);
  });
}
