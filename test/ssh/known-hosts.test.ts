/*
 * known_hosts checking, held against OpenSSH itself: keys come from ssh-keygen, hashed files from
 * `ssh-keygen -H`, lookups are compared with `ssh-keygen -l -F`, fingerprints with `ssh-keygen -lf`,
 * and (as root) every verdict in the table is compared with what the real ssh client decides
 * against a real sshd holding the same host keys.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { Client, type ServerHostKeyAlgorithm } from 'ssh2';
import { sha256Fingerprint } from '../../main/ssh/host-key-fingerprint.js';
import {
  type HostKeyCheck,
  checkHostKey,
  findHostKeys,
  keyTypeOfBlob,
  knownHostKeyTypes,
  knownHostsLine,
  orderHostKeyAlgorithms,
} from '../../main/ssh/known-hosts.js';
import { type SshdInstance, startSshd } from '../support/sshd.js';

const dir = mkdtempSync(join(tmpdir(), 'pau-known-hosts-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let fileCount = 0;

function tempFile(content: string): string {
  const path = join(dir, `file-${++fileCount}`);
  writeFileSync(path, content);
  return path;
}

interface Key {
  /** The type as ssh-keygen writes it in the .pub file. */
  type: string;
  b64: string;
  blob: Buffer;
  pubPath?: string;
}

function keygen(type: 'ed25519' | 'ecdsa' | 'rsa', bits?: number): Key {
  const path = join(dir, `key-${++fileCount}`);
  execFileSync('ssh-keygen', [
    '-q',
    '-t',
    type,
    '-N',
    '',
    '-C',
    'test',
    '-f',
    path,
    ...(bits ? ['-b', String(bits)] : []),
  ]);
  const [keyType = '', b64 = ''] = readFileSync(`${path}.pub`, 'utf8').split(' ');
  return { type: keyType, b64, blob: Buffer.from(b64, 'base64'), pubPath: `${path}.pub` };
}

/** The keys a case may refer to; ed, ec and rsa are the server's. */
interface Keys {
  ed: Key;
  ec: Key;
  rsa: Key;
  ed2: Key;
  rsa2: Key;
  ec384: Key;
}

const local: Keys = {
  ed: keygen('ed25519'),
  ec: keygen('ecdsa', 256),
  rsa: keygen('rsa', 2048),
  ed2: keygen('ed25519'),
  rsa2: keygen('rsa', 2048),
  ec384: keygen('ecdsa', 384),
};

const kl = (k: Key) => `${k.type} ${k.b64}`;

/** The name ssh looks up: lowercased, `[host]:port` unless the port is 22. */
const hostfileName = (host: string, port: number) =>
  port === 22 ? host.toLowerCase() : `[${host.toLowerCase()}]:${port}`;

/** Hashes a plain known_hosts line with `ssh-keygen -H`. */
function hashWithSshKeygen(line: string): string {
  const path = tempFile(`${line}\n`);
  execFileSync('ssh-keygen', ['-H', '-f', path], { stdio: 'ignore' });
  return readFileSync(path, 'utf8').trim();
}

/** A blob with one SSH string field rewritten (or bytes appended). */
function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

