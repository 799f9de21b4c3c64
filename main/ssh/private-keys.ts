import { type ParsedKey, utils } from 'ssh2';
import { fail, ok, type Failure, type Result } from '../core/failure.js';
import { sha256Fingerprint } from './host-key-fingerprint.js';

/*
 * Loading a private key file for ssh2, refusing by name what ssh2 cannot use. Pure: the caller
 * reads the file and passes its bytes in. Checked against keys made by ssh-keygen and puttygen in
 * test/ssh/private-keys.test.ts.
 *
 * The facts this module relies on (ssh2 1.17's utils.parseKey, lib/protocol/keyParser.js):
 * - It reads OpenSSH's own container (`openssh-key-v1`, plain or bcrypt-encrypted with any AES
 *   mode or 3des-cbc), the legacy PEM containers (`BEGIN RSA|DSA|EC PRIVATE KEY`, plain or
 *   `Proc-Type: 4,ENCRYPTED`) and PuTTY's PPK v2 for ssh-rsa and ssh-dss only.
 * - It cannot read PPK v1 or v3, PPK v2 ed25519/ECDSA keys, PKCS#8 (`BEGIN PRIVATE KEY`,
 *   `BEGIN ENCRYPTED PRIVATE KEY`), ssh.com keys, or FIDO (`sk-…@openssh.com`) keys: for all of
 *   these it says "Unsupported key format" or "Unsupported OpenSSH private key type: …", so we
 *   recognise them ourselves to name the format. An OpenSSH key encrypted with
 *   chacha20-poly1305@openssh.com passes its cipher check but fails with "Invalid initialization
 *   vector", whatever the passphrase, so we refuse it before trying.
 * - It parses public keys and certificates too (`isPrivateKey()` is false), so a `.pub` or
 *   `-cert.pub` file passed as an identity must be refused here.
 * - Without a passphrase an encrypted key fails with "Encrypted private OpenSSH key detected, but
 *   no passphrase given" (OpenSSH container), "Encrypted OpenSSH private key detected, but no
 *   passphrase given" (PEM) or "Encrypted PPK private key detected, but no passphrase given".
 * - A wrong passphrase fails with "OpenSSH key integrity check failed -- bad passphrase?" (CTR and
 *   CBC ciphers), "Unsupported state or unable to authenticate data" (the GCM ciphers, from
 *   OpenSSL), "Malformed OpenSSH private key. Bad passphrase?" (PEM) or "PPK private key integrity
 *   check failed -- bad passphrase?". A PEM key decrypted with a wrong passphrase could, rarely,
 *   still parse, so every key we return has just made a signature its own public key verifies.
 * - A passphrase given for an unencrypted PPK key makes its MAC check fail, so a passphrase is
 *   passed to ssh2 only for a key we know to be encrypted.
 */

/** A private key ready for ssh2's `privateKey` option. */
export interface LoadedKey {
  path: string;
  /** The key's type as ssh2 names it: `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`, … */
  type: string;
  key: ParsedKey;
  /** The public key's SHA256 fingerprint, as `ssh-keygen -lf` shows it. */
  fingerprint: string;
}

/**
 * The key files OpenSSH tries in ~/.ssh when no IdentityFile is configured, in its order
 * (readconf.c, fill_default_options), leaving out the FIDO (`_sk`), XMSS and DSA ones, which we
 * cannot use. `ssh -G` lists the full set.
 */
export const DEFAULT_IDENTITY_FILES: readonly string[] = ['id_rsa', 'id_ecdsa', 'id_ed25519'];

/**
 * Reads a private key file's bytes for ssh2. `passphrase` is used only if the key is encrypted;
 * an empty one counts as none. `envVar` names where a passphrase can come from, for the message.
 */
