/*
 * Desktop notifications delivered for real: node-notifier → notify-send → D-Bus → dunst under Xvfb,
 * read back with `dunstctl history`. Needs the Debian packages of test/setup-system.sh; without them
 * these tests fail (they never skip).
 *
 * node-notifier runs notify-send with process.env as it is at the moment of each call, so this file
 * (its own process under node --test) points DBUS_SESSION_BUS_ADDRESS and DISPLAY at the test daemon.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  DEFAULT_APP_NAME,
  DesktopNotifier,
  forNotifySend,
  type BackendCallback,
  type NotifierBackend,
} from '../../main/notify/desktop-notifier.js';
import { MAX_BODY_CHARS, MAX_TITLE_CHARS } from '../../main/core/notification-text.js';
import {
  startNotificationDaemon,
  type NotificationDaemon,
} from '../support/notification-daemon.js';

/**
 * What a daemon that reads body markup shows of `body`: the text with its tags dropped and its
 * entities read (the Pango markup subset of the Desktop Notifications Specification).
 */
function shownBody(body: string): string {
  return body
    .replace(/<[^>]*>/g, '')
    .replace(/&(lt|gt|quot|apos|amp|#\d+|#x[0-9a-f]+);/gi, (_, e: string) => {
      const named: Record<string, string> = { lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' };
      if (named[e] !== undefined) return named[e];
      return String.fromCodePoint(
        e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10),
      );
    });
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env, timeout: 10_000 }, (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    );
  });
}

