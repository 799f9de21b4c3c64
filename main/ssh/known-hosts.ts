import { createHmac, createPublicKey, randomBytes } from 'node:crypto';
import { sha256Fingerprint } from './host-key-fingerprint.js';

/*
 * OpenSSH's known_hosts rules, as OpenSSH 9.2's ssh applies them (hostfile.c, match.c, sshkey.c,
 * sshconnect.c), checked against the real ssh and ssh-keygen in test/ssh/known-hosts.test.ts.
 * Pure: the caller reads the file, passes its text in, and appends the lines we make.
 *
 * The facts this module relies on:
 * - A line is `[@marker] hosts keytype base64 [comment]`, split on spaces and tabs; blank lines and
 *   lines starting with `#` (after leading blanks) are skipped; lines that do not parse are ignored.
 * - A marker ends at the first space in the line (a tab only when the line has no space), must be
 *   exactly `@revoked` or `@cert-authority`, and only one is allowed; otherwise the line is ignored.
 * - `hosts` is either one hashed name, `|1|base64(salt)|base64(HMAC-SHA1(salt, name))` with a
 *   20-byte salt, or a comma-separated list of patterns with `*` and `?`; patterns are compared in
 *   lowercase, and a matching `!pattern` makes the whole line not match.
 * - The name looked up is the lowercased host, written `[host]:port` unless the port is 22.
 * - The key type must name the blob's own type (`rsa-sha2-256` and `rsa-sha2-512` also name an
 *   `ssh-rsa` blob); the base64 must be canonical and the blob a well-formed key, no bytes left over.
 * - Verdict: a matching `@revoked` line with the presented key revokes it. Otherwise any plain line
 *   for the host with the same key is a match; if there are plain lines for the host but none has
 *   the key, the key has changed, whatever their key types (ssh reports the last such line as the
 *   "Offending ... key"). ssh does not compare per key type: it avoids false alarms by preferring,
 *   in the key exchange, the host key algorithms it already knows (see orderHostKeyAlgorithms).
 * - For a port other than 22, when nothing at all is known for `[host]:port`, ssh retries the bare
 *   host name and accepts the key only if it matches there ("checking without port identifier").
 */

/** What OpenSSH would conclude about a host key presented by a server. */
export type HostKeyCheck =
  /** A line for this host holds this very key (line: the first such line, 1-based). */
  | { status: 'match'; line: number }
  /** A `@revoked` line for this host holds this key: never connect. */
  | { status: 'revoked'; line: number }
  /**
   * Lines for this host hold other keys only. `knownTypes` lists their key types (the blob type,
   * `ssh-rsa` for RSA) so the caller can tell "a different ssh-ed25519 key" from "we only know an
   * ssh-rsa key for this host"; `line` is the offending line ssh names (the last one).
   */
  | { status: 'changed'; knownTypes: string[]; line: number }
  /** Nothing is known about this host: ask the user (or accept-new). */
  | { status: 'unknown' };

/** A server's public host key: `blob` is the SSH wire-format key (what ssh2's hostVerifier gets). */
export interface PresentedHostKey {
  /** The negotiated algorithm, e.g. `rsa-sha2-512`; informational, the blob's own type decides. */
  type?: string;
  blob: Buffer;
}

/** One key line for a host, as `ssh-keygen -l -F host` lists it. */
export interface KnownHostKey {
  line: number;
  marker: 'revoked' | 'cert-authority' | undefined;
  /** The key type from the blob (`ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`, …). */
  type: string;
  fingerprint: string;
  hashed: boolean;
}

/**
 * Checks a server's host key against a known_hosts file's text, with OpenSSH's verdict. A key
 * revoked under the bare host name also counts as revoked on other ports (ssh 9.2 prints the
 * revocation warning there but goes on as if the host were unknown; we refuse instead).
 */
export function checkHostKey(
  knownHostsText: string,
  host: string,
  port: number,
  key: PresentedHostKey,
): HostKeyCheck {
  const entries = parseKnownHosts(knownHostsText);
  const presented = canonicalKey(key.blob);
  const first = lookUp(entries, hostfileName(host, port), presented);
  if (first.status !== 'unknown' || isDefaultPort(port)) return first;
  const bare = lookUp(entries, hostfileName(host, 22), presented);
  return bare.status === 'match' || bare.status === 'revoked' ? bare : first;
}

/**
 * A known_hosts line for this host and key, as ssh writes it when it adds a key (no trailing
 * newline; the caller appends it). Hashed like `HashKnownHosts yes` when asked.
 */
