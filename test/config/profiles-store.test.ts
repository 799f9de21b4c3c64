/*
 * The settings file on a real file system: atomic writes, refusal to overwrite what it cannot read,
 * kept copies, 0600. Also where the state directory is (state-dir.ts) and the CLI's secret store,
 * the other half of "secrets never go into settings.json".
 */
import assert from 'node:assert/strict';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { PASSPHRASE_ENV, PASSWORD_ENV } from '../../main/cli/cli-options.js';
import { openProfilesStore, SETTINGS_FILE_NAME } from '../../main/config/profiles-store.js';
import { APP_DIR_NAME, stateDir } from '../../main/config/state-dir.js';
import type { Settings } from '../../main/core/profile-validation.js';
import { createEnvSecretStore } from '../../main/secrets/env-secret-store.js';

const root = mkdtempSync(join(tmpdir(), 'pau-profiles-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => join(root, `state-${++dirs}`);

const settings: Settings = {
  version: 1,
  profiles: [
    { name: 'home', ssh: { target: 'monitor@xmpp.example.org' }, alerts: { absoluteMinimum: 3 } },
    { name: 'laptop', local: { db: '/var/lib/prosody/prosody.sqlite' } },
  ],
};
const other: Settings = { version: 1, profiles: [{ name: 'only', local: {} }] };
const fixedClock = () => new Date('2026-01-24T12:34:56.789Z');
const mode = (path: string): number => statSync(path).mode & 0o777;
const failureText = (r: { ok: boolean; failure?: unknown }): string => JSON.stringify(r.failure);

describe('settings.json', () => {
  test('a missing file is settings without profiles', async () => {
    const store = openProfilesStore(freshDir());
    assert.deepEqual(await store.load(), { ok: true, value: { version: 1, profiles: [] } });
    assert.deepEqual(await store.inspect(), { ok: true, value: { state: 'missing' } });
  });

  test('what is saved is loaded back, from settings.json in the state directory', async () => {
    const dir = freshDir();
    const store = openProfilesStore(dir);
    assert.equal(store.path, join(dir, SETTINGS_FILE_NAME));
    assert.deepEqual(await store.save(settings), { ok: true, value: { path: store.path } });
    assert.deepEqual(await store.load(), { ok: true, value: settings });
    assert.deepEqual(JSON.parse(readFileSync(store.path, 'utf8')), settings);
    assert.ok(readFileSync(store.path, 'utf8').endsWith('}\n'));
  });

  test('the file is mode 0600 and a new state directory 0700', async () => {
    const dir = join(freshDir(), 'nested', 'deeper');
    const store = openProfilesStore(dir);
    assert.equal((await store.save(settings)).ok, true);
    assert.equal(mode(store.path), 0o600);
    assert.equal(mode(dir), 0o700);
  });

  test('a file that was readable by others is 0600 after a save', async () => {
    const dir = freshDir();
    mkdirSync(dir);
    const path = join(dir, SETTINGS_FILE_NAME);
    writeFileSync(path, JSON.stringify(other));
    chmodSync(path, 0o644);
    assert.equal((await openProfilesStore(dir).save(settings)).ok, true);
    assert.equal(mode(path), 0o600);
  });

  test('saves leave no temporary file behind, even many at once', async () => {
    const dir = freshDir();
    const store = openProfilesStore(dir);
    const versions = Array.from({ length: 20 }, (_, i) => ({
      version: 1 as const,
      profiles: [{ name: `p${i}`, local: {} }],
    }));
    const results = await Promise.all(versions.map((s) => store.save(s)));
    assert.ok(results.every((r) => r.ok));
    assert.deepEqual(readdirSync(dir), [SETTINGS_FILE_NAME]);
    // Saves run in order: the last one wins, whole.
    assert.deepEqual(JSON.parse(readFileSync(store.path, 'utf8')), versions.at(-1));
  });

  test('two stores on one directory never leave a half-written file', async () => {
    const dir = freshDir();
    const a = openProfilesStore(dir);
    const b = openProfilesStore(dir);
    await Promise.all([a.save(settings), b.save(other), a.save(other), b.save(settings)]);
    const loaded = await a.load();
    assert.ok(loaded.ok);
    assert.ok([settings, other].some((s) => JSON.stringify(s) === JSON.stringify(loaded.value)));
    assert.deepEqual(readdirSync(dir), [SETTINGS_FILE_NAME]);
  });

  test('a file with a byte order mark is read', async () => {
    const dir = freshDir();
    mkdirSync(dir);
    writeFileSync(join(dir, SETTINGS_FILE_NAME), `\uFEFF${JSON.stringify(settings)}`);
    assert.deepEqual(await openProfilesStore(dir).load(), { ok: true, value: settings });
  });
});

describe('never overwritten silently', () => {
  /** A state directory holding `content` as settings.json. */
  function withFile(content: string): { dir: string; path: string } {
    const dir = freshDir();
    mkdirSync(dir);
    const path = join(dir, SETTINGS_FILE_NAME);
    writeFileSync(path, content);
    return { dir, path };
  }

  const newer = JSON.stringify(
    { version: 2, profiles: [{ name: 'x', future: { a: 1 } }] },
    null,
    4,
  );

  test('a file from a newer version is not loaded, and says so', async () => {
    const { dir, path } = withFile(newer);
    const result = await openProfilesStore(dir).load();
    assert.ok(!result.ok && result.failure.kind === 'settings');
    assert.match(
      result.failure.message,
      /newer version of prosody-active-users \(settings version 2/,
    );
    assert.ok(result.failure.message.includes(path));
    assert.deepEqual(await openProfilesStore(dir).inspect(), {
      ok: true,
      value: { state: 'newer', version: 2 },
    });
  });

  test('a file from a newer version is refused on save and left byte-identical', async () => {
    const { dir, path } = withFile(newer);
    const before = readFileSync(path);
    const result = await openProfilesStore(dir).save(settings);
    assert.ok(!result.ok && result.failure.kind === 'settings');
    assert.match(result.failure.message, /newer version.*Nothing was saved.*left untouched/);
    assert.deepEqual(readFileSync(path), before);
    assert.deepEqual(readdirSync(dir), [SETTINGS_FILE_NAME]);
  });

  const broken: Array<[name: string, content: string, says: RegExp]> = [
    ['a file that is not JSON', '{"version": 1, "profiles": [', /not valid JSON/],
    ['an empty file', '', /not valid JSON \(it is empty\)/],
    [
      'a file with a bad field',
      JSON.stringify({ version: 1, profiles: [{ name: 'a', ssh: { target: 'a b' } }] }),
      /profiles\[0\]\.ssh\.target: must be \[user@\]host\[:port\] or an ssh_config alias/,
    ],
    [
      'a file with a password in it',
      JSON.stringify({
        version: 1,
        profiles: [{ name: 'a', ssh: { target: 'h', password: 'pw' } }],
      }),
      /profiles\[0\]\.ssh\.password: secrets are never kept/,
    ],
  ];
  for (const [name, content, says] of broken) {
    test(`${name} is not loaded: the error names the file and the problem`, async () => {
      const { dir, path } = withFile(content);
      const result = await openProfilesStore(dir).load();
      assert.ok(!result.ok && result.failure.kind === 'settings', failureText(result));
      assert.ok(result.failure.message.startsWith(`${path}: `), result.failure.message);
      assert.match(result.failure.message, says);
    });

    test(`${name} is refused on save and left byte-identical`, async () => {
      const { dir, path } = withFile(content);
      const result = await openProfilesStore(dir).save(settings);
      assert.ok(!result.ok && result.failure.kind === 'settings', failureText(result));
      assert.match(
        result.failure.message,
        /^Not saved: .* is broken \(.*\) and was left untouched/,
      );
      assert.match(result.failure.message, says);
      assert.equal(readFileSync(path, 'utf8'), content);
      assert.deepEqual(readdirSync(dir), [SETTINGS_FILE_NAME]);
    });
  }

  test('replaceBroken keeps the broken file as settings.json.broken-<time>, then saves', async () => {
    const { dir, path } = withFile('not json');
    const store = openProfilesStore(dir, { now: fixedClock });
    const result = await store.save(settings, { replaceBroken: true });
    const kept = join(dir, 'settings.json.broken-20260124T123456Z');
    assert.deepEqual(result, { ok: true, value: { path, keptBrokenAs: kept } });
    assert.equal(readFileSync(kept, 'utf8'), 'not json');
    assert.deepEqual(await store.load(), { ok: true, value: settings });
    assert.deepEqual(readdirSync(dir).sort(), [
      SETTINGS_FILE_NAME,
      'settings.json.broken-20260124T123456Z',
    ]);
  });

  test('replaceBroken also replaces a newer file, keeping it', async () => {
    const { dir } = withFile(newer);
    const result = await openProfilesStore(dir, { now: fixedClock }).save(other, {
      replaceBroken: true,
    });
    assert.ok(result.ok && result.value.keptBrokenAs !== undefined);
    assert.equal(readFileSync(result.value.keptBrokenAs, 'utf8'), newer);
  });

  test('a second kept copy at the same second gets its own name', async () => {
    const { dir, path } = withFile('first');
    const store = openProfilesStore(dir, { now: fixedClock });
    await store.save(settings, { replaceBroken: true });
    writeFileSync(path, 'second');
    const result = await store.save(settings, { replaceBroken: true });
    assert.ok(result.ok);
    assert.equal(result.value.keptBrokenAs, join(dir, 'settings.json.broken-20260124T123456Z-2'));
    assert.equal(readFileSync(join(dir, 'settings.json.broken-20260124T123456Z'), 'utf8'), 'first');
    assert.equal(readFileSync(result.value.keptBrokenAs!, 'utf8'), 'second');
  });

  test('replaceBroken over a valid file is an ordinary save: nothing is kept', async () => {
    const dir = freshDir();
    const store = openProfilesStore(dir);
    await store.save(other);
    assert.deepEqual(await store.save(settings, { replaceBroken: true }), {
      ok: true,
      value: { path: store.path },
    });
    assert.deepEqual(readdirSync(dir), [SETTINGS_FILE_NAME]);
  });
});

describe('secrets never reach the file', () => {
  test('settings holding a password are not saved, and nothing is written', async () => {
    const dir = freshDir();
    const store = openProfilesStore(dir);
    const withPassword = {
      version: 1,
      profiles: [{ name: 'a', ssh: { target: 'h', password: 'hunter2' } }],
    } as unknown as Settings;
    const result = await store.save(withPassword);
    assert.ok(!result.ok && result.failure.kind === 'settings');
    assert.match(result.failure.message, /^Not saved to .*: profiles\[0\]\.ssh\.password: secrets/);
    assert.doesNotMatch(result.failure.message, /hunter2/);
    assert.throws(() => readdirSync(dir), { code: 'ENOENT' });
  });

  test('invalid settings are not saved over a good file', async () => {
    const dir = freshDir();
    const store = openProfilesStore(dir);
    await store.save(settings);
    const bad = { version: 1, profiles: [{ name: '', local: {} }] } as Settings;
    const result = await store.save(bad);
    assert.ok(!result.ok);
    assert.deepEqual(await store.load(), { ok: true, value: settings });
  });

  test('the CLI reads the password and the passphrase from the environment', async () => {
    const store = createEnvSecretStore({
      env: { [PASSWORD_ENV]: 'pw', [PASSPHRASE_ENV]: '' },
      prompt: () => assert.fail('must not ask'),
    });
    assert.equal(await store.get('home', 'password'), 'pw');
    // Set but empty is still given (as for --ssh's own options).
    assert.equal(await store.get('home', 'passphrase'), '');
  });

  test('without the variable and without a prompt there is no secret', async () => {
    const store = createEnvSecretStore({ env: {} });
    assert.equal(await store.get('home', 'password'), null);
  });

  test('a prompted answer is asked once per profile and kind, until deleted', async () => {
    const questions: string[] = [];
    const store = createEnvSecretStore({
      env: {},
      prompt: async (q) => {
        questions.push(q);
        return `answer ${questions.length}`;
      },
    });
    const [a, b] = await Promise.all([
      store.get('home', 'password'),
      store.get('home', 'password'),
    ]);
    assert.deepEqual([a, b], ['answer 1', 'answer 1']);
    assert.equal(await store.get('home', 'passphrase'), 'answer 2');
    assert.equal(await store.get('work', 'password'), 'answer 3');
    assert.deepEqual(await store.delete('home', 'password'), { ok: true, value: undefined });
    assert.equal(await store.get('home', 'password'), 'answer 4');
    assert.deepEqual(questions, [
      'Password for profile "home": ',
      'Key passphrase for profile "home": ',
      'Password for profile "work": ',
      'Password for profile "home": ',
    ]);
  });

  test('a prompt that gets no answer is asked again next time', async () => {
    let asked = 0;
    const store = createEnvSecretStore({
      env: {},
      prompt: async () => (++asked === 1 ? null : 'pw'),
    });
    assert.equal(await store.get('home', 'password'), null);
    assert.equal(await store.get('home', 'password'), 'pw');
  });

  test('the CLI does not store secrets: set fails and points to ssh-agent', async () => {
    const store = createEnvSecretStore({ env: {} });
    const passphrase = await store.set('home', 'passphrase', 'x');
    assert.ok(!passphrase.ok && passphrase.failure.kind === 'usage');
    assert.match(passphrase.failure.message, /does not store secrets: load the key into ssh-agent/);
    assert.ok(passphrase.failure.message.includes(PASSPHRASE_ENV));
    const password = await store.set('home', 'password', 'x');
    assert.ok(!password.ok && password.failure.kind === 'usage');
    assert.ok(password.failure.message.includes(PASSWORD_ENV));
  });
});

describe('the state directory', () => {
  const cases: Array<[name: string, input: Parameters<typeof stateDir>[0], expected: string]> = [
    [
      'Linux: $XDG_CONFIG_HOME',
      { env: { XDG_CONFIG_HOME: '/home/me/.cfg' }, platform: 'linux', home: '/home/me' },
      `/home/me/.cfg/${APP_DIR_NAME}`,
    ],
    [
      'Linux: ~/.config without XDG_CONFIG_HOME',
      { env: {}, platform: 'linux', home: '/home/me' },
      `/home/me/.config/${APP_DIR_NAME}`,
    ],
    [
      'Linux: ~/.config when XDG_CONFIG_HOME is empty',
      { env: { XDG_CONFIG_HOME: '' }, platform: 'linux', home: '/home/me' },
      `/home/me/.config/${APP_DIR_NAME}`,
    ],
    [
      'Linux: ~/.config when XDG_CONFIG_HOME is relative (the XDG spec ignores it)',
      { env: { XDG_CONFIG_HOME: 'cfg' }, platform: 'linux', home: '/home/me' },
      `/home/me/.config/${APP_DIR_NAME}`,
    ],
    [
      'FreeBSD: as Linux',
      { env: {}, platform: 'freebsd', home: '/usr/home/me' },
      `/usr/home/me/.config/${APP_DIR_NAME}`,
    ],
    [
      'macOS: Application Support, whatever XDG_CONFIG_HOME says',
      { env: { XDG_CONFIG_HOME: '/x' }, platform: 'darwin', home: '/Users/me' },
      `/Users/me/Library/Application Support/${APP_DIR_NAME}`,
    ],
    [
      'Windows: %APPDATA%',
      {
        env: { APPDATA: 'C:\\Users\\me\\AppData\\Roaming' },
        platform: 'win32',
        home: 'C:\\Users\\me',
      },
      `C:\\Users\\me\\AppData\\Roaming\\${APP_DIR_NAME}`,
    ],
    [
      'Windows: %AppData% in any case',
      { env: { AppData: 'D:\\Roaming' }, platform: 'win32', home: 'C:\\Users\\me' },
      `D:\\Roaming\\${APP_DIR_NAME}`,
    ],
    [
      'Windows: the roaming folder under home without APPDATA',
      { env: {}, platform: 'win32', home: 'C:\\Users\\me' },
      `C:\\Users\\me\\AppData\\Roaming\\${APP_DIR_NAME}`,
    ],
    [
      '--state-dir (or the app userData) wins',
      {
        env: { XDG_CONFIG_HOME: '/x' },
        platform: 'linux',
        home: '/home/me',
        override: '/srv/state',
      },
      '/srv/state',
    ],
    [
      'an empty override counts as none',
      { env: {}, platform: 'linux', home: '/home/me', override: '' },
      `/home/me/.config/${APP_DIR_NAME}`,
    ],
  ];
  for (const [name, input, expected] of cases) {
    test(name, () => assert.equal(stateDir(input), expected));
  }
});
