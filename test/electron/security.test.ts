import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import type { HandlerDetails, Session, WebContents, WindowOpenHandlerResponse } from 'electron';
import { CONTENT_SECURITY_POLICY } from '../../main/core/csp.js';
import {
  type Refusal,
  applySecurity,
  guardSession,
  guardWebContents,
  withCsp,
} from '../../main/electron/security.js';

class FakeWebContents extends EventEmitter {
  openHandler: ((details: HandlerDetails) => WindowOpenHandlerResponse) | null = null;
  setWindowOpenHandler(handler: (details: HandlerDetails) => WindowOpenHandlerResponse) {
    this.openHandler = handler;
  }
}

type Handler = (...args: never[]) => unknown;

function fakeSession() {
  const handlers: Record<string, Handler | null> = {};
  const session = {
    setPermissionRequestHandler: (h: Handler | null) => void (handlers.request = h),
    setPermissionCheckHandler: (h: Handler | null) => void (handlers.check = h),
    setDevicePermissionHandler: (h: Handler | null) => void (handlers.device = h),
    webRequest: { onHeadersReceived: (h: Handler | null) => void (handlers.headers = h) },
  };
  return { session: session as unknown as Session, handlers };
}

/** An Electron-style event whose preventDefault is recorded. */
function event(extra: Record<string, unknown> = {}) {
  const e = { prevented: false, preventDefault: () => void (e.prevented = true), ...extra };
  return e;
}

function guarded() {
  const contents = new FakeWebContents();
  const refused: Refusal[] = [];
  guardWebContents(contents as unknown as WebContents, (r) => refused.push(r));
  return { contents, refused };
}

test('navigation away from the page is prevented', () => {
  const { contents, refused } = guarded();
  const e = event({ url: 'https://evil.example/' });
  contents.emit('will-navigate', e, 'https://evil.example/');
  assert.equal(e.prevented, true);
  assert.deepEqual(refused, [{ what: 'navigation', detail: 'https://evil.example/' }]);
});

test('navigation of any frame and redirects are prevented', () => {
  const { contents } = guarded();
  const frame = event({ url: 'file:///etc/passwd' });
  contents.emit('will-frame-navigate', frame);
  const redirect = event({ url: 'https://evil.example/' });
  contents.emit('will-redirect', redirect, 'https://evil.example/');
  assert.deepEqual([frame.prevented, redirect.prevented], [true, true]);
});

test('window.open and target=_blank links are denied', () => {
  const { contents, refused } = guarded();
  assert.ok(contents.openHandler);
  const answer = contents.openHandler({ url: 'https://evil.example/' } as HandlerDetails);
  assert.deepEqual(answer, { action: 'deny' });
  assert.deepEqual(refused, [{ what: 'new-window', detail: 'https://evil.example/' }]);
});

test('a <webview> is never attached', () => {
  const { contents } = guarded();
  const e = event();
  contents.emit('will-attach-webview', e, {}, { src: 'https://evil.example/' });
  assert.equal(e.prevented, true);
});

test('every permission request is denied', () => {
  const { session, handlers } = fakeSession();
  const refused: Refusal[] = [];
  guardSession(session, CONTENT_SECURITY_POLICY, (r) => refused.push(r));
  for (const permission of [
    'media',
    'geolocation',
    'notifications',
    'clipboard-read',
    'openExternal',
  ]) {
    let granted: boolean | undefined;
    (handlers.request as (...a: unknown[]) => void)(
      {},
      permission,
      (g: boolean) => (granted = g),
      {},
    );
    assert.equal(granted, false, permission);
  }
  assert.equal(refused.length, 5);
});

test('every permission check and device request answers no', () => {
  const { session, handlers } = fakeSession();
  guardSession(session, CONTENT_SECURITY_POLICY);
  for (const permission of ['media', 'clipboard-sanitized-write', 'hid', 'serial', 'usb']) {
    assert.equal(
      (handlers.check as (...a: unknown[]) => boolean)(null, permission, 'file://', {}),
      false,
    );
  }
  assert.equal((handlers.device as (...a: unknown[]) => boolean)({ deviceType: 'usb' }), false);
});

test('every response carries our Content-Security-Policy, and only ours', () => {
  const { session, handlers } = fakeSession();
  guardSession(session, CONTENT_SECURITY_POLICY);
  let answer: unknown;
  (handlers.headers as (...a: unknown[]) => void)(
    { responseHeaders: { 'content-type': ['text/html'], 'content-security-policy': ['*'] } },
    (a: unknown) => (answer = a),
  );
  assert.deepEqual(answer, {
    responseHeaders: {
      'content-type': ['text/html'],
      'Content-Security-Policy': [CONTENT_SECURITY_POLICY],
    },
  });
  assert.deepEqual(withCsp(undefined, 'x'), { 'Content-Security-Policy': ['x'] });
});

test('applySecurity guards both the contents and the session', () => {
  const contents = new FakeWebContents();
  const { session, handlers } = fakeSession();
  applySecurity(contents as unknown as WebContents, session, CONTENT_SECURITY_POLICY);
  assert.ok(contents.openHandler);
  assert.ok(handlers.request && handlers.check && handlers.device && handlers.headers);
  assert.ok(contents.listenerCount('will-navigate') > 0);
});

test('the policy starts from nothing and allows no inline script, eval or foreign origin', () => {
  const directives = CONTENT_SECURITY_POLICY.split('; ');
  assert.equal(directives[0], "default-src 'none'");
  assert.ok(directives.includes("script-src 'self'"));
  assert.ok(!/unsafe-|\*|https?:|data:|blob:/.test(CONTENT_SECURITY_POLICY));
});