describe('through notify-send to a real notification daemon (dunst)', () => {
  let daemon: NotificationDaemon | undefined;
  const saved = { ...process.env };

  before(async () => {
    daemon = await startNotificationDaemon();
    Object.assign(process.env, daemon.env);
  });
  after(async () => {
    process.env.DISPLAY = saved.DISPLAY;
    process.env.DBUS_SESSION_BUS_ADDRESS = saved.DBUS_SESSION_BUS_ADDRESS;
    if (saved.DISPLAY === undefined) delete process.env.DISPLAY;
    if (saved.DBUS_SESSION_BUS_ADDRESS === undefined) delete process.env.DBUS_SESSION_BUS_ADDRESS;
    await daemon?.stop();
  });

  const running = (): NotificationDaemon => {
    assert.ok(daemon, 'the notification daemon did not start');
    return daemon;
  };

  test('node-notifier chose notify-send on Linux', () => {
    const notifier = new DesktopNotifier();
    assert.equal(notifier.backendOptions({ title: 't', body: 'b', profile: 'p' }).timeout, 10);
  });

  test('an alert reaches dunst with its summary and body exactly as sent', async () => {
    const mark = randomUUID().slice(0, 8);
    const title = `home: DAU down 20 % on example.org ${mark}`;
    const body = 'DAU on example.org: 120 → 96 (−20 %) against 24 h earlier';
    const result = await new DesktopNotifier().notify({ title, body, profile: 'home' });
    assert.deepEqual(result, { ok: true, value: undefined });
    const shown = await running().waitFor((n) => n.summary.endsWith(mark));
    assert.deepEqual(shown, { summary: title, body, appname: DEFAULT_APP_NAME });
  });

  test('quotes, dollars, backquotes, backslashes, markup and line breaks are shown as sent', async () => {
    const mark = randomUUID().slice(0, 8);
    const title = `"work" $HOME \`id\` C:\\temp & <b>x</b> ${mark}`;
    const body = 'first line: "quoted" $PATH `uname`\nsecond line: C:\\temp\\new \\n & <i>7</i> ✓';
    const result = await new DesktopNotifier({ appName: 'Test App' }).notify({
      title,
      body,
      profile: 'work',
    });
    assert.equal(result.ok, true);
    const shown = await running().waitFor((n) => n.summary.endsWith(mark));
    // The summary is plain text; the body is markup, escaped so that it reads as sent.
    assert.deepEqual(
      { ...shown, body: shownBody(shown.body) },
      { summary: title, body, appname: 'Test App' },
    );
  });

  test('dunst reads markup in the body, which is why the body is escaped', async () => {
    const capabilities = await run(
      'gdbus',
      [
        'call',
        '--session',
        '--dest',
        'org.freedesktop.Notifications',
        '--object-path',
        '/org/freedesktop/Notifications',
        '--method',
        'org.freedesktop.Notifications.GetCapabilities',
      ],
      { ...process.env, ...running().env },
    );
    assert.match(capabilities, /'body-markup'/);
  });

  test('a host name carrying markup is shown as itself: no link, no image, no bold', async () => {
    const mark = randomUUID().slice(0, 8);
    const host = `<a href="https://evil.example/">click</a><img src="/tmp/x.png"/><b>&amp;</b>.org`;
    const body = `No login or logout on ${host} for 36 h ${mark}`;
    const result = await new DesktopNotifier().notify({
      title: `home: no logins on ${host}`,
      body,
      profile: 'home',
    });
    assert.equal(result.ok, true);
    const shown = await running().waitFor((n) => n.body.endsWith(mark));
    assert.doesNotMatch(shown.body, /</);
    assert.equal(shownBody(shown.body), body);
    assert.equal(shown.summary, `home: no logins on ${host}`);
  });

  test('control and bidi characters in a host name reach dunst escaped', async () => {
    const mark = randomUUID().slice(0, 8);
    const host = 'a\x1b[2J\u202egro.elpmaxe\r\x00b';
    await new DesktopNotifier().notify({
      title: `home: no logins on ${host} ${mark}`,
      body: `No login on ${host}\nsecond line`,
      profile: 'home',
    });
    const shown = await running().waitFor((n) => n.summary.endsWith(mark));
    const escaped = 'a\\x1b[2J\\u202egro.elpmaxe\\r\\x00b';
    assert.equal(shown.summary, `home: no logins on ${escaped} ${mark}`);
    assert.equal(shownBody(shown.body), `No login on ${escaped}\nsecond line`);
  });

  test('a 10 000-character host name reaches dunst bounded', async () => {
    const mark = randomUUID().slice(0, 8);
    const host = `${'h'.repeat(10_000)}.org`;
    await new DesktopNotifier().notify({
      title: `${mark} home: no logins on ${host}`,
      body: `No login or logout on ${host} for 36 h`,
      profile: 'home',
    });
    const shown = await running().waitFor((n) => n.summary.startsWith(mark));
    assert.equal(Array.from(shown.summary).length, MAX_TITLE_CHARS);
    assert.equal(Array.from(shownBody(shown.body)).length, MAX_BODY_CHARS);
    assert.ok(shown.summary.endsWith('h\u2026'));
  });

  test('a text starting with a hyphen arrives with a minus sign instead of failing', async () => {
    const mark = randomUUID().slice(0, 8);
    const result = await new DesktopNotifier().notify({
      title: `-5 users ${mark}`,
      body: '-5 users since yesterday',
      profile: 'home',
    });
    assert.equal(result.ok, true);
    const shown = await running().waitFor((n) => n.summary.endsWith(mark));
    assert.equal(shown.summary, `−5 users ${mark}`);
    assert.equal(shown.body, '−5 users since yesterday');
  });

  test('without a notification service the result is a failure, not an exception', async () => {
    const address = process.env.DBUS_SESSION_BUS_ADDRESS;
    process.env.DBUS_SESSION_BUS_ADDRESS = 'unix:path=/nonexistent/pau-bus';
    try {
      const result = await new DesktopNotifier().notify({ title: 't', body: 'b', profile: 'home' });
      assert.equal(result.ok, false);
      assert.ok(!result.ok && result.failure.kind === 'notify');
      assert.match(result.failure.message, /profile "home" was not shown: Could not connect/);
      assert.match(result.failure.message, /notification service running/);
    } finally {
      process.env.DBUS_SESSION_BUS_ADDRESS = address;
    }
  });
});

