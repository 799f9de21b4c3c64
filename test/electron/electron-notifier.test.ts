/**
 * The app's notifier over Electron's Notification. Electron's runtime cannot run here, so a
 * recording stand-in with the same surface (constructor options, on('click'|'close'), show,
 * isSupported) takes the place of Electron's class; what reaches a real desktop is checked for the
 * CLI's notifier in test/notify/ and test/cli/watch-end-to-end.test.ts.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import {
  ElectronNotifier,
  type NotificationClass,
  chooseAppNotifier,
} from '../../main/electron/electron-notifier.js';
import type { NotificationContent, Notifier } from '../../main/notify/notifier.js';
import { ok } from '../../main/core/failure.js';
import { MAX_BODY_CHARS, MAX_TITLE_CHARS } from '../../main/core/notification-text.js';

interface Recorded {
  options: Record<string, unknown>;
  shown: boolean;
  emitter: EventEmitter;
}

function standIn(supported = true, throwing = false) {
  const made: Recorded[] = [];
  class FakeNotification {
    private readonly record: Recorded;
    constructor(options: Record<string, unknown>) {
      if (throwing) throw new Error('no notification service');
      this.record = { options, shown: false, emitter: new EventEmitter() };
      made.push(this.record);
    }
    static isSupported(): boolean {
      return supported;
    }
    on(event: 'click' | 'close', listener: () => void): this {
      this.record.emitter.on(event, listener);
      return this;
    }
    show(): void {
      this.record.shown = true;
    }
  }
  return { Notification: FakeNotification as NotificationClass, made };
}

const alert: NotificationContent = {
  title: 'work: DAU up 40 %',
  body: 'DAU 14 (was 10 a day ago)',
  profile: 'work',
};

test('a notification carries the alert, the app icon, no sound, and is shown at once', async () => {
  const { Notification, made } = standIn();
  const notifier = new ElectronNotifier({ Notification, icon: '/app/icon.png', onClick: () => {} });
  assert.deepEqual(await notifier.notify(alert), ok(undefined));
  assert.equal(made.length, 1);
  assert.deepEqual(made[0]!.options, {
    title: 'work: DAU up 40 %',
    body: 'DAU 14 (was 10 a day ago)',
    icon: '/app/icon.png',
    silent: true,
  });
  assert.equal(made[0]!.shown, true);
});

test('clicking a notification opens the window on the profile it is about', async () => {
  const { Notification, made } = standIn();
  const clicked: string[] = [];
  const notifier = new ElectronNotifier({ Notification, onClick: (p) => clicked.push(p) });
  await notifier.notify(alert);
  await notifier.notify({ ...alert, profile: 'home', title: 'home: failing' });
  made[1]!.emitter.emit('click');
  made[0]!.emitter.emit('click');
  assert.deepEqual(clicked, ['home', 'work']);
});

test('a notification is kept (for its click) until it is clicked or closed', async () => {
  const { Notification, made } = standIn();
  const notifier = new ElectronNotifier({ Notification, onClick: () => {} });
  await notifier.notify(alert);
  await notifier.notify(alert);
  assert.equal(notifier.keptCount, 2);
  made[0]!.emitter.emit('close');
  made[1]!.emitter.emit('click');
  assert.equal(notifier.keptCount, 0);
});

test('no more than 50 notifications are kept when the desktop never says they closed', async () => {
  const { Notification } = standIn();
  const notifier = new ElectronNotifier({ Notification, onClick: () => {} });
  for (let i = 0; i < 60; i++) await notifier.notify(alert);
  assert.equal(notifier.keptCount, 50);
});

test('an empty title becomes the app name', async () => {
  const { Notification, made } = standIn();
  await new ElectronNotifier({ Notification, onClick: () => {} }).notify({ ...alert, title: '' });
  assert.equal(made[0]!.options.title, 'Prosody Active Users');
});

test('a notification that cannot be made is a notify failure naming the profile', async () => {
  const { Notification } = standIn(true, true);
  const result = await new ElectronNotifier({ Notification, onClick: () => {} }).notify(alert);
  assert.deepEqual(result, {
    ok: false,
    failure: {
      kind: 'notify',
      message: 'The desktop notification for profile "work" was not shown: no notification service',
    },
  });
});

test("the app uses node-notifier's notifier where Electron has no notifications", () => {
  const fallback: Notifier = { notify: () => Promise.resolve(ok(undefined)) };
  const unsupported = standIn(false);
  assert.equal(
    chooseAppNotifier(
      { Notification: unsupported.Notification, onClick: () => {} },
      () => fallback,
    ),
    fallback,
  );
  const supported = standIn(true);
  assert.ok(
    chooseAppNotifier(
      { Notification: supported.Notification, onClick: () => {} },
      () => fallback,
    ) instanceof ElectronNotifier,
  );
});

test('where the desktop reads body markup, the body is escaped and the title left as text', async () => {
  const { Notification, made } = standIn();
  const notifier = new ElectronNotifier({ Notification, bodyMarkup: true, onClick: () => {} });
  await notifier.notify({
    title: 'work: no logins on <b>x</b>',
    body: 'on <a href="https://evil.example/">x</a> & more',
    profile: 'work',
  });
  assert.equal(made[0]!.options.title, 'work: no logins on <b>x</b>');
  assert.equal(
    made[0]!.options.body,
    'on &lt;a href="https://evil.example/"&gt;x&lt;/a&gt; &amp; more',
  );
});

test('where the desktop shows text as text, markup characters are left alone', async () => {
  const { Notification, made } = standIn();
  const notifier = new ElectronNotifier({ Notification, bodyMarkup: false, onClick: () => {} });
  await notifier.notify({ title: 't', body: 'a <b> & c', profile: 'work' });
  assert.equal(made[0]!.options.body, 'a <b> & c');
});

test('control and bidi characters are shown escaped and a huge host name is bounded', async () => {
  const { Notification, made } = standIn();
  const notifier = new ElectronNotifier({ Notification, bodyMarkup: false, onClick: () => {} });
  const host = `\x1b[2J\u202e${'h'.repeat(10_000)}`;
  await notifier.notify({ title: `work: on ${host}`, body: `on ${host}\nnext`, profile: 'work' });
  const { title, body } = made[0]!.options as { title: string; body: string };
  assert.ok(title.startsWith('work: on \\x1b[2J\\u202ehhh'));
  assert.equal(Array.from(title).length, MAX_TITLE_CHARS);
  assert.ok(body.startsWith('on \\x1b[2J\\u202ehhh'));
  assert.equal(Array.from(body).length, MAX_BODY_CHARS);
});
