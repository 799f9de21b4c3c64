/*
 * Private key loading, held against the tools that make the keys: every file here comes from
 * ssh-keygen or puttygen (FIDO keys need hardware to generate, so those are built by hand in
 * OpenSSH's container and checked by ssh-keygen -y); fingerprints are compared with ssh-keygen -lf
 * and every loaded key must sign something its own .pub verifies.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { utils } from 'ssh2';
import type { Failure } from '../../main/core/failure.js';
import {
  DEFAULT_IDENTITY_FILES,
  isEncryptedKey,
  loadPrivateKey,
} from '../../main/ssh/private-keys.js';

const dir = mkdtempSync(join(tmpdir(), 'pau-private-keys-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const PASS = 'correct horse';
const WRONG = 'battery staple';
const ENV = 'PAU_KEY_PASSPHRASE';

function run(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** ssh-keygen -t type [-m format] -N passphrase; returns the private key's path. */
function keygen(
  name: string,
  type: string,
  options: { passphrase?: string; format?: string; cipher?: string; bits?: number } = {},
): string {
  const path = join(dir, name);
  const bits = options.bits ?? (type === 'rsa' ? 2048 : undefined);
  run('ssh-keygen', [
    '-q',
    '-t',
    type,
    ...(bits ? ['-b', String(bits)] : []),
    ...(options.format ? ['-m', options.format] : []),
    ...(options.cipher ? ['-Z', options.cipher] : []),
    '-N',
    options.passphrase ?? '',
    '-C',
    'test',
    '-f',
    path,
  ]);
  return path;
}

/** puttygen SOURCE -O private -o NAME with a PPK version and an optional passphrase. */
function puttygen(source: string, name: string, version: 2 | 3, passphrase?: string): string {
  const out = join(dir, name);
  const args = [source, '-O', 'private', '-o', out, '--ppk-param', `version=${version}`];
  if (passphrase !== undefined) {
    const file = join(dir, `${name}.passphrase`);
    writeFileSync(file, `${passphrase}\n`);
    args.push('--new-passphrase', file);
  }
  run('puttygen', args);
  return out;
}

function sshString(value: Buffer | string): Buffer {
  const body = Buffer.from(value);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return Buffer.concat([length, body]);
}

function uint32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value);
  return b;
}

/**
 * An unencrypted OpenSSH private key file (PROTOCOL.key) holding one key, the way ssh-keygen
 * writes one: check integers, the key's fields, its comment, then padding 1, 2, 3 … to 8 bytes.
 */
function openSshContainer(publicBlob: Buffer, privateFields: Buffer): string {
  const check = randomBytes(4);
  const unpadded = Buffer.concat([check, check, privateFields, sshString('test')]);
  const padding = Array.from({ length: (8 - (unpadded.length % 8)) % 8 }, (_, i) => i + 1);
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0', 'latin1'),
    sshString('none'),
    sshString('none'),
    sshString(''),
    uint32(1),
    sshString(publicBlob),
    sshString(Buffer.concat([unpadded, Buffer.from(padding)])),
  ]).toString('base64');
  const lines = body.match(/.{1,70}/g) ?? [];
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

/** A FIDO key file as `ssh-keygen -t ed25519-sk` / `-t ecdsa-sk` writes it (PROTOCOL.u2f). */
function fidoKeyFile(name: string, kind: 'ed25519' | 'ecdsa'): string {
  const application = 'ssh:';
  const flags = Buffer.from([0x01]); // user presence required
  const keyHandle = sshString(randomBytes(64));
  const reserved = sshString('');
  let publicFields: Buffer;
  let type: string;
  if (kind === 'ed25519') {
    type = 'sk-ssh-ed25519@openssh.com';
    const { x = '' } = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
    publicFields = Buffer.concat([sshString(Buffer.from(x, 'base64url')), sshString(application)]);
  } else {
    type = 'sk-ecdsa-sha2-nistp256@openssh.com';
    const { x = '', y = '' } = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
      format: 'jwk',
    });
    const q = Buffer.concat([
      Buffer.from([4]),
      Buffer.from(x, 'base64url'),
      Buffer.from(y, 'base64url'),
    ]);
    publicFields = Buffer.concat([sshString('nistp256'), sshString(q), sshString(application)]);
  }
  const publicBlob = Buffer.concat([sshString(type), publicFields]);
  const privateFields = Buffer.concat([sshString(type), publicFields, flags, keyHandle, reserved]);
  const path = join(dir, name);
  writeFileSync(path, openSshContainer(publicBlob, privateFields), { mode: 0o600 });
  return path;
}