function rsaBlob(bits: number): Buffer {
  const jwk = generateKeyPairSync('rsa', { modulusLength: bits }).publicKey.export({
    format: 'jwk',
  });
  const mpint = (b64url: string) => {
    const b = Buffer.from(b64url, 'base64url');
    return sshString(b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
  };
  return Buffer.concat([sshString(Buffer.from('ssh-rsa')), mpint(jwk.e!), mpint(jwk.n!)]);
}

function craftedHash(name: string, saltBytes: number, magic = '|1|'): string {
  const salt = Buffer.alloc(saltBytes, 7);
  return `${magic}${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

// ---------------------------------------------------------------------------------------------
// Fingerprints

test('sha256Fingerprint prints what ssh-keygen -lf prints, for every key type', () => {
  for (const key of [local.ed, local.ec, local.rsa, local.ec384]) {
    const printed = execFileSync('ssh-keygen', ['-lf', key.pubPath!], { encoding: 'utf8' }).split(
      ' ',
    )[1];
    assert.equal(sha256Fingerprint(key.blob), printed, key.type);
  }
});

test('keyTypeOfBlob reads the type inside the blob and refuses what is not a key', () => {
  assert.equal(keyTypeOfBlob(local.ed.blob), 'ssh-ed25519');
  assert.equal(keyTypeOfBlob(local.ec384.blob), 'ecdsa-sha2-nistp384');
  assert.equal(keyTypeOfBlob(local.rsa.blob), 'ssh-rsa');
  assert.equal(keyTypeOfBlob(Buffer.concat([local.ed.blob, Buffer.from([0])])), undefined);
  assert.equal(keyTypeOfBlob(local.ed.blob.subarray(0, 40)), undefined);
  assert.equal(keyTypeOfBlob(Buffer.from('garbage')), undefined);
});

// ---------------------------------------------------------------------------------------------
// Which lines apply to a host, compared with `ssh-keygen -l -F`

interface Found {
  line: number;
  marker: 'revoked' | 'cert-authority' | undefined;
  fingerprint: string;
}

function sshKeygenFind(text: string, name: string): Found[] {
  const path = tempFile(text);
  let out: string;
  try {
    out = execFileSync('ssh-keygen', ['-l', '-F', name, '-f', path], { encoding: 'utf8' });
  } catch (e) {
    if ((e as { status?: number }).status === 1) return []; // not found
    throw e;
  }
  const lines = out.split('\n');
  const found: Found[] = [];
  lines.forEach((l, i) => {
    const m = /^# Host .* found: line (\d+) ?(REVOKED|CA)?\s*$/.exec(l);
    if (!m) return;
    const marker = m[2] === 'REVOKED' ? 'revoked' : m[2] === 'CA' ? 'cert-authority' : undefined;
    found.push({ line: Number(m[1]), marker, fingerprint: lines[i + 1]!.split(' ')[2]! });
  });
  return found;
}

const lookupCases: Array<{
  name: string;
  lines: string[];
  host: string;
  port: number;
  expect: number[];
}> = [
  {
    name: 'a plain name',
    lines: [`web.example.com ${kl(local.ed)}`],
    host: 'web.example.com',
    port: 22,
    expect: [1],
  },
  {
    name: 'the host is lowercased',
    lines: [`web.example.com ${kl(local.ed)}`],
    host: 'WEB.Example.com',
    port: 22,
    expect: [1],
  },
  {
    name: 'patterns are compared in lowercase',
    lines: [`Web.EXAMPLE.com ${kl(local.ed)}`],
    host: 'web.example.com',
    port: 22,
    expect: [1],
  },
  {
    name: 'a comma-separated list',
    lines: [`a.example,web.example.com,10.0.0.1 ${kl(local.ed)}`],
    host: 'web.example.com',
    port: 22,
    expect: [1],
  },
  {
    name: '[host]:port for another port',
    lines: [`[web.example.com]:2222 ${kl(local.ed)}`, `web.example.com ${kl(local.rsa)}`],
    host: 'web.example.com',
    port: 2222,
    expect: [1],
  },
  {
    name: 'a [host]:port line is not the port-22 line',
    lines: [`[web.example.com]:22 ${kl(local.ed)}`, `[web.example.com]:2222 ${kl(local.ed)}`],
    host: 'web.example.com',
    port: 22,
    expect: [],
  },
  {
    name: 'the * wildcard',
    lines: [`*.example.com ${kl(local.ed)}`, `* ${kl(local.rsa)}`, `*.example.org ${kl(local.ec)}`],
    host: 'web.example.com',
    port: 22,
    expect: [1, 2],
  },
  {
    name: 'the ? wildcard',
    lines: [`we?.example.com ${kl(local.ed)}`, `w?.example.com ${kl(local.rsa)}`],
    host: 'web.example.com',
    port: 22,
    expect: [1],
  },
  {
    name: 'a wildcard port',
    lines: [`[web.example.com]:* ${kl(local.ed)}`],
    host: 'web.example.com',
    port: 2200,
    expect: [1],
  },
  {
    name: 'a matching negation vetoes the whole line',
    lines: [
      `*.example.com,!web.example.com ${kl(local.ed)}`,
      `!web.example.com,*.example.com ${kl(local.rsa)}`,
      `*.example.com,!db.example.com ${kl(local.ec)}`,
    ],
    host: 'web.example.com',
    port: 22,
    expect: [3],
  },
  {
    name: 'a negation alone matches nothing',
    lines: [`!db.example.com ${kl(local.ed)}`],
    host: 'web.example.com',
    port: 22,
    expect: [],
  },
  {
    name: 'comments, blank lines and leading blanks',
    lines: [
      '# web.example.com',
      '',
      '  ',
      `  \tweb.example.com ${kl(local.ed)} a comment`,
      `#web.example.com ${kl(local.rsa)}`,
    ],
    host: 'web.example.com',
    port: 22,
    expect: [4],
  },
  {
    name: 'marker lines',
    lines: [
      `@revoked * ${kl(local.ed2)}`,
      `@cert-authority *.example.com ${kl(local.rsa)}`,
      `@revoked other.example ${kl(local.ec)}`,
      `web.example.com ${kl(local.ed)}`,
    ],
    host: 'web.example.com',
    port: 22,
    expect: [1, 2, 4],
  },
  {
    name: 'lines whose key does not parse are skipped',
    lines: [
      `web.example.com ssh-ed25519`,
      `web.example.com ssh-rsa ${local.ed.b64}`,
      `web.example.com ssh-ed25519 AAAA`,
      `web.example.com ${kl(local.ed)}`,
    ],
    host: 'web.example.com',
    port: 22,
    expect: [4],
  },
  {
    name: 'hashed names',
    lines: [
      hashWithSshKeygen(`web.example.com ${kl(local.ed)}`),
      hashWithSshKeygen(`db.example.com ${kl(local.ed)}`),
      hashWithSshKeygen(`[web.example.com]:2222 ${kl(local.rsa)}`),
    ],
    host: 'web.example.com',
    port: 22,
    expect: [1],
  },
  {
    name: 'a hashed [host]:port',
    lines: [
      hashWithSshKeygen(`web.example.com ${kl(local.ed)}`),
      hashWithSshKeygen(`[web.example.com]:2222 ${kl(local.rsa)}`),
    ],
    host: 'Web.Example.com',
    port: 2222,
    expect: [2],
  },
];

