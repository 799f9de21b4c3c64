/**
 * The small pieces main.ts wires for quitting and for a second launch, under Node with fake timers.
 * test/electron/main-process.test.ts runs them in the real main process.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deferredShow } from '../../main/electron/second-instance.js';
import { showView } from '../../main/electron/show-view.js';
import { stopWithin } from '../../main/electron/stop-within.js';

/** Timers that fire only when the test says so. */
function manualTimers() {
  const pending = new Map<number, () => void>();
  let next = 1;
  return {
    setTimeout: (fn: () => void) => {
      const id = next++;
      pending.set(id, fn);
      return id;
    },
    clearTimeout: (id: unknown) => void pending.delete(id as number),
    fireAll: () => {
      for (const [id, fn] of [...pending]) {
        pending.delete(id);
        fn();
      }
    },
    pending: () => pending.size,
  };
}

test('a stop that finishes in time is reported as stopped, and its timer is cleared', async () => {
  const timers = manualTimers();
  assert.equal(await stopWithin(() => Promise.resolve(), 3000, timers), 'stopped');
  assert.equal(timers.pending(), 0);
});

test('a stop that hangs is given up when the grace time runs out', async () => {
  const timers = manualTimers();
  const result = stopWithin(() => new Promise<void>(() => {}), 3000, timers);
  timers.fireAll();
  assert.equal(await result, 'gave-up');
});

test('a second launch after start-up shows the window at once', () => {
  const shown: string[] = [];
  const d = deferredShow();
  d.attach(() => shown.push('shown'));
  d.request();
  assert.deepEqual(shown, ['shown']);
});

test('a second launch during start-up shows the window once it exists, once', () => {
  const shown: string[] = [];
  const d = deferredShow();
  d.request();
  d.request();
  assert.equal(shown.length, 0);
  d.attach(() => shown.push('shown'));
  assert.deepEqual(shown, ['shown']);
});

function fakeContents(loading: boolean) {
  const sent: unknown[][] = [];
  let onLoad: (() => void) | null = null;
  return {
    sent,
    finishLoad: () => onLoad?.(),
    contents: {
      isDestroyed: () => false,
      isLoading: () => loading,
      once: (_event: 'did-finish-load', listener: () => void) => (onLoad = listener),
      send: (...args: unknown[]) => void sent.push(args),
    },
  };
}

test('a view request reaches a loaded page as the view:show event', () => {
  const page = fakeContents(false);
  showView(page.contents, { view: 'settings' });
  assert.deepEqual(page.sent, [['view:show', { view: 'settings' }]]);
});

test('a view request to a page still loading is sent when the load finishes', () => {
  const page = fakeContents(true);
  showView(page.contents, { view: 'settings' });
  assert.equal(page.sent.length, 0);
  page.finishLoad();
  assert.deepEqual(page.sent, [['view:show', { view: 'settings' }]]);
});