function fingerprintBySshKeygen(pubPath: string): string {
  return run('ssh-keygen', ['-l', '-f', pubPath]).split(' ')[1] ?? '';
}

function write(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}

// --- Keys ssh2 can use ----------------------------------------------------------------------

interface Usable {
  name: string;
  path: string;
  /** The .pub that ssh-keygen wrote for the same key. */
  pub: string;
  type: string;
  passphrase?: string;
}

const rsaSource = keygen('rsa-source', 'rsa');
const usable: Usable[] = [
  { name: 'OpenSSH ed25519', path: keygen('ed25519', 'ed25519'), type: 'ssh-ed25519' },
  { name: 'OpenSSH ECDSA P-256', path: keygen('ecdsa256', 'ecdsa'), type: 'ecdsa-sha2-nistp256' },
  {
    name: 'OpenSSH ECDSA P-521',
    path: keygen('ecdsa521', 'ecdsa', { bits: 521 }),
    type: 'ecdsa-sha2-nistp521',
  },
  { name: 'OpenSSH RSA', path: rsaSource, type: 'ssh-rsa' },
  {
    name: 'OpenSSH ed25519, encrypted',
    path: keygen('ed25519-enc', 'ed25519', { passphrase: PASS }),
    type: 'ssh-ed25519',
    passphrase: PASS,
  },
  {
    name: 'OpenSSH ECDSA, encrypted',
    path: keygen('ecdsa-enc', 'ecdsa', { passphrase: PASS }),
    type: 'ecdsa-sha2-nistp256',
    passphrase: PASS,
  },
  {
    name: 'OpenSSH RSA, encrypted',
    path: keygen('rsa-enc', 'rsa', { passphrase: PASS }),
    type: 'ssh-rsa',
    passphrase: PASS,
  },
  { name: 'PEM RSA', path: keygen('pem-rsa', 'rsa', { format: 'PEM' }), type: 'ssh-rsa' },
  {
    name: 'PEM EC',
    path: keygen('pem-ec', 'ecdsa', { format: 'PEM' }),
    type: 'ecdsa-sha2-nistp256',
  },
  {
    name: 'PEM RSA, encrypted',
    path: keygen('pem-rsa-enc', 'rsa', { format: 'PEM', passphrase: PASS }),
    type: 'ssh-rsa',
    passphrase: PASS,
  },
  {
    name: 'PEM EC, encrypted',
    path: keygen('pem-ec-enc', 'ecdsa', { format: 'PEM', passphrase: PASS }),
    type: 'ecdsa-sha2-nistp256',
    passphrase: PASS,
  },
  { name: 'PuTTY PPK v2 RSA', path: puttygen(rsaSource, 'rsa.ppk', 2), type: 'ssh-rsa' },
  {
    name: 'PuTTY PPK v2 RSA, encrypted',
    path: puttygen(rsaSource, 'rsa-enc.ppk', 2, PASS),
    type: 'ssh-rsa',
    passphrase: PASS,
  },
].map((c) => ({ ...c, pub: `${c.path.endsWith('.ppk') ? rsaSource : c.path}.pub` }));