for (const c of lookupCases) {
  test(`findHostKeys agrees with ssh-keygen -F: ${c.name}`, () => {
    const text = c.lines.join('\n') + '\n';
    const ours = findHostKeys(text, c.host, c.port).map(({ line, marker, fingerprint }) => ({
      line,
      marker,
      fingerprint,
    }));
    assert.deepEqual(
      ours.map((f) => f.line),
      c.expect,
    );
    assert.deepEqual(ours, sshKeygenFind(text, hostfileName(c.host, c.port)));
  });
}

test('ssh-keygen -H hashes each name of a list as |1|base64(20-byte salt)|base64(HMAC-SHA1)', () => {
  const hashed = hashWithSshKeygen(
    `web.example.com,[web.example.com]:2222 ${kl(local.ed)} comment`,
  ).split('\n');
  assert.equal(hashed.length, 2);
  for (const [i, name] of ['web.example.com', '[web.example.com]:2222'].entries()) {
    const m = /^\|1\|([A-Za-z0-9+/=]{28})\|([A-Za-z0-9+/=]{28}) ssh-ed25519 \S+ comment$/.exec(
      hashed[i]!,
    );
    assert.ok(m, hashed[i]);
    const salt = Buffer.from(m[1]!, 'base64');
    assert.equal(salt.length, 20);
    assert.equal(createHmac('sha1', salt).update(name).digest('base64'), m[2]);
    assert.equal(
      checkHostKey(hashed[i]!, 'web.example.com', i === 0 ? 22 : 2222, local.ed).status,
      'match',
    );
  }
});

// ---------------------------------------------------------------------------------------------
// Verdicts. Each case is checked here with local keys, and (as root) against ssh and sshd.

interface VerdictCase {
  name: string;
  /** The known_hosts lines; `port` is the server's port. */
  lines: (k: Keys, port: number) => string[];
  /** Default 127.0.0.1 on the server's port; other names are given to ssh as HostKeyAlias. */
  host?: string;
  port?: number;
  presented: 'ed' | 'ec' | 'rsa';
  /** The negotiated algorithm: ssh's HostKeyAlgorithms, and the type checkHostKey is given. */
  algorithm?: string;
  eol?: string;
  expect: HostKeyCheck;
  /** What ssh 9.2 decides where we deliberately differ. */
  sshDecides?: HostKeyCheck['status'];
}

const here = (port: number) => `[127.0.0.1]:${port}`;

