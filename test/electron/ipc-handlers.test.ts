import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import type { AppService } from '../../main/app/app-service.js';
import {
  API_CHANNELS,
  type AppSnapshot,
  type InvokeChannel,
} from '../../main/core/ipc-contract.js';
import type { Settings } from '../../main/core/profile-validation.js';
import {
  INVOKE_CHANNELS,
  type IpcRefusal,
  PAYLOAD_CHECKS,
  registerIpcHandlers,
} from '../../main/electron/ipc-handlers.js';

const RENDERER_URL = 'file:///opt/app/dist/renderer/index.html';

interface FakeFrame {
  url: string;
  parent: FakeFrame | null;
  processId: number;
  routingId: number;
}

function fakeContents(processId: number, url = RENDERER_URL) {
  const mainFrame: FakeFrame = { url, parent: null, processId, routingId: 1 };
  const sent: Array<[string, unknown]> = [];
  const contents = {
    mainFrame,
    destroyed: false,
    isDestroyed() {
      return this.destroyed;
    },
    send: (channel: string, payload: unknown) => void sent.push([channel, payload]),
  };
  return { contents, mainFrame, sent };
}

const SNAPSHOT: AppSnapshot = {
  profiles: [],
  firstRun: true,
  alertsPausedUntil: null,
  startAtLogin: false,
  secretsAvailable: true,
};

const SETTINGS: Settings = {
  version: 1,
  profiles: [{ name: 'home', ssh: { target: 'monitor@xmpp.example.org' } }],
};

const FINGERPRINT = `SHA256:${'A'.repeat(43)}`;