describe('keys ssh2 can use', () => {
  for (const c of usable) {
    test(`${c.name} loads, with ssh-keygen's fingerprint`, () => {
      const result = loadPrivateKey(c.path, readFileSync(c.path), c.passphrase, ENV);
      assert.ok(result.ok, JSON.stringify(!result.ok && result.failure));
      assert.equal(result.value.path, c.path);
      assert.equal(result.value.type, c.type);
      assert.equal(result.value.fingerprint, fingerprintBySshKeygen(c.pub));
    });

    test(`the ${c.name} key signs what its .pub verifies`, () => {
      const result = loadPrivateKey(c.path, readFileSync(c.path), c.passphrase, ENV);
      assert.ok(result.ok);
      const publicKey = utils.parseKey(readFileSync(c.pub));
      assert.ok(!(publicKey instanceof Error));
      const message = randomBytes(64);
      const signature = result.value.key.sign(message);
      assert.ok(Buffer.isBuffer(signature));
      assert.equal(publicKey.verify(message, signature), true);
      assert.equal(publicKey.verify(randomBytes(64), signature), false);
    });

    if (c.passphrase === undefined) {
      test(`${c.name} is not encrypted, and a passphrase given for it is ignored`, () => {
        const data = readFileSync(c.path);
        assert.equal(isEncryptedKey(data), false);
        assert.ok(loadPrivateKey(c.path, data, WRONG, ENV).ok);
      });
    } else {
      test(`${c.name} asks for its passphrase, and tells a wrong one`, () => {
        const data = readFileSync(c.path);
        const expect = (wrong: boolean): Failure => ({
          kind: 'key-passphrase',
          path: c.path,
          wrong,
          envVar: ENV,
        });
        assert.equal(isEncryptedKey(data), true);
        assert.deepEqual(loadPrivateKey(c.path, data, undefined, ENV), {
          ok: false,
          failure: expect(false),
        });
        assert.deepEqual(loadPrivateKey(c.path, data, '', ENV), {
          ok: false,
          failure: expect(false),
        });
        assert.deepEqual(loadPrivateKey(c.path, data, WRONG, ENV), {
          ok: false,
          failure: expect(true),
        });
      });
    }
  }
});

describe('every cipher ssh-keygen can encrypt a key with', () => {
  const ciphers = run('ssh', ['-Q', 'cipher']).split('\n').filter(Boolean);
  for (const cipher of ciphers) {
    const refused = cipher === 'chacha20-poly1305@openssh.com';
    test(`an OpenSSH key encrypted with ${cipher} ${refused ? 'is refused by name' : 'loads and signs'}`, () => {
      const path = keygen(`cipher-${cipher}`, 'ed25519', { passphrase: PASS, cipher });
      const data = readFileSync(path);
      const result = loadPrivateKey(path, data, PASS, ENV);
      if (refused) {
        assert.deepEqual(result, {
          ok: false,
          failure: { kind: 'key-format', path, format: `OpenSSH (cipher ${cipher})` },
        });
        assert.equal(isEncryptedKey(data), false);
        return;
      }
      assert.ok(result.ok, JSON.stringify(!result.ok && result.failure));
      assert.equal(result.value.fingerprint, fingerprintBySshKeygen(`${path}.pub`));
      assert.deepEqual(loadPrivateKey(path, data, WRONG, ENV), {
        ok: false,
        failure: { kind: 'key-passphrase', path, wrong: true, envVar: ENV },
      });
    });
  }
});

// --- Files refused by name --------------------------------------------------------------------

const ed25519Source = usable[0]?.path ?? '';
const caKey = keygen('ca', 'ed25519');
run('ssh-keygen', ['-q', '-s', caKey, '-I', 'test', '-n', 'someone', `${ed25519Source}.pub`]);
const fidoEd25519 = fidoKeyFile('fido-ed25519', 'ed25519');
const fidoEcdsa = fidoKeyFile('fido-ecdsa', 'ecdsa');
const fidoEncrypted = write('fido-ed25519-enc', readFileSync(fidoEd25519));
run('ssh-keygen', ['-q', '-p', '-P', '', '-N', PASS, '-f', fidoEncrypted]);
const sshComPath = join(dir, 'sshcom');
run('puttygen', [rsaSource, '-O', 'private-sshcom', '-o', sshComPath]);
const pkcs8Ed25519 = generateKeyPairSync('ed25519').privateKey;
const truncated = (() => {
  const lines = readFileSync(ed25519Source, 'utf8').trim().split('\n');
  return [...lines.slice(0, 3), lines.at(-1)].join('\n');
})();