const verdictCases: VerdictCase[] = [
  {
    name: 'no lines at all: unknown',
    lines: () => [],
    presented: 'ed',
    expect: { status: 'unknown' },
  },
  {
    name: 'a [host]:port line with the key: match',
    lines: (k, p) => [`${here(p)} ${kl(k.ed)}`],
    presented: 'ed',
    expect: { status: 'match', line: 1 },
  },
  {
    name: 'an ECDSA key matches its line',
    lines: (k, p) => [`${here(p)} ${kl(k.ed)}`, `${here(p)} ${kl(k.ec)}`],
    presented: 'ec',
    expect: { status: 'match', line: 2 },
  },
  {
    name: 'a plain name on port 22',
    host: 'web.example.com',
    port: 22,
    lines: (k) => [`web.example.com ${kl(k.ed)}`],
    presented: 'ed',
    expect: { status: 'match', line: 1 },
  },
  {
    name: 'the host name is compared in lowercase',
    host: 'Web.Example.COM',
    port: 22,
    lines: (k) => [`WEB.example.com ${kl(k.ed)}`],
    presented: 'ed',
    expect: { status: 'match', line: 1 },
  },
  {
    name: 'a name in a comma-separated list',
    host: 'web.example.com',
    port: 22,
    lines: (k) => [`db.example.com,web.example.com ${kl(k.ed)}`],
    presented: 'ed',
    expect: { status: 'match', line: 1 },
  },
  {
    name: 'a wildcard line',
    host: 'web.example.com',
    port: 22,
    lines: (k) => [`*.example.com ${kl(k.ed)}`],
    presented: 'ed',
    expect: { status: 'match', line: 1 },
  },
  {
    name: 'a ? wildcard line',
    host: 'web.example.com',
    port: 22,
    lines: (k) => [`we?.example.co? ${kl(k.ed)}`],
    presented: 'ed',
    expect: { status: 'match', line: 1 },
  },
  {
    name: 'a negated name vetoes the line',
    host: 'web.example.com',
    port: 22,
    lines: (k) => [`*.example.com,!web.example.com ${kl(k.ed2)}`],
    presented: 'ed',
    expect: { status: 'unknown' },
  },
  {
    name: 'a negation alone matches nothing',
    host: 'web.example.com',
    port: 22,
    lines: (k) => [`!db.example.com ${kl(k.ed2)}`],
    presented: 'ed',
    expect: { status: 'unknown' },
  },
  {
    name: 'a hashed name (ssh-keygen -H)',
    host: 'web.example.com',
    port: 22,
    lines: (k) => [hashWithSshKeygen(`web.example.com ${kl(k.ed)}`)],
    presented: 'ed',
    expect: { status: 'match', line: 1 },
  },
  {
    name: 'a hashed [host]:port (ssh-keygen -H)',
    lines: (k, p) => [
      hashWithSshKeygen(`db.example.com ${kl(k.ed2)}`),
      hashWithSshKeygen(`${here(p)} ${kl(k.ed)}`),
    ],
    presented: 'ed',
    expect: { status: 'match', line: 2 },
  },
  {
    name: 'a [host]:port line does not apply to port 22',
    host: 'web.example.com',
    port: 22,
    lines: (k) => [`[web.example.com]:2222 ${kl(k.ed2)}`],
    presented: 'ed',
    expect: { status: 'unknown' },
  },
  {
    name: 'another key of the same type: changed',
    lines: (k, p) => [`${here(p)} ${kl(k.ed2)}`],
    presented: 'ed',
    expect: { status: 'changed', knownTypes: ['ssh-ed25519'], line: 1 },
  },
  {
    name: 'keys of other types only: changed, as ssh says (it names the last line)',
    lines: (k, p) => [`${here(p)} ${kl(k.rsa)}`, '# x', `${here(p)} ${kl(k.ec)}`],
    presented: 'ed',
    expect: { status: 'changed', knownTypes: ['ssh-rsa', 'ecdsa-sha2-nistp256'], line: 3 },
  },
  {
    name: 'a matching line anywhere wins over other keys',
    lines: (k, p) => [
      `${here(p)} ${kl(k.ed2)}`,
      `${here(p)} ${kl(k.rsa)}`,
      `${here(p)} ${kl(k.ed)}`,
    ],
    presented: 'ed',
    expect: { status: 'match', line: 3 },
  },
  {
    name: 'an ECDSA key of another curve: changed',
    lines: (k, p) => [`${here(p)} ${kl(k.ec384)}`],
    presented: 'ec',
    expect: { status: 'changed', knownTypes: ['ecdsa-sha2-nistp384'], line: 1 },
  },
  {
    name: 'rsa-sha2-256 negotiated, ssh-rsa line: match',
    lines: (k, p) => [`${here(p)} ${kl(k.rsa)}`],
    presented: 'rsa',
    algorithm: 'rsa-sha2-256',
    expect: { status: 'match', line: 1 },
  },
  {
    name: 'rsa-sha2-512 negotiated, another RSA key: changed',
    lines: (k, p) => [`${here(p)} ${kl(k.rsa2)}`],
    presented: 'rsa',
    algorithm: 'rsa-sha2-512',
    expect: { status: 'changed', knownTypes: ['ssh-rsa'], line: 1 },
  },
  {
    name: 'a line that names the key rsa-sha2-512 still holds an ssh-rsa key',
    lines: (k, p) => [`${here(p)} rsa-sha2-512 ${k.rsa.b64}`],
    presented: 'rsa',
    expect: { status: 'match', line: 1 },
  },
  {
    name: 'a port-less line vouches for another port when that port is unknown',
    lines: (k) => [`127.0.0.1 ${kl(k.ed)}`],
    presented: 'ed',
    expect: { status: 'match', line: 1 },
  },
  {
    name: 'a port-less line with another key does not accuse another port',
    lines: (k) => [`127.0.0.1 ${kl(k.ed2)}`],
    presented: 'ed',
    expect: { status: 'unknown' },
  },
  {
    name: 'the [host]:port lines decide before the port-less ones',
    lines: (k, p) => [`${here(p)} ${kl(k.rsa)}`, `127.0.0.1 ${kl(k.ed)}`],
    presented: 'ed',
    expect: { status: 'changed', knownTypes: ['ssh-rsa'], line: 1 },
  },
  {
    name: '@revoked wins over a matching line',
    lines: (k, p) => [`${here(p)} ${kl(k.ed)}`, `@revoked * ${kl(k.ed)}`],
    presented: 'ed',
    expect: { status: 'revoked', line: 2 },
  },
  {
    name: '@revoked alone',
    lines: (k, p) => [`@revoked ${here(p)} ${kl(k.ed)}`],
    presented: 'ed',
    expect: { status: 'revoked', line: 1 },
  },
  {
    name: '@revoked for another host does not apply',
    lines: (k, p) => [`@revoked other.example ${kl(k.ed)}`, `${here(p)} ${kl(k.ed)}`],
    presented: 'ed',
    expect: { status: 'match', line: 2 },
  },
  {
    name: '@revoked with another key is no objection',
    lines: (k, p) => [`@revoked * ${kl(k.ed2)}`, `${here(p)} ${kl(k.ed)}`],
    presented: 'ed',
    expect: { status: 'match', line: 2 },
  },
  {
    name: '@revoked lines are not known keys',
    lines: (k, p) => [`@revoked ${here(p)} ${kl(k.ed2)}`],
    presented: 'ed',
    expect: { status: 'unknown' },
  },
  {
    name: '@cert-authority lines are not host keys',
    lines: (k, p) => [`@cert-authority ${here(p)} ${kl(k.rsa)}`],
    presented: 'ed',
    expect: { status: 'unknown' },
  },
  {
    name: 'a key revoked under the port-less name stays revoked on other ports (ssh goes on as unknown)',
    lines: (k) => [`@revoked 127.0.0.1 ${kl(k.ed)}`],
    presented: 'ed',
    expect: { status: 'revoked', line: 1 },
    sshDecides: 'unknown',
  },
  {
    name: 'comments, blank lines, leading blanks and trailing comments',
    lines: (k, p) => [
      '# known hosts',
      '',
      '   ',
      '\t# indented',
      ` \t${here(p)}\t${kl(k.ed)}  a comment`,
    ],
    presented: 'ed',
    expect: { status: 'match', line: 5 },
  },
  {
    name: 'CRLF line endings',
    lines: (k, p) => ['# windows', `${here(p)} ${kl(k.ed)}`],
    eol: '\r\n',
    presented: 'ed',
    expect: { status: 'match', line: 2 },
  },
  // Lines ssh ignores. With the server's own key in them, reading them would wrongly say match.
  {
    name: 'ignored: no key',
    lines: (_k, p) => [`${here(p)} ssh-ed25519`, here(p)],
    presented: 'ed',
    expect: { status: 'unknown' },
  },
  {
    name: 'ignored: a character that is not base64',
    lines: (k, p) => [`${here(p)} ssh-ed25519 ${k.ed.b64.slice(0, 20)}!${k.ed.b64.slice(20)}`],
    presented: 'ed',
    expect: { status: 'unknown' },
  },
  {
    name: 'ignored: a comment glued to the key',
    lines: (k, p) => [`${here(p)} ssh-ed25519 ${k.ed.b64}#x`],
    presented: 'ed',
    expect: { status: 'unknown' },
  },
  {
    name: 'ignored: base64 with stray bits',
    lines: (k, p) => [`${here(p)} ${k.ec.type} ${strayBits(k.ec.b64)}`],
    presented: 'ec',
    expect: { status: 'unknown' },
  },
  {
    name: 'ignored: the type does not name the blob',
    lines: (k, p) => [`${here(p)} ssh-rsa ${k.ed.b64}`],
    presented: 'ed',
    expect: { status: 'unknown' },
  },
  {
    name: 'ignored: the ECDSA curve does not match the type',
    lines: (k, p) => [`${here(p)} ecdsa-sha2-nistp384 ${k.ec.b64}`],
    presented: 'ec',
    expect: { status: 'unknown' },
  },
  {
    name: 'ignored: a short type name',
    lines: (k, p) => [`${here(p)} ED25519 ${k.ed.b64}`],
    presented: 'ed',
    expect: { status: 'unknown' },
  },
  {
    name: 'ignored: bytes after the key',
    lines: (k, p) => [
      `${here(p)} ssh-ed25519 ${Buffer.concat([k.ed.blob, Buffer.from('xy')]).toString('base64')}`,
    ],
    presented: 'ed',
    expect: { status: 'unknown' },
  },
  {
    name: 'ignored: a truncated key',
    lines: (k, p) => [`${here(p)} ssh-ed25519 ${k.ed.blob.subarray(0, 40).toString('base64')}`],
    presented: 'ed',
    expect: { status: 'unknown' },
  },
  {
    name: 'ignored: an ECDSA point off the curve',
    lines: (k, p) => [`${here(p)} ${k.ec.type} ${offCurve(k.ec.blob).toString('base64')}`],
    presented: 'ec',
    expect: { status: 'unknown' },
  },
  {
    name: 'ignored: an RSA modulus under 1024 bits',
    lines: (_k, p) => [`${here(p)} ssh-rsa ${rsaBlob(768).toString('base64')}`],
    presented: 'rsa',
    expect: { status: 'unknown' },
  },
  {
    name: 'ignored: an unknown marker',
    lines: (k, p) => [`@trusted ${here(p)} ${kl(k.ed)}`],
    presented: 'ed',
    expect: { status: 'unknown' },
  },
  {
    name: 'ignored: two markers',
    lines: (k, p) => [`@revoked @revoked ${here(p)} ${kl(k.ed)}`, `${here(p)} ${kl(k.ed)}`],
    presented: 'ed',
    expect: { status: 'match', line: 2 },
  },
  {
    name: 'ignored: a marker ended by a tab in a line with spaces',
    lines: (k, p) => [`@revoked\t${here(p)} ${kl(k.ed)}`, `${here(p)} ${kl(k.ed)}`],
    presented: 'ed',
    expect: { status: 'match', line: 2 },
  },
  {
    name: 'a marker ended by a tab in a line without spaces',
    lines: (k, p) => [`@revoked\t${here(p)}\t${k.ed.type}\t${k.ed.b64}`, `${here(p)} ${kl(k.ed)}`],
    presented: 'ed',
    expect: { status: 'revoked', line: 1 },
  },
  {
    name: 'a hand-made hash with a 20-byte salt',
    host: 'web.example.com',
    port: 22,
    lines: (k) => [`${craftedHash('web.example.com', 20)} ${kl(k.ed)}`],
    presented: 'ed',
    expect: { status: 'match', line: 1 },
  },
  {
    name: 'ignored: a hash with a 19-byte salt',
    host: 'web.example.com',
    port: 22,
    lines: (k) => [`${craftedHash('web.example.com', 19)} ${kl(k.ed)}`],
    presented: 'ed',
    expect: { status: 'unknown' },
  },
  {
    name: 'ignored: a hash of another kind than |1|',
    host: 'web.example.com',
    port: 22,
    lines: (k) => [`${craftedHash('web.example.com', 20, '|2|')} ${kl(k.ed)}`],
    presented: 'ed',
    expect: { status: 'unknown' },
  },
  {
    name: 'a hash cannot be part of a list',
    host: 'web.example.com',
    port: 22,
    lines: (k) => [`${craftedHash('web.example.com', 20)},db.example.com ${kl(k.ed)}`],
    presented: 'ed',
    expect: { status: 'unknown' },
  },
];

