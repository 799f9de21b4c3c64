/**
 * Prosody's datamanager names folders and files after hosts and users, encoded byte by byte:
 * every byte of the UTF-8 name that is not an ASCII letter or digit becomes `%` and two lowercase
 * hex digits (`example.org` is stored as `example%2eorg`, `zoë` as `zo%c3%ab`).
 */

function isAsciiAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/**
 * The on-disk form of a host or user name, as Prosody writes it. A lone UTF-16 surrogate (which
 * no XMPP name can contain) is written as U+FFFD, as any UTF-8 encoder does.
 */
export function encodeProsodyName(name: string): string {
  let out = '';
  for (const b of Buffer.from(name, 'utf8')) {
    out += isAsciiAlnum(b) ? String.fromCharCode(b) : '%' + b.toString(16).padStart(2, '0');
  }
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The bytes of a name being decoded, kept from one name to the next (a million a count). */
let scratch = new Uint8Array(256);

/**
 * The name behind an encoded folder or file name, or `null` when the text is not such an
 * encoding: a character other than an ASCII letter, digit or `%xx` escape, a stray `%`, bad hex,
 * or bytes that are not UTF-8. Upper-case hex is accepted.
 */
export function decodeProsodyName(encoded: string): string | null {
  let i = 0;
  while (i < encoded.length && isAsciiAlnum(encoded.charCodeAt(i))) i++;
  // Letters and digits only (as many are): the name is the text itself.
  if (i === encoded.length) return encoded;
  if (scratch.length < encoded.length) {
    scratch = new Uint8Array(Math.max(encoded.length, scratch.length * 2));
  }
  const bytes = scratch;
  for (let k = 0; k < i; k++) bytes[k] = encoded.charCodeAt(k);
  let n = i;
  for (; i < encoded.length; i++) {
    const c = encoded.charCodeAt(i);
    if (isAsciiAlnum(c)) {
      bytes[n++] = c;
    } else if (c === 0x25) {
      const hi = hexValue(encoded.charCodeAt(i + 1));
      const lo = hexValue(encoded.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return null;
      bytes[n++] = hi * 16 + lo;
      i += 2;
    } else {
      return null;
    }
  }
  try {
    return utf8.decode(bytes.subarray(0, n));
  } catch {
    return null;
  }
}