const refused: { name: string; path: string; format: string }[] = [
  {
    name: 'a PuTTY PPK v3 key',
    path: puttygen(ed25519Source, 'ed25519-v3.ppk', 3),
    format: 'PuTTY PPK v3',
  },
  {
    name: 'an encrypted PuTTY PPK v3 key',
    path: puttygen(rsaSource, 'rsa-v3-enc.ppk', 3, PASS),
    format: 'PuTTY PPK v3',
  },
  {
    name: 'a PuTTY PPK v2 ed25519 key',
    path: puttygen(ed25519Source, 'ed25519-v2.ppk', 2),
    format: 'PuTTY PPK v2 (ssh-ed25519)',
  },
  {
    name: 'a PKCS#8 RSA key',
    path: keygen('pkcs8-rsa', 'rsa', { format: 'PKCS8' }),
    format: 'PKCS#8',
  },
  {
    name: 'an encrypted PKCS#8 EC key',
    path: keygen('pkcs8-ec-enc', 'ecdsa', { format: 'PKCS8', passphrase: PASS }),
    format: 'PKCS#8',
  },
  {
    name: 'a PKCS#8 ed25519 key',
    path: write('pkcs8-ed25519', pkcs8Ed25519.export({ format: 'pem', type: 'pkcs8' })),
    format: 'PKCS#8',
  },
  {
    name: 'an encrypted PKCS#8 ed25519 key',
    path: write(
      'pkcs8-ed25519-enc',
      pkcs8Ed25519.export({
        format: 'pem',
        type: 'pkcs8',
        cipher: 'aes-256-cbc',
        passphrase: PASS,
      }),
    ),
    format: 'PKCS#8',
  },
  {
    name: 'a FIDO ed25519 key',
    path: fidoEd25519,
    format: 'FIDO security key (sk-ssh-ed25519@openssh.com)',
  },
  {
    name: 'a FIDO ECDSA key',
    path: fidoEcdsa,
    format: 'FIDO security key (sk-ecdsa-sha2-nistp256@openssh.com)',
  },
  {
    name: 'an encrypted FIDO key',
    path: fidoEncrypted,
    format: 'FIDO security key (sk-ssh-ed25519@openssh.com)',
  },
  {
    name: 'an OpenSSH certificate',
    path: `${ed25519Source}-cert.pub`,
    format: 'OpenSSH certificate',
  },
  {
    name: 'an ed25519 public key',
    path: `${ed25519Source}.pub`,
    format: 'public key (not a private key)',
  },
  {
    name: 'an RSA public key',
    path: `${rsaSource}.pub`,
    format: 'public key (not a private key)',
  },
  {
    name: 'a FIDO public key',
    path: write('fido.pub', run('ssh-keygen', ['-y', '-f', fidoEd25519])),
    format: 'public key (not a private key)',
  },
  {
    name: 'an RFC 4716 public key',
    path: write('rfc4716.pub', run('ssh-keygen', ['-e', '-f', `${rsaSource}.pub`])),
    format: 'public key (not a private key)',
  },
  { name: 'an ssh.com private key', path: sshComPath, format: 'ssh.com (SECSH)' },
  {
    name: 'a truncated OpenSSH key',
    path: write('truncated', truncated),
    format: 'a damaged OpenSSH',
  },
  { name: 'an empty file', path: write('empty', ''), format: 'an unrecognised' },
  { name: 'random bytes', path: write('random', randomBytes(512)), format: 'an unrecognised' },
  { name: 'a text file', path: write('text', 'not a key\n'), format: 'an unrecognised' },
];