/** The same base64 with the unused low bits of its last character set. */
function strayBits(b64: string): string {
  const m = /([A-Za-z0-9+/])(=+)$/.exec(b64);
  assert.ok(m, 'needs padding');
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const last = alphabet[alphabet.indexOf(m[1]!) | 1]!;
  return b64.slice(0, m.index) + last + m[2];
}

function offCurve(blob: Buffer): Buffer {
  const copy = Buffer.from(blob);
  copy[copy.length - 1]! ^= 1;
  return copy;
}

const ALGORITHM = { ed: 'ssh-ed25519', ec: 'ecdsa-sha2-nistp256', rsa: 'rsa-sha2-512' } as const;

function knownHostsText(c: VerdictCase, keys: Keys, port: number): string {
  const lines = c.lines(keys, port);
  return lines.map((l) => l + (c.eol ?? '\n')).join('');
}

function verdict(c: VerdictCase, keys: Keys, serverPort: number): HostKeyCheck {
  const key = keys[c.presented];
  return checkHostKey(
    knownHostsText(c, keys, serverPort),
    c.host ?? '127.0.0.1',
    c.port ?? serverPort,
    {
      type: c.algorithm ?? ALGORITHM[c.presented],
      blob: key.blob,
    },
  );
}

for (const c of verdictCases) {
  test(`checkHostKey: ${c.name}`, () => {
    assert.deepEqual(verdict(c, local, 2222), c.expect);
  });
}