export function loadPrivateKey(
  path: string,
  data: Buffer,
  passphrase: string | undefined,
  envVar: string,
): Result<LoadedKey> {
  const file = inspectKeyFile(data.toString('utf8'));
  if (!file.usable) return fail({ kind: 'key-format', path, format: file.format });
  const given = passphrase === '' ? undefined : passphrase;
  const parsed = utils.parseKey(data, file.encrypted ? given : undefined);
  if (parsed instanceof Error) {
    return fail(explainParseError(parsed.message, path, file, given !== undefined, envVar));
  }
  if (!parsed.isPrivateKey()) {
    return fail({ kind: 'key-format', path, format: PUBLIC_KEY });
  }
  if (!signsAndVerifies(parsed)) {
    return fail(
      file.encrypted
        ? { kind: 'key-passphrase', path, wrong: true, envVar }
        : { kind: 'key-format', path, format: `a damaged ${file.container}` },
    );
  }
  return ok({
    path,
    type: parsed.type,
    key: parsed,
    fingerprint: sha256Fingerprint(parsed.getPublicSSH()),
  });
}

/**
 * Whether the key needs a passphrase before loadPrivateKey can load it: true exactly when
 * loading it without one fails with `key-passphrase`. False for keys we refuse anyway (an
 * encrypted PKCS#8, PPK v3 or FIDO key), so nobody is asked for a passphrase that cannot help.
 */
export function isEncryptedKey(data: Buffer): boolean {
  const result = loadPrivateKey('', data, undefined, '');
  return !result.ok && result.failure.kind === 'key-passphrase';
}

// ---------------------------------------------------------------------------------------------

const PUBLIC_KEY = 'public key (not a private key)';
const CERTIFICATE = 'OpenSSH certificate';
const UNRECOGNISED = 'an unrecognised';

/** The ciphers ssh2 can decrypt an OpenSSH-container key with (all `ssh -Q cipher` but chacha). */
const OPENSSH_KEY_CIPHERS = new Set([
  'aes128-ctr',
  'aes192-ctr',
  'aes256-ctr',
  'aes128-cbc',
  'aes192-cbc',
  'aes256-cbc',
  'aes128-gcm@openssh.com',
  'aes256-gcm@openssh.com',
  '3des-cbc',
]);

/** Key types ssh2 can sign with (keyParser.js, parseOpenSSHPrivKeys). */
const SSH2_KEY_TYPES = new Set([
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'ssh-rsa',
  'ssh-dss',
]);

type KeyFile =
  | { usable: true; container: 'OpenSSH' | 'PEM' | 'PuTTY PPK v2'; encrypted: boolean }
  | { usable: false; format: string };

function refuse(format: string): KeyFile {
  return { usable: false, format };
}

/** Recognises the container from its text, before ssh2 sees it. */
function inspectKeyFile(raw: string): KeyFile {
  const text = raw.trim();
  if (text.startsWith('-----BEGIN OPENSSH PRIVATE KEY-----')) return inspectOpenSsh(text);

  const pem = /^-----BEGIN ([A-Z0-9 ]+)-----/.exec(text);
  if (pem) {
    const label = pem[1] ?? '';
    if (/^(RSA|DSA|EC) PRIVATE KEY$/.test(label)) {
      return { usable: true, container: 'PEM', encrypted: /^Proc-Type:\s*4,ENCRYPTED/m.test(text) };
    }
    if (label === 'PRIVATE KEY' || label === 'ENCRYPTED PRIVATE KEY') return refuse('PKCS#8');
    if (/^(RSA |EC )?PUBLIC KEY$/.test(label)) return refuse(PUBLIC_KEY);
    return refuse(`PEM (${label})`);
  }

  const putty = /^PuTTY-User-Key-File-(\d+):[ \t]*(\S+)/.exec(text);
  if (putty) {
    const [, version, type = ''] = putty;
    if (version !== '2') return refuse(`PuTTY PPK v${version}`);
    if (type !== 'ssh-rsa' && type !== 'ssh-dss') return refuse(`PuTTY PPK v2 (${type})`);
    const encryption = /^Encryption:[ \t]*(\S+)/m.exec(text)?.[1] ?? 'none';
    return { usable: true, container: 'PuTTY PPK v2', encrypted: encryption !== 'none' };
  }

  if (text.startsWith('---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----'))
    return refuse('ssh.com (SECSH)');
  if (text.startsWith('---- BEGIN SSH2 PUBLIC KEY ----')) return refuse(PUBLIC_KEY);

  // One line of authorized_keys / .pub syntax, perhaps after options: `[options] type base64 …`.
  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  const oneLine = /(?:^|\s)((?:ssh|ecdsa|sk)-[\w.@-]+)\s+AAAA[A-Za-z0-9+/]*=*(?:\s|$)/.exec(
    firstLine,
  );
  if (oneLine) {
    return refuse(/-cert-v0[01]@openssh\.com$/.test(oneLine[1] ?? '') ? CERTIFICATE : PUBLIC_KEY);
  }
  return refuse(UNRECOGNISED);
}

