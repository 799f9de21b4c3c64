/**
 * The preload compiled as the build compiles it (CommonJS), then run the way a sandboxed preload
 * runs: with a `require` that knows nothing but 'electron', here a recording fake.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runInNewContext } from 'node:vm';
import ts from 'typescript';
import { API_CHANNELS, type AppSnapshot, type RendererApi } from '../../main/core/ipc-contract.js';

const SOURCE = join(__dirname, '..', '..', 'main', 'electron', 'preload.ts');

function compiled(): string {
  const config = ts.readConfigFile(join(__dirname, '..', '..', 'tsconfig.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(
    config.config,
    ts.sys,
    join(__dirname, '..', '..'),
  );
  return ts.transpileModule(readFileSync(SOURCE, 'utf8'), {
    compilerOptions: { ...options, sourceMap: false },
    fileName: SOURCE,
  }).outputText;
}

function load() {
  const invoked: Array<[string, unknown[]]> = [];
  const exposed = new Map<string, unknown>();
  const ipcRenderer = Object.assign(new EventEmitter(), {
    invoke: (channel: string, ...args: unknown[]) => {
      invoked.push([channel, args]);
      return Promise.resolve(`answer to ${channel}`);
    },
  });
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.set(key, api) },
    ipcRenderer,
  };
  const required: string[] = [];
  const sandboxRequire = (name: string) => {
    required.push(name);
    if (name !== 'electron') throw new Error(`module not found: ${name}`);
    return electron;
  };
  const module = { exports: {} };
  runInNewContext(compiled(), { require: sandboxRequire, module, exports: module.exports });
  const api = exposed.get('prosodyActiveUsers') as RendererApi | undefined;
  assert.ok(api, 'exposed as window.prosodyActiveUsers');
  return { api, invoked, ipcRenderer, required, exposed };
}

test('the compiled preload requires nothing but electron', () => {
  const { required, exposed } = load();
  assert.deepEqual(required, ['electron']);
  assert.deepEqual([...exposed.keys()], ['prosodyActiveUsers']);
  const requires = [...compiled().matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1]);
  assert.deepEqual(requires, ['electron']);
});

test('the API has one function per capability and no generic send', () => {
  const { api } = load();
  assert.deepEqual(
    Object.keys(api).sort(),
    [...Object.keys(API_CHANNELS), 'onSnapshot', 'onShowProfile'].sort(),
  );
  for (const value of Object.values(api)) assert.equal(typeof value, 'function');
});

const calls: Array<[name: keyof typeof API_CHANNELS, args: unknown[]]> = [
  ['getSnapshot', []],
  ['getSeries', ['home', '7d']],
  ['refreshNow', [null]],
  ['getSettings', []],
  ['saveSettings', [{ version: 1, profiles: [] }]],
  ['testConnection', ['home', { version: 1, profiles: [] }]],
  ['trustHostKey', ['h', 22, 'SHA256:x', null]],
  ['setSecret', ['home', 'password', 'pw']],
  ['pauseAlerts', [123]],
  ['setStartAtLogin', [true]],
];

for (const [name, args] of calls) {
  test(`${name} invokes ${API_CHANNELS[name]} with its arguments and returns the answer`, async () => {
    const { api, invoked } = load();
    const fn = api[name] as (...a: unknown[]) => Promise<unknown>;
    assert.equal(await fn(...args), `answer to ${API_CHANNELS[name]}`);
    assert.deepEqual(invoked, [[API_CHANNELS[name], args]]);
  });
}

test('onSnapshot passes the snapshot only, and its return value unsubscribes', () => {
  const { api, ipcRenderer } = load();
  const seen: unknown[][] = [];
  const unsubscribe = api.onSnapshot((...args: unknown[]) => seen.push(args));
  const snapshot = { profiles: [] } as unknown as AppSnapshot;
  ipcRenderer.emit('snapshot:changed', { sender: 'secret internals' }, snapshot);
  assert.deepEqual(seen, [[snapshot]]);
  unsubscribe();
  ipcRenderer.emit('snapshot:changed', {}, snapshot);
  assert.equal(seen.length, 1);
  assert.equal(ipcRenderer.listenerCount('snapshot:changed'), 0);
});

test('onShowProfile passes the profile name only, ignores anything else, and unsubscribes', () => {
  const { api, ipcRenderer } = load();
  const seen: unknown[][] = [];
  const unsubscribe = api.onShowProfile((...args: unknown[]) => seen.push(args));
  ipcRenderer.emit('profile:show', { sender: 'secret internals' }, 'work');
  ipcRenderer.emit('profile:show', {}, { name: 'not a string' });
  assert.deepEqual(seen, [['work']]);
  unsubscribe();
  assert.equal(ipcRenderer.listenerCount('profile:show'), 0);
});
