/**
 * Payloads a buggy or injected renderer could send, as main receives them: through the V8
 * serializer, the structured clone Electron's IPC uses, so that `__proto__` arrives as an own key
 * and a sparse list keeps its length. Each is refused with a kind, or answered field by field,
 * and nothing reaches an object's prototype.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deserialize, serialize } from 'node:v8';
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import type { AppService } from '../../main/app/app-service.js';
import {
  type IpcRefusal,
  PAYLOAD_CHECKS,
  registerIpcHandlers,
} from '../../main/electron/ipc-handlers.js';

/** What main receives of `value` sent by the renderer. */
const cloned = <T>(value: T): T => deserialize(serialize(value)) as T;

const PROFILE = { name: 'home', local: { db: '/srv/prosody.sqlite' } };

const polluting: Array<[name: string, json: string, unknownKey: string]> = [
  [
    'a __proto__ key at the top',
    `{"version":1,"profiles":[],"__proto__":{"polluted":true}}`,
    '__proto__: unknown key',
  ],
  [
    'a __proto__ key in a profile',
    `{"version":1,"profiles":[{"name":"home","local":{"db":"/x"},"__proto__":{"polluted":true}}]}`,
    'profiles[0].__proto__: unknown key',
  ],
  [
    'a constructor.prototype key in the alerts',
    `{"version":1,"profiles":[{"name":"home","local":{"db":"/x"},"alerts":{"constructor":{"prototype":{"polluted":true}}}}]}`,
    'profiles[0].alerts.constructor: unknown key',
  ],
];
for (const [name, json, unknownKey] of polluting) {
  test(`settings with ${name} are answered as an unknown key and pollute nothing`, () => {
    const payload = cloned(JSON.parse(json) as unknown);
    const checked = PAYLOAD_CHECKS['settings:save']([payload]);
    assert.equal(checked.verdict, 'answer');
    assert.ok(checked.verdict === 'answer' && !checked.result.ok);
    assert.match(checked.result.message ?? '', new RegExp(unknownKey.replace(/[.[\]]/g, '\\$&')));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
  });
}

test('a sparse list of 4 billion profiles is refused as too large without being built', () => {
  const profiles: unknown[] = [];
  profiles.length = 2 ** 32 - 1;
  const checked = PAYLOAD_CHECKS['settings:save']([cloned({ version: 1, profiles })]);
  assert.deepEqual(checked, {
    verdict: 'refused',
    reason: 'the settings are too large; at most 262144 characters as JSON',
    kind: 'too-large',
  });
});

test('a connection test with a sparse list of 4 billion hosts is refused as too large', () => {
  const show: unknown[] = [];
  show.length = 2 ** 32 - 1;
  const draft = cloned({ version: 1, profiles: [{ ...PROFILE, hosts: { show } }] });
  const checked = PAYLOAD_CHECKS['connection:test'](['home', draft]);
  assert.ok(checked.verdict === 'refused');
  assert.equal(checked.kind, 'too-large');
});

test('settings nested 100 000 deep are refused as too deep', () => {
  let deep: unknown = 1;
  for (let i = 0; i < 100_000; i++) deep = { a: deep };
  const checked = PAYLOAD_CHECKS['settings:save']([{ version: 1, profiles: [], deep }]);
  assert.deepEqual(checked, {
    verdict: 'refused',
    reason: 'the settings are nested too deep; at most 32 levels',
    kind: 'too-large',
  });
});

const kinds: Array<[name: string, check: () => unknown, kind: string]> = [
  [
    'a huge profile name',
    () => PAYLOAD_CHECKS['refresh:now'](['x'.repeat(1_000_000)]),
    'too-large',
  ],
  ['a profile name as a number', () => PAYLOAD_CHECKS['refresh:now']([7]), 'payload'],
  ['settings as a list', () => PAYLOAD_CHECKS['settings:save']([[PROFILE]]), 'payload'],
  [
    'a secret as an object',
    () => PAYLOAD_CHECKS['secret:set'](['home', 'password', { toString: 'x' }]),
    'payload',
  ],
  ['a pause as a string', () => PAYLOAD_CHECKS['alerts:pause'](['tomorrow']), 'payload'],
];
for (const [name, check, kind] of kinds) {
  test(`${name} is refused with the kind ${kind}`, () => {
    const checked = check() as { verdict: string; kind?: string };
    assert.equal(checked.verdict, 'refused');
    assert.equal(checked.kind, kind);
  });
}

test('the log of a refused call names its kind: a foreign sender, a wrong type', async () => {
  const handlers = new Map<string, (event: IpcMainInvokeEvent, ...a: unknown[]) => unknown>();
  const ipcMain = {
    handle: (channel: string, h: (event: IpcMainInvokeEvent, ...a: unknown[]) => unknown) =>
      void handlers.set(channel, h),
    removeHandler: () => undefined,
  } as unknown as Pick<IpcMain, 'handle' | 'removeHandler'>;
  const url = 'prosody-active-users://app/index.html';
  const mainFrame = { url, parent: null, processId: 1, routingId: 1 };
  const ours = { mainFrame, isDestroyed: () => false, send: () => undefined };
  const refusals: IpcRefusal[] = [];
  const dispose = registerIpcHandlers({
    ipcMain,
    service: { subscribe: () => () => undefined } as unknown as AppService,
    hideWindow: () => undefined,
    webContents: () => ours as unknown as WebContents,
    rendererUrl: url,
    onRefused: (r) => refusals.push(r),
  });
  const from = (sender: unknown) =>
    ({ sender, senderFrame: mainFrame }) as unknown as IpcMainInvokeEvent;
  const refresh = handlers.get('refresh:now')!;
  await assert.rejects(async () => refresh(from({ other: true }), 'home'));
  await assert.rejects(async () => refresh(from(ours), 42));
  assert.deepEqual(
    refusals.map((r) => [r.channel, r.kind]),
    [
      ['refresh:now', 'sender'],
      ['refresh:now', 'payload'],
    ],
  );
  dispose();
});