// ---------------------------------------------------------------------------------------------
// Writing lines

const hostNames = fc.oneof(
  fc.domain().map((d) => d.replace(/[aeiou]/g, (v) => v.toUpperCase())),
  fc.ipV4(),
  fc.ipV6(),
);

test('a line from knownHostsLine makes its own key match, hashed or not', () => {
  fc.assert(
    fc.property(
      hostNames,
      fc.oneof(fc.constant(22), fc.integer({ min: 1, max: 65535 })),
      fc.constantFrom(local.ed, local.ec, local.rsa, local.ec384),
      fc.boolean(),
      (host, port, key, hash) => {
        const line = knownHostsLine(host, port, key, { hash });
        assert.deepEqual(checkHostKey(line + '\n', host, port, key), { status: 'match', line: 1 });
        const other = key === local.ed ? local.ed2 : local.ed;
        assert.equal(checkHostKey(line, host, port, other).status, 'changed');
      },
    ),
  );
});

test('ssh-keygen -F finds the lines knownHostsLine writes, plain and hashed', () => {
  const samples: Array<[string, number]> = [
    ['Web.Example.com', 22],
    ['web.example.com', 2222],
    ['10.1.2.3', 22],
    ['2001:db8::1', 22],
    ['2001:db8::1', 830],
  ];
  for (const [host, port] of samples) {
    for (const hash of [false, true]) {
      const text = `${knownHostsLine(host, port, local.rsa, { hash })}\n`;
      assert.deepEqual(sshKeygenFind(text, hostfileName(host, port)), [
        { line: 1, marker: undefined, fingerprint: sha256Fingerprint(local.rsa.blob) },
      ]);
    }
  }
});