/**
 * Reads the unencrypted head of an `openssh-key-v1` container (PROTOCOL.key): magic, cipher,
 * KDF, KDF options, key count, then the first public key, whose type tells a FIDO key apart
 * even when the private part is encrypted.
 */
function inspectOpenSsh(text: string): KeyFile {
  const body =
    /^-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----$/.exec(
      text,
    )?.[1];
  const damaged = refuse('a damaged OpenSSH');
  if (body === undefined || !/^[A-Za-z0-9+/=\s]*$/.test(body)) return damaged;
  const reader = new SshReader(Buffer.from(body.replace(/\s+/g, ''), 'base64'));
  if (reader.bytes(15)?.toString('latin1') !== 'openssh-key-v1\0') return damaged;
  const cipher = reader.string()?.toString('latin1');
  const kdf = reader.string()?.toString('latin1');
  const kdfOptions = reader.string();
  const count = reader.uint32();
  const publicKey = reader.string();
  if (!cipher || !kdf || !kdfOptions || count === undefined || count < 1 || !publicKey) {
    return damaged;
  }
  const type = new SshReader(publicKey).string()?.toString('latin1');
  if (!type) return damaged;
  if (type.startsWith('sk-')) return refuse(`FIDO security key (${type})`);
  if (!SSH2_KEY_TYPES.has(type)) return refuse(`OpenSSH (key type ${type})`);
  if (cipher === 'none') return { usable: true, container: 'OpenSSH', encrypted: false };
  if (!OPENSSH_KEY_CIPHERS.has(cipher)) return refuse(`OpenSSH (cipher ${cipher})`);
  if (kdf !== 'bcrypt') return refuse(`OpenSSH (key derivation ${kdf})`);
  return { usable: true, container: 'OpenSSH', encrypted: true };
}

function explainParseError(
  message: string,
  path: string,
  file: Extract<KeyFile, { usable: true }>,
  passphraseGiven: boolean,
  envVar: string,
): Failure {
  if (/no passphrase given/.test(message)) {
    return { kind: 'key-passphrase', path, wrong: false, envVar };
  }
  const pemCipher = /^Cipher \((.+)\) not supported/.exec(message)?.[1];
  if (pemCipher)
    return { kind: 'key-format', path, format: `PEM (cipher ${pemCipher.toUpperCase()})` };
  const curve = /^Unsupported private key EC OID: (.+)/.exec(message)?.[1];
  if (curve) return { kind: 'key-format', path, format: `PEM (EC curve ${curve})` };
  if (file.encrypted && passphraseGiven)
    return { kind: 'key-passphrase', path, wrong: true, envVar };
  return { kind: 'key-format', path, format: `a damaged ${file.container}` };
}

const PROBE = Buffer.from('prosody-active-users: does this key sign?');

/** Signs with the private half and checks the signature with the public half. */
function signsAndVerifies(key: ParsedKey): boolean {
  try {
    const signature: unknown = key.sign(PROBE);
    if (!Buffer.isBuffer(signature)) return false;
    return key.verify(PROBE, signature) === true;
  } catch {
    return false;
  }
}

/** Reads SSH wire-format fields (RFC 4251 §5), answering undefined past the end. */
class SshReader {
  private offset = 0;
  constructor(private readonly buffer: Buffer) {}

  bytes(length: number): Buffer | undefined {
    if (length < 0 || this.offset + length > this.buffer.length) return undefined;
    const value = this.buffer.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  uint32(): number | undefined {
    return this.bytes(4)?.readUInt32BE(0);
  }

  string(): Buffer | undefined {
    const length = this.uint32();
    return length === undefined ? undefined : this.bytes(length);
  }
}