/** A service that records every call and answers something of the right shape. */
function fakeService() {
  const calls: Array<[string, unknown[]]> = [];
  const listeners = new Set<(s: AppSnapshot) => void>();
  const record =
    <T>(name: string, answer: T) =>
    (...args: unknown[]) => {
      calls.push([name, args]);
      return Promise.resolve(answer);
    };
  const saved = { ok: true, message: null };
  const service: AppService = {
    getSnapshot: record('getSnapshot', SNAPSHOT),
    getSeries: record('getSeries', []),
    refreshNow: record('refreshNow', undefined),
    getSettings: record('getSettings', SETTINGS),
    saveSettings: record('saveSettings', saved),
    testConnection: record('testConnection', {
      steps: [],
      unknownHostKey: null,
      changedHostKey: null,
      outcome: null,
    }),
    trustHostKey: record('trustHostKey', saved),
    setSecret: record('setSecret', saved),
    pauseAlerts: record('pauseAlerts', undefined),
    setStartAtLogin: record('setStartAtLogin', saved),
    subscribe: (listener) => {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    start: () => Promise.resolve(),
    stop: () => Promise.resolve(),
    wake: () => {},
  };
  return { service, calls, listeners };
}

type Handler = (event: IpcMainInvokeEvent, ...args: unknown[]) => Promise<unknown>;

function setup(adjust: (service: AppService) => void = () => {}) {
  const handlers = new Map<string, Handler>();
  const removed: string[] = [];
  const ipcMain = {
    handle: (channel: string, handler: Handler) => {
      assert.ok(!handlers.has(channel), `${channel} registered twice`);
      handlers.set(channel, handler);
    },
    removeHandler: (channel: string) => void removed.push(channel),
  } as unknown as Pick<IpcMain, 'handle' | 'removeHandler'>;
  const ours = fakeContents(7);
  const { service, calls, listeners } = fakeService();
  adjust(service);
  const refusals: IpcRefusal[] = [];
  const errors: unknown[] = [];
  let window: typeof ours.contents | null = ours.contents;
  const dispose = registerIpcHandlers({
    ipcMain,
    service,
    webContents: () => window as unknown as WebContents | null,
    rendererUrl: RENDERER_URL,
    // The panel is main's, not the service's: recorded among the service's calls for brevity.
    hideWindow: () => void calls.push(['hideWindow', []]),
    onRefused: (r) => refusals.push(r),
    onError: (_c, e) => errors.push(e),
  });
  const fromOurs = (): IpcMainInvokeEvent =>
    ({ sender: ours.contents, senderFrame: ours.mainFrame }) as unknown as IpcMainInvokeEvent;
  const call = (channel: InvokeChannel, args: unknown[], event = fromOurs()) => {
    const handler = handlers.get(channel);
    assert.ok(handler, `no handler for ${channel}`);
    return handler(event, ...args);
  };
  return {
    handlers,
    removed,
    ours,
    calls,
    listeners,
    refusals,
    errors,
    call,
    dispose,
    closeWindow: () => (window = null),
  };
}

test('every channel of the contract has a handler', () => {
  const { handlers } = setup();
  assert.deepEqual([...handlers.keys()].sort(), Object.values(API_CHANNELS).sort());
  assert.deepEqual([...INVOKE_CHANNELS].sort(), Object.values(API_CHANNELS).sort());
});

const good: Array<[channel: InvokeChannel, args: unknown[], method: string, forwarded: unknown[]]> =
  [
    ['snapshot:get', [], 'getSnapshot', []],
    ['series:get', ['home', '30d'], 'getSeries', ['home', '30d']],
    ['refresh:now', [null], 'refreshNow', [null]],
    ['refresh:now', ['home'], 'refreshNow', ['home']],
    ['settings:get', [], 'getSettings', []],
    ['settings:save', [SETTINGS], 'saveSettings', [SETTINGS]],
    ['connection:test', ['HOME', SETTINGS], 'testConnection', ['HOME', SETTINGS]],
    [
      'host-key:trust',
      ['xmpp.example.org', 22, FINGERPRINT, null],
      'trustHostKey',
      ['xmpp.example.org', 22, FINGERPRINT, null],
    ],
    [
      'host-key:trust',
      ['2001:db8::1', 2222, FINGERPRINT, '/home/me/.ssh/known_hosts'],
      'trustHostKey',
      ['2001:db8::1', 2222, FINGERPRINT, '/home/me/.ssh/known_hosts'],
    ],
    ['secret:set', ['home', 'password', 's3cret'], 'setSecret', ['home', 'password', 's3cret']],
    ['secret:set', ['home', 'passphrase', ''], 'setSecret', ['home', 'passphrase', '']],
    ['alerts:pause', [1_795_539_600], 'pauseAlerts', [1_795_539_600]],
    ['alerts:pause', [null], 'pauseAlerts', [null]],
    ['start-at-login:set', [true], 'setStartAtLogin', [true]],
    ['window:hide', [], 'hideWindow', []],
  ];

for (const [channel, args, method, forwarded] of good) {
  test(`a good ${channel} call reaches ${method}`, async () => {
    const { call, calls, refusals } = setup();
    await call(channel, args);
    assert.deepEqual(calls, [[method, forwarded]]);
    assert.deepEqual(refusals, []);
  });
}

test('the service answer comes back to the renderer', async () => {
  const { call } = setup();
  assert.deepEqual(await call('snapshot:get', []), SNAPSHOT);
});

test('settings reach the service as the validated copy, not the object the renderer sent', async () => {
  const { call, calls } = setup();
  const withExtra = { ...SETTINGS, profiles: [{ ...SETTINGS.profiles[0] }] };
  await call('settings:save', [withExtra]);
  const forwarded = calls[0]?.[1][0];
  assert.deepEqual(forwarded, SETTINGS);
  assert.notEqual(forwarded, withExtra, 'a fresh copy');
});

const foreign: Array<
  [name: string, event: (o: ReturnType<typeof setup>) => unknown, reason: string]
> = [
  [
    'another webContents',
    () => {
      const other = fakeContents(8);
      return { sender: other.contents, senderFrame: other.mainFrame };
    },
    'the sender is another web contents',
  ],
  [
    'a subframe of our window',
    (o) => ({
      sender: o.ours.contents,
      senderFrame: { url: RENDERER_URL, parent: o.ours.mainFrame, processId: 7, routingId: 2 },
    }),
    'the sender is a subframe',
  ],
  [
    'a frame in another process posing as our main frame',
    (o) => ({
      sender: o.ours.contents,
      senderFrame: { url: RENDERER_URL, parent: null, processId: 9, routingId: 1 },
    }),
    'the sender is a subframe',
  ],
  [
    'our main frame showing another URL',
    (o) => {
      o.ours.mainFrame.url = 'https://evil.example/';
      return { sender: o.ours.contents, senderFrame: o.ours.mainFrame };
    },
    'the sender is another page',
  ],
  [
    'our main frame showing another local file',
    (o) => {
      o.ours.mainFrame.url = 'file:///tmp/evil.html';
      return { sender: o.ours.contents, senderFrame: o.ours.mainFrame };
    },
    'the sender is another page',
  ],
  [
    'a frame that is gone',
    (o) => ({ sender: o.ours.contents, senderFrame: null }),
    'the sender is a frame that is gone',
  ],
  [
    'a window that was closed',
    (o) => {
      o.closeWindow();
      return { sender: o.ours.contents, senderFrame: o.ours.mainFrame };
    },
    'the sender is our window is not open',
  ],
];

for (const [name, makeEvent, reason] of foreign) {
  test(`a call from ${name} is rejected and never reaches the service`, async () => {
    const o = setup();
    const event = makeEvent(o) as IpcMainInvokeEvent;
    await assert.rejects(o.call('secret:set', ['home', 'password', 'x'], event), {
      message: `secret:set refused: ${reason}`,
    });
    assert.deepEqual(o.calls, []);
    assert.deepEqual(o.refusals, [{ channel: 'secret:set', reason, kind: 'sender' }]);
  });
}

test('our page with a different view (fragment or query) is still our page', async () => {
  const o = setup();
  o.ours.mainFrame.url = `${RENDERER_URL}#settings`;
  await o.call('snapshot:get', []);
  assert.equal(o.calls.length, 1);
});

const huge = 'x'.repeat(1_000_000);
const bad: Array<[name: string, channel: InvokeChannel, args: unknown[]]> = [
  ['an extra argument', 'snapshot:get', [1]],
  ['an extra argument after good ones', 'series:get', ['home', '7d', 'more']],
  ['a missing argument', 'series:get', ['home']],
  ['a number for a profile name', 'series:get', [42, '7d']],
  ['an unknown history window', 'series:get', ['home', '1y']],
  ['a huge profile name', 'refresh:now', [huge]],
  ['an empty profile name', 'refresh:now', ['']],
  ['a profile name with a newline', 'refresh:now', ['home\nrm']],
  ['settings that are a string', 'settings:save', ['{"version":1}']],
  ['settings that are a list', 'settings:save', [[SETTINGS]]],
  ['settings with a huge field', 'settings:save', [{ version: 1, profiles: [], x: huge }]],
  ['no settings at all', 'settings:save', []],
  ['a connection test of a profile not in the settings', 'connection:test', ['work', SETTINGS]],
  ['a connection test without settings', 'connection:test', ['home', null]],
  ['a host with a space', 'host-key:trust', ['a b', 22, FINGERPRINT, null]],
  ['a huge host', 'host-key:trust', [huge, 22, FINGERPRINT, null]],
  ['port 0', 'host-key:trust', ['h', 0, FINGERPRINT, null]],
  ['a fractional port', 'host-key:trust', ['h', 22.5, FINGERPRINT, null]],
  ['a port as a string', 'host-key:trust', ['h', '22', FINGERPRINT, null]],
  ['a fingerprint that is not SHA256', 'host-key:trust', ['h', 22, 'MD5:aa:bb', null]],
  ['a relative known_hosts path', 'host-key:trust', ['h', 22, FINGERPRINT, 'known_hosts']],
  ['a huge known_hosts path', 'host-key:trust', ['h', 22, FINGERPRINT, `/${huge}`]],
  ['an unknown secret kind', 'secret:set', ['home', 'token', 'x']],
  ['a secret that is not a string', 'secret:set', ['home', 'password', { value: 'x' }]],
  ['a huge secret', 'secret:set', ['home', 'password', huge]],
  ['a pause that is not finite', 'alerts:pause', [Infinity]],
  ['a pause that is NaN', 'alerts:pause', [NaN]],
  ['a pause as a string', 'alerts:pause', ['tomorrow']],
  ['a negative pause', 'alerts:pause', [-1]],
  ['start at login as a string', 'start-at-login:set', ['true']],
  ['start at login with two arguments', 'start-at-login:set', [true, false]],
];

for (const [name, channel, args] of bad) {
  test(`${channel} with ${name} is rejected and never reaches the service`, async () => {
    const { call, calls, refusals } = setup();
    await assert.rejects(call(channel, args), (e: Error) => {
      assert.match(e.message, new RegExp(`^${channel} refused: `));
      assert.ok(e.message.length < 200, 'the payload is not repeated');
      return true;
    });
    assert.deepEqual(calls, []);
    assert.equal(refusals.length, 1);
  });
}

test('a refused secret is never repeated in the error or the log', async () => {
  const { call, refusals } = setup();
  const secret = 'hunter2-but-much-longer'.repeat(300);
  await assert.rejects(call('secret:set', ['home', 'password', secret]), (e: Error) => {
    assert.ok(!e.message.includes('hunter2'));
    return true;
  });
  assert.ok(!JSON.stringify(refusals).includes('hunter2'));
});

test('invalid settings are answered field by field, without reaching the service', async () => {
  const { call, calls } = setup();
  const answer = await call('settings:save', [
    { version: 1, profiles: [{ name: 'home', ssh: { target: 'bad host' } }] },
  ]);
  assert.deepEqual(answer, {
    ok: false,
    message:
      'profiles[0].ssh.target: must be [user@]host[:port] or an ssh_config alias, not "bad host"',
  });
  assert.deepEqual(calls, []);
});

test('a connection test of an invalid profile answers with the first step failed', async () => {
  const { call, calls } = setup();
  const answer = (await call('connection:test', [
    'home',
    { version: 1, profiles: [{ name: 'home', ssh: { target: '' } }] },
  ])) as { steps: Array<{ step: string; state: string }> };
  assert.deepEqual(
    answer.steps.map((s) => `${s.step}:${s.state}`),
    [
      'connect:failed',
      'host-key:skipped',
      'authenticate:skipped',
      'find-data:skipped',
      'read:skipped',
    ],
  );
  assert.deepEqual(calls, []);
});

test('a connection test forwards only the profile under test; the others may be half edited', async () => {
  const { call, calls } = setup();
  await call('connection:test', [
    'home',
    { version: 1, profiles: [SETTINGS.profiles[0], { name: 'draft' }] },
  ]);
  assert.deepEqual(calls, [['testConnection', ['home', SETTINGS]]]);
});

test('a failing service rejects the call, is logged, and main carries on', async () => {
  const o = setup((service) => {
    service.getSnapshot = () => Promise.reject(new Error('database is locked'));
  });
  await assert.rejects(o.call('snapshot:get', []), /database is locked/);
  assert.equal(o.errors.length, 1);
  await o.call('refresh:now', [null]);
  assert.deepEqual(o.calls, [['refreshNow', [null]]]);
});

test('snapshots from the service are pushed to the window on snapshot:changed', () => {
  const { listeners, ours } = setup();
  for (const listener of listeners) listener(SNAPSHOT);
  assert.deepEqual(ours.sent, [['snapshot:changed', SNAPSHOT]]);
});

test('no snapshot is pushed to a destroyed window', () => {
  const { listeners, ours } = setup();
  ours.contents.destroyed = true;
  for (const listener of listeners) listener(SNAPSHOT);
  assert.deepEqual(ours.sent, []);
});

test('dispose removes every handler and the subscription', () => {
  const { dispose, removed, listeners } = setup();
  dispose();
  assert.deepEqual(removed.sort(), Object.values(API_CHANNELS).sort());
  assert.equal(listeners.size, 0);
});

test('every channel has a payload check', () => {
  for (const channel of Object.values(API_CHANNELS)) {
    assert.equal(typeof PAYLOAD_CHECKS[channel], 'function', channel);
  }
});