test('knownHostsLine writes what ssh writes: [host]:port off port 22, the blob’s own type', () => {
  assert.equal(knownHostsLine('Web.Example.com', 22, local.ed), `web.example.com ${kl(local.ed)}`);
  assert.equal(
    knownHostsLine('web.example.com', 2222, local.rsa),
    `[web.example.com]:2222 ssh-rsa ${local.rsa.b64}`,
  );
  const salt = Buffer.alloc(20, 1);
  const expected = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update('[web.example.com]:2222').digest('base64')}`;
  assert.equal(
    knownHostsLine('web.example.com', 2222, local.ed, { hash: true, salt }),
    `${expected} ${kl(local.ed)}`,
  );
});

test('knownHostsLine refuses names that would read back as patterns unless hashed', () => {
  assert.throws(() => knownHostsLine('*.example.com', 22, local.ed), RangeError);
  assert.throws(() => knownHostsLine('a,b', 22, local.ed), RangeError);
  assert.throws(() => knownHostsLine('!a', 22, local.ed), RangeError);
  assert.throws(() => knownHostsLine('a b', 22, local.ed, { hash: true }), RangeError);
  assert.throws(() => knownHostsLine('', 22, local.ed, { hash: true }), RangeError);
  assert.throws(() => knownHostsLine('a', 22, { blob: Buffer.from('junk') }), TypeError);
  const hashed = knownHostsLine('*.example.com', 22, local.ed, { hash: true });
  assert.equal(checkHostKey(hashed, '*.example.com', 22, local.ed).status, 'match');
  assert.equal(checkHostKey(hashed, 'web.example.com', 22, local.ed).status, 'unknown');
});

// ---------------------------------------------------------------------------------------------
// Choosing the host key algorithm

test('knownHostKeyTypes lists the plain keys for [host]:port, else for the bare name', () => {
  const text = [
    `[db.example.com]:2222 ${kl(local.rsa)}`,
    `db.example.com ${kl(local.ed)}`,
    `db.example.com,web.example.com ${kl(local.ec)}`,
    `@revoked * ${kl(local.ed2)}`,
    `@cert-authority * ${kl(local.rsa2)}`,
    `db.example.com ${kl(local.ed2)}`,
  ].join('\n');
  assert.deepEqual(knownHostKeyTypes(text, 'db.example.com', 2222), ['ssh-rsa']);
  assert.deepEqual(knownHostKeyTypes(text, 'db.example.com', 22), [
    'ssh-ed25519',
    'ecdsa-sha2-nistp256',
  ]);
  assert.deepEqual(knownHostKeyTypes(text, 'web.example.com', 2200), ['ecdsa-sha2-nistp256']);
  assert.deepEqual(knownHostKeyTypes(text, 'other.example', 22), []);
});

const SSH2_DEFAULT_HOST_KEY_ALGORITHMS: ServerHostKeyAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

test('orderHostKeyAlgorithms puts the algorithms of known key types first, in order', () => {
  assert.deepEqual(orderHostKeyAlgorithms(SSH2_DEFAULT_HOST_KEY_ALGORITHMS, ['ssh-rsa']), [
    'rsa-sha2-512',
    'rsa-sha2-256',
    'ssh-rsa',
    'ssh-ed25519',
    'ecdsa-sha2-nistp256',
    'ecdsa-sha2-nistp384',
    'ecdsa-sha2-nistp521',
  ]);
  assert.deepEqual(
    orderHostKeyAlgorithms(SSH2_DEFAULT_HOST_KEY_ALGORITHMS, [
      'ecdsa-sha2-nistp384',
      'ssh-ed25519',
    ]).slice(0, 2),
    ['ssh-ed25519', 'ecdsa-sha2-nistp384'],
  );
  assert.deepEqual(
    orderHostKeyAlgorithms(SSH2_DEFAULT_HOST_KEY_ALGORITHMS, []),
    SSH2_DEFAULT_HOST_KEY_ALGORITHMS,
  );
});

// ---------------------------------------------------------------------------------------------
// Against the real ssh client and sshd (root only)

const canRunSshd =
  process.getuid?.() === 0 && existsSync('/usr/sbin/sshd') && existsSync('/usr/bin/ssh');

interface SshOutcome {
  status: HostKeyCheck['status'];
  line?: number;
  output: string;
}

/** What ssh (StrictHostKeyChecking=yes) makes of the server's key with this known_hosts text. */
function sshVerdict(
  sshd: SshdInstance,
  text: string,
  algorithm: string,
  alias?: string,
): Promise<SshOutcome> {
  const file = tempFile(text);
  const args = [
    '-v',
    '-F',
    '/dev/null',
    '-p',
    String(sshd.port),
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'CheckHostIP=no',
    '-o',
    `UserKnownHostsFile=${file}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'UpdateHostKeys=no',
    '-o',
    'NoHostAuthenticationForLocalhost=no',
    '-o',
    `HostKeyAlgorithms=${algorithm}`,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'IdentityFile=/dev/null',
    '-o',
    'ConnectTimeout=10',
    ...(alias ? ['-o', `HostKeyAlias=${alias}`] : []),
    'nobody@127.0.0.1',
    'true',
  ];
  return new Promise((resolve) => {
    execFile('ssh', args, { encoding: 'utf8', timeout: 20_000 }, (_error, stdout, stderr) => {
      const output = stdout + stderr;
      const fileLine = (re: RegExp) => {
        const m = re.exec(output);
        return m ? Number(m[1]) : undefined;
      };
      const esc = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      if (/No \S+ host key is known for/.test(output)) resolve({ status: 'unknown', output });
      else if (/REVOKED HOST KEY DETECTED/.test(output)) resolve({ status: 'revoked', output });
      else if (/Offending \S+ key in /.test(output)) {
        resolve({
          status: 'changed',
          line: fileLine(new RegExp(`Offending \\S+ key in ${esc}:(\\d+)`)),
          output,
        });
      } else if (/Permission denied/.test(output)) {
        resolve({
          status: 'match',
          line: fileLine(new RegExp(`Found key in ${esc}:(\\d+)`)),
          output,
        });
      } else resolve({ status: 'unknown', output: `UNCLASSIFIED\n${output}` });
    });
  });
}

