import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import {
  type SafeStorageLike,
  SafeStorageSecretStore,
  SECRETS_FILE_NAME,
} from '../../main/electron/safe-storage-secrets.js';

type Backend = ReturnType<SafeStorageLike['getSelectedStorageBackend']>;

/** A safeStorage whose "encryption" is a reversible byte flip, with a switchable backend. */
function fakeSafeStorage(backend: Backend = 'gnome_libsecret', available = true) {
  const state = { backend, available, rotate: false, encrypted: 0 };
  const flip = (b: Buffer) => Buffer.from(b.map((x) => x ^ 0x5a));
  const safeStorage: SafeStorageLike = {
    getSelectedStorageBackend: () => state.backend,
    isAsyncEncryptionAvailable: () => Promise.resolve(state.available),
    encryptStringAsync: (text) => {
      state.encrypted++;
      return Promise.resolve(Buffer.concat([Buffer.from('v1:'), flip(Buffer.from(text, 'utf8'))]));
    },
    decryptStringAsync: (blob) => {
      if (!blob.subarray(0, 3).equals(Buffer.from('v1:'))) {
        return Promise.reject(new Error('Error while decrypting the ciphertext'));
      }
      return Promise.resolve({
        result: flip(blob.subarray(3)).toString('utf8'),
        shouldReEncrypt: state.rotate,
      });
    },
  };
  return { safeStorage, state };
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function store(backend?: Backend, available?: boolean, platform: NodeJS.Platform = 'linux') {
  const dir = mkdtempSync(join(tmpdir(), 'secrets-'));
  dirs.push(dir);
  const fake = fakeSafeStorage(backend, available);
  const errors: unknown[] = [];
  const secrets = new SafeStorageSecretStore({
    safeStorage: fake.safeStorage,
    dir,
    platform,
    onError: (e) => errors.push(e),
  });
  return { secrets, dir, file: join(dir, SECRETS_FILE_NAME), errors, ...fake };
}

test('a stored secret comes back, and the file holds only the encrypted blob', async () => {
  const { secrets, file } = store();
  assert.deepEqual(await secrets.set('home', 'password', 'correct horse'), {
    ok: true,
    value: undefined,
  });
  assert.equal(await secrets.get('home', 'password'), 'correct horse');
  const text = readFileSync(file, 'utf8');
  assert.ok(!text.includes('correct horse'));
  assert.match(text, /"home": \{\n\s+"password": "[A-Za-z0-9+/=]+"/);
});

test('the file is readable by its owner only', { skip: process.platform === 'win32' }, async () => {
  const { secrets, file } = store();
  await secrets.set('home', 'password', 'x');
  assert.equal(statSync(file).mode & 0o777, 0o600);
});

test('a secret that was never stored is null', async () => {
  const { secrets } = store();
  assert.equal(await secrets.get('home', 'passphrase'), null);
});

test('password and passphrase of several profiles are kept apart', async () => {
  const { secrets } = store();
  await secrets.set('home', 'password', 'a');
  await secrets.set('home', 'passphrase', 'b');
  await secrets.set('work', 'password', 'c');
  assert.deepEqual(
    [
      await secrets.get('home', 'password'),
      await secrets.get('home', 'passphrase'),
      await secrets.get('work', 'password'),
    ],
    ['a', 'b', 'c'],
  );
});

test('delete forgets one secret and keeps the others; forgetting nothing is fine', async () => {
  const { secrets } = store();
  await secrets.set('home', 'password', 'a');
  await secrets.set('home', 'passphrase', 'b');
  assert.equal((await secrets.delete('home', 'password')).ok, true);
  assert.equal(await secrets.get('home', 'password'), null);
  assert.equal(await secrets.get('home', 'passphrase'), 'b');
  assert.equal((await secrets.delete('nobody', 'password')).ok, true);
});

test('Linux plain-text fallback: nothing is stored, and the failure says so', async () => {
  const { secrets, file, state } = store('basic_text');
  const result = await secrets.set('home', 'password', 'x');
  assert.equal(result.ok, false);
  assert.ok(!result.ok && result.failure.kind === 'settings');
  assert.match(result.failure.message, /plain text.*ssh-agent/);
  assert.equal(state.encrypted, 0);
  assert.throws(() => readFileSync(file), { code: 'ENOENT' });
  assert.equal((await secrets.availability()).ok, false);
});

test('Linux before the app is ready (backend unknown): nothing is stored', async () => {
  const { secrets } = store('unknown');
  assert.equal((await secrets.set('home', 'password', 'x')).ok, false);
});

test('encryption unavailable: nothing is stored, on any platform', async () => {
  for (const platform of ['darwin', 'win32', 'linux'] as const) {
    const { secrets, state } = store('kwallet6', false, platform);
    const result = await secrets.set('home', 'password', 'x');
    assert.equal(result.ok, false, platform);
    assert.equal(state.encrypted, 0);
  }
});

test('macOS and Windows do not ask for the Linux backend', async () => {
  for (const platform of ['darwin', 'win32'] as const) {
    const { secrets, safeStorage } = store('basic_text', true, platform);
    safeStorage.getSelectedStorageBackend = () => {
      throw new Error('Linux only');
    };
    assert.equal((await secrets.set('home', 'password', 'x')).ok, true, platform);
  }
});

test('a rotated key re-encrypts the secret on read', async () => {
  const { secrets, state } = store();
  await secrets.set('home', 'password', 'x');
  state.rotate = true;
  assert.equal(await secrets.get('home', 'password'), 'x');
  assert.equal(state.encrypted, 2);
});

test('a blob that no longer decrypts reads as no secret, and is logged', async () => {
  const { secrets, file, errors } = store();
  writeFileSync(
    file,
    JSON.stringify({ version: 1, secrets: { home: { password: 'Z2FyYmFnZQ==' } } }),
  );
  assert.equal(await secrets.get('home', 'password'), null);
  assert.equal(errors.length, 1);
});

test('a broken file reads as no secrets, is logged, and the next store replaces it', async () => {
  const { secrets, file, errors } = store();
  writeFileSync(file, '{not json');
  assert.equal(await secrets.get('home', 'password'), null);
  assert.equal(errors.length, 1);
  assert.equal((await secrets.set('home', 'password', 'y')).ok, true);
  assert.equal(await secrets.get('home', 'password'), 'y');
});

test('a profile named __proto__ is an ordinary key', async () => {
  const { secrets } = store();
  await secrets.set('__proto__', 'password', 'p');
  await secrets.set('home', 'password', 'h');
  assert.equal(await secrets.get('__proto__', 'password'), 'p');
  assert.equal(await secrets.get('constructor', 'password'), null);
  assert.equal(await secrets.get('home', 'password'), 'h');
});

test('concurrent stores all land', async () => {
  const { secrets } = store();
  await Promise.all(
    Array.from({ length: 10 }, (_, i) => secrets.set(`p${i}`, 'password', `v${i}`)),
  );
  for (let i = 0; i < 10; i++) assert.equal(await secrets.get(`p${i}`, 'password'), `v${i}`);
});