export function knownHostsLine(
  host: string,
  port: number,
  key: { blob: Buffer },
  opts: { hash?: boolean; salt?: Buffer } = {},
): string {
  const parsed = parseKeyBlob(key.blob);
  if (!parsed) throw new TypeError('Not an SSH public key blob that known_hosts can hold');
  if (host === '' || /[\s\0]/.test(host))
    throw new RangeError(`Not a host name: ${JSON.stringify(host)}`);
  const name = hostfileName(host, port);
  let hosts: string;
  if (opts.hash) {
    const salt = opts.salt ?? randomBytes(SALT_BYTES);
    if (salt.length !== SALT_BYTES) throw new RangeError(`The salt must be ${SALT_BYTES} bytes`);
    hosts = hashHostName(name, salt);
  } else {
    // Written plain, these would be read back as patterns or markers, not as this one name.
    if (/[,*?]/.test(name) || /^[!@#|]/.test(name)) {
      throw new RangeError(`Host name ${JSON.stringify(host)} must be hashed to be written`);
    }
    hosts = name;
  }
  return `${hosts} ${parsed.type} ${key.blob.toString('base64')}`;
}

/** The key lines that apply to this host and port, in file order (like `ssh-keygen -l -F`). */
export function findHostKeys(knownHostsText: string, host: string, port: number): KnownHostKey[] {
  const name = hostfileName(host, port);
  return parseKnownHosts(knownHostsText)
    .filter((e) => hostsFieldMatches(e.hosts, name))
    .map((e) => ({
      line: e.line,
      marker: e.marker,
      type: e.key.type,
      fingerprint: sha256Fingerprint(e.key.blob),
      hashed: e.hosts.startsWith('|'),
    }));
}

/**
 * The key types known for a host, to order the key exchange by: those of `[host]:port`, or for a
 * non-default port with none of its own, those of the bare name (which can only confirm a key).
 */
export function knownHostKeyTypes(knownHostsText: string, host: string, port: number): string[] {
  const plainTypes = (p: number) =>
    unique(
      findHostKeys(knownHostsText, host, p)
        .filter((k) => k.marker === undefined)
        .map((k) => k.type),
    );
  const types = plainTypes(port);
  return types.length > 0 || isDefaultPort(port) ? types : plainTypes(22);
}

/**
 * Host key algorithms reordered so that those whose key type is already known come first, the
 * rest keeping their order: what ssh does (order_hostkeyalgs) so that a server with several host
 * keys shows the one we know rather than one that would read as a changed key. Pass the result
 * to ssh2 as `algorithms.serverHostKey`.
 */
export function orderHostKeyAlgorithms<A extends string>(
  algorithms: readonly A[],
  knownTypes: readonly string[],
): A[] {
  const known = (alg: string) => knownTypes.includes(keyTypeOfAlgorithm(alg));
  return [...algorithms.filter(known), ...algorithms.filter((a) => !known(a))];
}

/** The key type named inside a public key blob, or undefined when the blob is not a valid key. */
export function keyTypeOfBlob(blob: Buffer): string | undefined {
  return parseKeyBlob(blob)?.type;
}

// ---------------------------------------------------------------------------------------------

const SALT_BYTES = 20; // SHA-1's size: ssh ignores hashed names whose salt is any other length
const HASH_MAGIC = '|1|';
const MAX_SUBPATTERN = 1023; // match.c's buffer; a longer pattern makes the whole list not match

interface ParsedKey {
  type: string;
  blob: Buffer;
  /** The public key's value, for comparing keys as ssh does (mpints without leading zeros). */
  canonical: string;
}

interface Entry {
  line: number;
  marker: 'revoked' | 'cert-authority' | undefined;
  hosts: string;
  key: ParsedKey;
}

function lookUp(entries: Entry[], name: string, presented: string): HostKeyCheck {
  const forHost = entries.filter((e) => hostsFieldMatches(e.hosts, name));
  const revoked = forHost.find((e) => e.marker === 'revoked' && e.key.canonical === presented);
  if (revoked) return { status: 'revoked', line: revoked.line };
  const plain = forHost.filter((e) => e.marker === undefined);
  const same = plain.find((e) => e.key.canonical === presented);
  if (same) return { status: 'match', line: same.line };
  const last = plain.at(-1);
  if (!last) return { status: 'unknown' };
  return { status: 'changed', knownTypes: unique(plain.map((e) => e.key.type)), line: last.line };
}

function parseKnownHosts(text: string): Entry[] {
  const entries: Entry[] = [];
  text.split('\n').forEach((raw, i) => {
    const entry = parseLine(raw, i + 1);
    if (entry) entries.push(entry);
  });
  return entries;
}

function parseLine(raw: string, line: number): Entry | undefined {
  let rest = raw.replace(/^[ \t]+/, '');
  if (rest === '' || rest.startsWith('#')) return undefined;

  let marker: Entry['marker'];
  if (rest.startsWith('@')) {
    let end = rest.indexOf(' ');
    if (end < 0) end = rest.indexOf('\t');
    if (end < 2 || end >= 32) return undefined;
    const word = rest.slice(0, end);
    if (word === '@revoked') marker = 'revoked';
    else if (word === '@cert-authority') marker = 'cert-authority';
    else return undefined;
    rest = rest.slice(end).replace(/^[ \t]+/, '');
    if (rest.startsWith('@')) return undefined; // only one marker per line
  }

  const fields = rest.split(/[ \t]+/);
  const [hosts, keyType, base64] = fields;
  if (hosts === undefined || keyType === undefined || base64 === undefined) return undefined;
  if (keyType === '' || keyType.startsWith('#') || base64 === '') return undefined;
  const blob = decodeBase64(base64);
  const key = blob && parseKeyBlob(blob);
  if (!key || !typeNames(key.type).includes(keyType)) return undefined;
  return { line, marker, hosts, key };
}

/** The names a known_hosts line may give a key of this type. */
function typeNames(blobType: string): string[] {
  return blobType === 'ssh-rsa' ? ['ssh-rsa', 'rsa-sha2-256', 'rsa-sha2-512'] : [blobType];
}

function keyTypeOfAlgorithm(algorithm: string): string {
  return typeNames('ssh-rsa').includes(algorithm) ? 'ssh-rsa' : algorithm;
}

function isDefaultPort(port: number): boolean {
  return port === 22 || port === 0;
}

function hostfileName(host: string, port: number): string {
  const name = lowerAscii(host);
  return isDefaultPort(port) ? name : `[${name}]:${port}`;
}

function lowerAscii(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

function hashHostName(name: string, salt: Buffer): string {
  const mac = createHmac('sha1', salt).update(name).digest();
  return `${HASH_MAGIC}${salt.toString('base64')}|${mac.toString('base64')}`;
}

function hostsFieldMatches(hosts: string, name: string): boolean {
  if (hosts.startsWith('|')) {
    if (!hosts.startsWith(HASH_MAGIC)) return false;
    const end = hosts.indexOf('|', HASH_MAGIC.length);
    if (end < 0) return false;
    const encodedSalt = hosts.slice(HASH_MAGIC.length, end);
    if (encodedSalt.length === 0 || encodedSalt.length > 1024) return false;
    const salt = decodeBase64(encodedSalt);
    return salt?.length === SALT_BYTES && hashHostName(name, salt) === hosts;
  }
  return matchPatternList(name, hosts) === 1;
}

/** 1 when a pattern matches, -1 when a negated one does (which settles it), else 0. */
function matchPatternList(name: string, list: string): -1 | 0 | 1 {
  let positive = false;
  for (let i = 0; i < list.length; i++) {
    const negated = list[i] === '!';
    if (negated) i++;
    const start = i;
    while (i < list.length && list[i] !== ',') i++;
    const pattern = lowerAscii(list.slice(start, i));
    if (pattern.length >= MAX_SUBPATTERN) return 0;
    if (matchPattern(name, pattern)) {
      if (negated) return -1;
      positive = true;
    }
  }
  return positive ? 1 : 0;
}

/** Shell-style `*` (any run, even empty) and `?` (any one character), over the whole string. */
function matchPattern(s: string, pattern: string): boolean {
  let si = 0;
  let pi = 0;
  let starP = -1;
  let starS = 0;
  while (si < s.length) {
    if (pi < pattern.length && (pattern[pi] === '?' || pattern[pi] === s[si])) {
      si++;
      pi++;
    } else if (pi < pattern.length && pattern[pi] === '*') {
      starP = pi++;
      starS = si;
    } else if (starP >= 0) {
      pi = starP + 1;
      si = ++starS;
    } else {
      return false;
    }
  }
  while (pattern[pi] === '*') pi++;
  return pi === pattern.length;
}

/** Base64 as OpenSSH's b64_pton takes it: blanks skipped, padding required, no stray bits. */
function decodeBase64(text: string): Buffer | undefined {
  const s = text.replace(/[ \t\n\v\f\r]/g, '');
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) return undefined;
  const bytes = Buffer.from(s, 'base64');
  return bytes.toString('base64') === s ? bytes : undefined;
}

const EC_CURVES: Record<string, { ssh: string; jwk: string; bytes: number }> = {
  'ecdsa-sha2-nistp256': { ssh: 'nistp256', jwk: 'P-256', bytes: 32 },
  'ecdsa-sha2-nistp384': { ssh: 'nistp384', jwk: 'P-384', bytes: 48 },
  'ecdsa-sha2-nistp521': { ssh: 'nistp521', jwk: 'P-521', bytes: 66 },
  'sk-ecdsa-sha2-nistp256@openssh.com': { ssh: 'nistp256', jwk: 'P-256', bytes: 32 },
};

/** The public key in an SSH wire-format blob, validated the way sshkey_from_blob does. */
function parseKeyBlob(blob: Buffer): ParsedKey | undefined {
  const r = new BlobReader(blob);
  const type = r.string()?.toString('latin1');
  if (type === undefined) return undefined;
  let fields: Buffer[] | undefined;
  if (type === 'ssh-ed25519') {
    const pk = r.string();
    if (pk?.length !== 32) return undefined;
    fields = [pk];
  } else if (type === 'sk-ssh-ed25519@openssh.com') {
    const pk = r.string();
    const application = r.string();
    if (pk?.length !== 32 || !application) return undefined;
    fields = [pk, application];
  } else if (type in EC_CURVES) {
    const curve = EC_CURVES[type]!;
    const name = r.string()?.toString('latin1');
    const q = r.string();
    if (name !== curve.ssh || !q || !isPointOnCurve(q, curve)) return undefined;
    fields = [q];
    if (type.startsWith('sk-')) {
      const application = r.string();
      if (!application) return undefined;
      fields.push(application);
    }
  } else if (type === 'ssh-rsa') {
    const e = r.mpint();
    const n = r.mpint();
    if (!e || !n) return undefined;
    const bits = n.length === 0 ? 0 : (n.length - 1) * 8 + (32 - Math.clz32(n[0]!));
    if (bits < 1024 || bits > 16384) return undefined; // sshkey_check_rsa_length
    fields = [e, n];
  } else if (type === 'ssh-dss') {
    const parts = [r.mpint(), r.mpint(), r.mpint(), r.mpint()];
    if (!parts.every(isBuffer)) return undefined;
    fields = parts;
  } else {
    return undefined; // unknown types and certificates: ssh would not use such a line either
  }
  if (!r.atEnd()) return undefined;
  const canonical = [type, ...fields.map((f) => f.toString('hex'))].join(':');
  return { type, blob, canonical };
}

/** The presented key's value; a blob we cannot read still compares unequal to every line. */
function canonicalKey(blob: Buffer): string {
  return parseKeyBlob(blob)?.canonical ?? `unparsed:${blob.toString('hex')}`;
}

function isPointOnCurve(q: Buffer, curve: { jwk: string; bytes: number }): boolean {
  // ssh only takes uncompressed points (0x04 || x || y).
  if (q.length !== 1 + 2 * curve.bytes || q[0] !== 4) return false;
  try {
    createPublicKey({
      key: {
        kty: 'EC',
        crv: curve.jwk,
        x: q.subarray(1, 1 + curve.bytes).toString('base64url'),
        y: q.subarray(1 + curve.bytes).toString('base64url'),
      },
      format: 'jwk',
    });
    return true;
  } catch {
    return false;
  }
}

function isBuffer(b: Buffer | undefined): b is Buffer {
  return b !== undefined;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

class BlobReader {
  private offset = 0;
  constructor(private readonly blob: Buffer) {}

  string(): Buffer | undefined {
    if (this.offset + 4 > this.blob.length) return undefined;
    const length = this.blob.readUInt32BE(this.offset);
    const start = this.offset + 4;
    if (length > this.blob.length - start) return undefined;
    this.offset = start + length;
    return this.blob.subarray(start, start + length);
  }

  /** A non-negative mpint, leading zero bytes dropped (ssh accepts and ignores them). */
  mpint(): Buffer | undefined {
    const bytes = this.string();
    if (!bytes || (bytes.length > 0 && (bytes[0]! & 0x80) !== 0)) return undefined;
    let start = 0;
    while (start < bytes.length && bytes[start] === 0) start++;
    return bytes.subarray(start);
  }

  atEnd(): boolean {
    return this.offset === this.blob.length;
  }
}
