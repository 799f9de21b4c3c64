import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import type { Rectangle } from 'electron';
import {
  BLUR_TOGGLE_GRACE_MS,
  WINDOW_SIZE,
  createPanel,
  positionNearTray,
  windowOptions,
} from '../../main/electron/window.js';

test('the window: sandboxed, isolated, no Node, web security on, our preload only', () => {
  const options = windowOptions({ preload: '/app/preload.js', dark: false, devTools: false });
  assert.deepEqual(options.webPreferences, {
    preload: '/app/preload.js',
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
    devTools: false,
  });
});

test('the window: a small frameless panel, hidden until shown, out of the taskbar', () => {
  const options = windowOptions({ preload: '/p.js', dark: true, devTools: true, icon: '/i.png' });
  assert.equal(options.show, false);
  assert.equal(options.frame, false);
  assert.equal(options.skipTaskbar, true);
  assert.equal(options.resizable, false);
  assert.deepEqual([options.width, options.height], [WINDOW_SIZE.width, WINDOW_SIZE.height]);
  assert.equal(options.backgroundColor, '#1e1e1e', 'dark: no white flash');
  assert.equal(options.icon, '/i.png');
  assert.equal(options.webPreferences?.devTools, true);
});

const size = { width: 400, height: 600 };
const screen1080 = { x: 0, y: 0, width: 1920, height: 1080 };

const placements: Array<
  [name: string, tray: Rectangle | null, workArea: Rectangle, at: { x: number; y: number }]
> = [
  [
    'macOS menu bar: below the icon, centred on it',
    { x: 1500, y: 0, width: 22, height: 24 },
    { x: 0, y: 25, width: 1920, height: 1055 },
    { x: 1311, y: 33 },
  ],
  [
    'Windows bottom taskbar: above the icon, kept inside the right edge',
    { x: 1850, y: 1040, width: 24, height: 40 },
    { x: 0, y: 0, width: 1920, height: 1040 },
    { x: 1512, y: 432 },
  ],
  [
    'left taskbar: to the right of the icon',
    { x: 10, y: 500, width: 40, height: 24 },
    { x: 60, y: 0, width: 1860, height: 1080 },
    { x: 68, y: 212 },
  ],
  [
    'right taskbar: to the left of the icon, kept inside the bottom edge',
    { x: 1880, y: 1000, width: 40, height: 24 },
    { x: 0, y: 0, width: 1870, height: 1080 },
    { x: 1462, y: 472 },
  ],
  [
    'an anchor inside the work area near the top (the cursor on Linux): below it',
    { x: 1700, y: 30, width: 0, height: 0 },
    screen1080,
    { x: 1500, y: 38 },
  ],
  [
    'an anchor inside the work area near the bottom: above it',
    { x: 300, y: 1060, width: 0, height: 0 },
    screen1080,
    { x: 100, y: 452 },
  ],
  ['no anchor at all: centred', null, screen1080, { x: 760, y: 240 }],
  [
    'a second screen to the right: stays on it',
    { x: 1920 + 1850, y: 1040, width: 24, height: 40 },
    { x: 1920, y: 0, width: 1920, height: 1040 },
    { x: 1920 + 1512, y: 432 },
  ],
  [
    'a work area smaller than the panel: its top-left corner',
    { x: 100, y: 0, width: 20, height: 20 },
    { x: 0, y: 20, width: 300, height: 500 },
    { x: 0, y: 20 },
  ],
];

for (const [name, tray, workArea, at] of placements) {
  test(`position: ${name}`, () => {
    const got = positionNearTray(tray, size, workArea);
    assert.deepEqual(got, at);
    if (workArea.width >= size.width && workArea.height >= size.height) {
      assert.ok(got.x >= workArea.x && got.x + size.width <= workArea.x + workArea.width);
      assert.ok(got.y >= workArea.y && got.y + size.height <= workArea.y + workArea.height);
    }
  });
}

class FakeWindow extends EventEmitter {
  visible = false;
  destroyed = false;
  position: [number, number] | null = null;
  focused = 0;
  isVisible() {
    return this.visible;
  }
  isDestroyed() {
    return this.destroyed;
  }
  show() {
    this.visible = true;
  }
  hide() {
    this.visible = false;
  }
  focus() {
    this.focused++;
  }
  setPosition(x: number, y: number) {
    this.position = [x, y];
  }
}

function panel(keepOnBlur = false) {
  const win = new FakeWindow();
  let now = 1000;
  const p = createPanel(win, {
    now: () => now,
    position: () => ({ x: 10, y: 20 }),
    keepOnBlur: () => keepOnBlur,
  });
  return { win, p, advance: (ms: number) => (now += ms) };
}

test('panel: a toggle opens it next to the tray, focused; another closes it', () => {
  const { win, p } = panel();
  p.toggle();
  assert.deepEqual([win.visible, win.position, win.focused], [true, [10, 20], 1]);
  p.toggle();
  assert.equal(win.visible, false);
});

test('panel: it hides when it loses the focus', () => {
  const { win, p } = panel();
  p.show();
  win.emit('blur');
  assert.equal(win.visible, false);
});

test('panel: the click on the icon that took the focus away does not reopen it', () => {
  const { win, p, advance } = panel();
  p.show();
  win.emit('blur');
  advance(BLUR_TOGGLE_GRACE_MS - 1);
  p.toggle();
  assert.equal(win.visible, false);
  advance(1);
  p.toggle();
  assert.equal(win.visible, true);
});

test('panel: "Open" always shows it, even right after a blur', () => {
  const { win, p } = panel();
  p.show();
  win.emit('blur');
  p.show();
  assert.equal(win.visible, true);
});

test('panel: it stays open on blur while asked to (developer tools)', () => {
  const { win, p } = panel(true);
  p.show();
  win.emit('blur');
  assert.equal(win.visible, true);
});

test('panel: a destroyed window is left alone', () => {
  const { win, p } = panel();
  win.destroyed = true;
  p.toggle();
  p.show();
  assert.equal(win.visible, false);
});