async function inBatches<T, R>(
  items: T[],
  size: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size)
    results.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return results;
}

describe(
  'against OpenSSH’s own ssh client and sshd',
  { skip: !canRunSshd && 'needs root, sshd and ssh' },
  () => {
    let sshd: SshdInstance;
    let server: Keys;

    before(async () => {
      sshd = await startSshd({ passwordAuth: false });
      const byType = (t: string): Key => {
        const hostKey = sshd.hostKeys.find((k) => k.type === t)!;
        return { type: hostKey.type, b64: hostKey.blob.toString('base64'), blob: hostKey.blob };
      };
      server = {
        ...local,
        ed: byType('ssh-ed25519'),
        ec: byType('ecdsa-sha2-nistp256'),
        rsa: byType('ssh-rsa'),
      };
    });
    after(() => sshd?.stop());

    test('ssh reaches the same verdict as checkHostKey in every case of the table', async () => {
      const outcomes = await inBatches(verdictCases, 8, async (c) => {
        const port = c.port ?? sshd.port;
        const host = c.host ?? '127.0.0.1';
        // ssh looks the alias up verbatim (no port, no fallback); without one, [127.0.0.1]:port.
        const alias = c.host ? (port === 22 ? host : `[${host}]:${port}`) : undefined;
        const text = knownHostsText(c, server, sshd.port);
        const ssh = await sshVerdict(sshd, text, c.algorithm ?? ALGORITHM[c.presented], alias);
        return { c, ssh, ours: verdict(c, server, sshd.port) };
      });
      const disagreements: string[] = [];
      for (const { c, ssh, ours } of outcomes) {
        assert.deepEqual(ours, c.expect, c.name);
        const want = c.sshDecides ?? ours.status;
        const wantLine =
          !c.sshDecides && (want === 'match' || want === 'changed') ? lineOf(ours) : undefined;
        if (ssh.status !== want || (wantLine !== undefined && ssh.line !== wantLine)) {
          disagreements.push(`${c.name}: ssh says ${ssh.status}:${ssh.line}\n${ssh.output}`);
        }
        if (c.sshDecides && !/REVOKED HOST KEY DETECTED/.test(ssh.output)) {
          disagreements.push(`${c.name}: ssh did not warn about the revoked key\n${ssh.output}`);
        }
      }
      assert.deepEqual(disagreements, []);
    });

    test('ssh accepts a hashed line from knownHostsLine', async () => {
      const key = server.ed;
      const text = `${knownHostsLine('127.0.0.1', sshd.port, key, { hash: true })}\n`;
      assert.equal((await sshVerdict(sshd, text, 'ssh-ed25519')).status, 'match');
    });

    test('with the known key types first, ssh2 gets the key we know instead of a "changed" one', async () => {
      const text = `${knownHostsLine('127.0.0.1', sshd.port, server.rsa)}\n`;
      const connectWith = (serverHostKey?: ServerHostKeyAlgorithm[]) =>
        new Promise<HostKeyCheck>((resolve) => {
          let seen: HostKeyCheck = { status: 'unknown' };
          const client = new Client();
          client.on('error', () => resolve(seen));
          client.on('ready', () => {
            client.end();
            resolve(seen);
          });
          client.connect({
            host: '127.0.0.1',
            port: sshd.port,
            username: 'nobody',
            ...(serverHostKey ? { algorithms: { serverHostKey } } : {}),
            hostVerifier: (blob: Buffer) => {
              seen = checkHostKey(text, '127.0.0.1', sshd.port, { blob });
              resolve(seen);
              return false; // the verdict is all we want
            },
          });
        });
      const naive = await connectWith();
      assert.deepEqual(naive, { status: 'changed', knownTypes: ['ssh-rsa'], line: 1 });
      const ordered = orderHostKeyAlgorithms(
        SSH2_DEFAULT_HOST_KEY_ALGORITHMS,
        knownHostKeyTypes(text, '127.0.0.1', sshd.port),
      );
      assert.deepEqual(await connectWith(ordered), { status: 'match', line: 1 });
    });
  },
);

function lineOf(check: HostKeyCheck): number | undefined {
  return 'line' in check ? check.line : undefined;
}