describe('what DesktopNotifier asks of node-notifier', () => {
  /** A backend that records its options and answers as told. */
  function fakeBackend(answer: (cb: BackendCallback) => void): NotifierBackend & {
    calls: Array<Record<string, unknown>>;
  } {
    const calls: Array<Record<string, unknown>> = [];
    return {
      calls,
      notify(options, callback) {
        calls.push(options);
        answer(callback);
      },
    };
  }
  const n = { title: 'home: DAU up 50 %', body: 'DAU 10 → 15', profile: 'home' };

  test('notify-send: app name, no sound, no waiting, shown for displaySeconds', async () => {
    const backend = fakeBackend((cb) => cb(null, ''));
    const notifier = new DesktopNotifier({ backend, usesNotifySend: true, displaySeconds: 7 });
    assert.deepEqual(await notifier.notify(n), { ok: true, value: undefined });
    assert.deepEqual(backend.calls, [
      {
        title: n.title,
        message: n.body,
        wait: false,
        sound: false,
        timeout: 7,
        'app-name': DEFAULT_APP_NAME,
      },
    ]);
  });

  test('elsewhere (macOS, Windows): timeout false, and the Windows AppUserModelId as appID', async () => {
    const backend = fakeBackend((cb) => cb(null));
    const notifier = new DesktopNotifier({
      backend,
      usesNotifySend: false,
      appID: 'org.prosody-active-users.app',
      icon: '/opt/app/icon.png',
    });
    assert.equal((await notifier.notify({ ...n, body: 'C:\\x\n-y' })).ok, true);
    assert.deepEqual(backend.calls[0], {
      title: n.title,
      message: 'C:\\x\n-y',
      wait: false,
      sound: false,
      timeout: false,
      'app-name': DEFAULT_APP_NAME,
      appID: 'org.prosody-active-users.app',
      icon: '/opt/app/icon.png',
    });
  });

  test('stderr output without an error still counts as delivered', async () => {
    const backend = fakeBackend((cb) => cb('a warning on stderr'));
    const notifier = new DesktopNotifier({ backend, usesNotifySend: true });
    assert.equal((await notifier.notify(n)).ok, true);
  });

  const failures: Array<[name: string, error: Error, pattern: RegExp]> = [
    [
      'a missing notify-send names the package to install',
      new Error('not found: notify-send'),
      /notify-send is not installed \(.*libnotify-bin/,
    ],
    [
      'a failed command gives its stderr, not the command line with the text',
      new Error(
        'Command failed: notify-send "secret title" "b"\nCould not connect: No such file\n',
      ),
      /was not shown: Could not connect: No such file \(is a notification service running/,
    ],
    ['any other error gives its message', new Error('Message is required.'), /Message is required/],
  ];
  for (const [name, error, pattern] of failures) {
    test(name, async () => {
      const notifier = new DesktopNotifier({
        backend: fakeBackend((cb) => cb(error)),
        usesNotifySend: true,
      });
      const result = await notifier.notify(n);
      assert.ok(!result.ok);
      assert.equal(result.failure.kind, 'notify');
      assert.match(result.failure.kind === 'notify' ? result.failure.message : '', pattern);
      assert.doesNotMatch(JSON.stringify(result.failure), /secret title/);
    });
  }

  test('a backend that throws gives a failure', async () => {
    const notifier = new DesktopNotifier({
      backend: fakeBackend(() => {
        throw new Error('boom');
      }),
    });
    const result = await notifier.notify(n);
    assert.ok(
      !result.ok && result.failure.kind === 'notify' && /boom/.test(result.failure.message),
    );
  });

  test('a backend that never answers gives a timeout failure', async () => {
    const notifier = new DesktopNotifier({
      backend: fakeBackend(() => undefined),
      deliveryTimeoutMs: 50,
    });
    const result = await notifier.notify(n);
    assert.deepEqual(result, {
      ok: false,
      failure: {
        kind: 'timeout',
        host: 'the desktop notification service',
        step: 'showing a notification for profile "home"',
        seconds: 0.05,
      },
    });
  });

  test('a late answer after the timeout changes nothing', async () => {
    let late: BackendCallback | undefined;
    const notifier = new DesktopNotifier({
      backend: fakeBackend((cb) => (late = cb)),
      deliveryTimeoutMs: 20,
    });
    const result = await notifier.notify(n);
    assert.equal(result.ok, false);
    assert.doesNotThrow(() => late?.(null));
  });

  test('an empty title is replaced by the app name', () => {
    const notifier = new DesktopNotifier({ backend: fakeBackend(() => undefined) });
    assert.equal(notifier.backendOptions({ ...n, title: '' }).title, DEFAULT_APP_NAME);
  });

  const texts: Array<[title: string, body: string, sentTitle: string, sentBody: string]> = [
    ['plain', 'plain → −', 'plain', 'plain → −'],
    ['two\nlines', 'two\nlines', 'two lines', 'two\nlines'],
    ['C:\\x', 'C:\\x', 'C:\\x', 'C:\\\\x'],
    ['-t', '-b', '−t', '−b'],
    ['a -t', 'a -b', 'a -t', 'a -b'],
  ];
  for (const [title, body, sentTitle, sentBody] of texts) {
    test(`for notify-send ${JSON.stringify([title, body])} is sent as ${JSON.stringify([sentTitle, sentBody])}`, () => {
      assert.deepEqual(forNotifySend(title, body), { title: sentTitle, body: sentBody });
    });
  }
});