describe('files refused by name', () => {
  for (const c of refused) {
    test(`${c.name} is refused as ${c.format}, with or without a passphrase`, () => {
      const data = readFileSync(c.path);
      const expected = {
        ok: false,
        failure: { kind: 'key-format', path: c.path, format: c.format },
      };
      assert.deepEqual(loadPrivateKey(c.path, data, undefined, ENV), expected);
      assert.deepEqual(loadPrivateKey(c.path, data, PASS, ENV), expected);
      assert.equal(isEncryptedKey(data), false);
    });
  }

  test('the hand-built FIDO keys are ones ssh-keygen reads', () => {
    assert.match(run('ssh-keygen', ['-y', '-f', fidoEd25519]), /^sk-ssh-ed25519@openssh\.com AAAA/);
    assert.match(
      run('ssh-keygen', ['-y', '-f', fidoEcdsa]),
      /^sk-ecdsa-sha2-nistp256@openssh\.com AAAA/,
    );
    assert.match(
      run('ssh-keygen', ['-y', '-P', PASS, '-f', fidoEncrypted]),
      /^sk-ssh-ed25519@openssh\.com AAAA/,
    );
  });
});

// --- The facts the module relies on ----------------------------------------------------------

describe("ssh2's parseKey, as the module expects it", () => {
  const message = (path: string, passphrase?: string): string => {
    const parsed = utils.parseKey(readFileSync(path), passphrase);
    return parsed instanceof Error ? parsed.message : `parsed ${parsed.type}`;
  };
  const byName = (name: string): string => usable.find((c) => c.name === name)?.path ?? '';

  test('names a missing passphrase for each container', () => {
    assert.equal(
      message(byName('OpenSSH ed25519, encrypted')),
      'Encrypted private OpenSSH key detected, but no passphrase given',
    );
    assert.equal(
      message(byName('PEM RSA, encrypted')),
      'Encrypted OpenSSH private key detected, but no passphrase given',
    );
    assert.equal(
      message(byName('PuTTY PPK v2 RSA, encrypted')),
      'Encrypted PPK private key detected, but no passphrase given',
    );
  });

  test('suspects a wrong passphrase in each container', () => {
    assert.equal(
      message(byName('OpenSSH ed25519, encrypted'), WRONG),
      'OpenSSH key integrity check failed -- bad passphrase?',
    );
    assert.equal(
      message(byName('PEM RSA, encrypted'), WRONG),
      'Malformed OpenSSH private key. Bad passphrase?',
    );
    assert.equal(
      message(byName('PuTTY PPK v2 RSA, encrypted'), WRONG),
      'PPK private key integrity check failed -- bad passphrase?',
    );
  });

  test('cannot read PPK v3, PKCS#8 or FIDO keys, and reads public keys as keys', () => {
    const v3 = refused.find((c) => c.format === 'PuTTY PPK v3')?.path ?? '';
    const pkcs8 = refused.find((c) => c.format === 'PKCS#8')?.path ?? '';
    assert.equal(message(v3), 'Unsupported key format');
    assert.equal(message(pkcs8), 'Unsupported key format');
    assert.equal(
      message(fidoEd25519),
      'Unsupported OpenSSH private key type: sk-ssh-ed25519@openssh.com',
    );
    assert.equal(message(`${ed25519Source}.pub`), 'parsed ssh-ed25519');
    assert.equal(message(`${ed25519Source}-cert.pub`), 'parsed ssh-ed25519-cert-v01@openssh.com');
  });

  test('fails a PPK v2 key that is not encrypted when given a passphrase', () => {
    assert.equal(
      message(byName('PuTTY PPK v2 RSA'), PASS),
      'PPK private key integrity check failed',
    );
  });
});

test("DEFAULT_IDENTITY_FILES are OpenSSH's default identities we can use, in its order", () => {
  const defaults = run('ssh', ['-G', '-F', '/dev/null', 'example.invalid'])
    .split('\n')
    .filter((line) => line.startsWith('identityfile '))
    .map((line) => basename(line.slice('identityfile '.length)));
  assert.deepEqual(
    defaults.filter((name) => DEFAULT_IDENTITY_FILES.includes(name)),
    [...DEFAULT_IDENTITY_FILES],
  );
  const others = defaults.filter((name) => !DEFAULT_IDENTITY_FILES.includes(name));
  for (const name of others) assert.match(name, /_sk$|xmss|dsa/, `${name} is left out`);
});
