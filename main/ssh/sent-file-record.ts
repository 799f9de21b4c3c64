/**
 * The head of a record of a file the server read (files-by-command.ts: `L|A <size> <mtime>
 * <name>…`), read from its bytes: two million records a count went through a string and a regular
 * expression each (issue 14, row 5). Exactly what files-stream.ts's patterns took before:
 * `^[LA] (\d{1,9}) (-?\d{1,15}) ([A-Za-z0-9%.]{1,255})` then the record's rest.
 */

/** What sentFileHead read; valid until its next call. */
export const head = { size: 0, mtime: 0, nameStart: 0, nameEnd: 0 };

/** Reads `piece`'s head into `head`; false when it is out of shape. */
export function sentFileHead(piece: Buffer): boolean {
  if (piece[1] !== SPACE) return false;
  const size = numberAt(piece, 2, 9);
  if (size < 0) return false;
  let at = numberEnd + 1;
  const negative = piece[at] === MINUS;
  if (negative) at++;
  const mtime = numberAt(piece, at, 15);
  if (mtime < 0) return false;
  at = numberEnd + 1;
  const nameStart = at;
  for (let c = piece[at]; c !== undefined && NAME_BYTE[c] === 1; c = piece[++at]);
  if (at === nameStart || at - nameStart > 255) return false;
  head.size = size;
  // As Number('-0') reads it.
  head.mtime = negative ? -mtime : mtime;
  head.nameStart = nameStart;
  head.nameEnd = at;
  return true;
}

/** Where the last numberAt stopped. */
let numberEnd = 0;

/** The number of 1 to `most` digits at `at`, followed by a space; -1 when there is none. */
function numberAt(piece: Buffer, at: number, most: number): number {
  const start = at;
  let n = 0;
  for (let c = piece[at]; c !== undefined && c >= ZERO && c <= NINE; c = piece[++at]) {
    n = n * 10 + (c - ZERO);
  }
  numberEnd = at;
  return at === start || at - start > most || piece[at] !== SPACE ? -1 : n;
}

const SPACE = 0x20;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
/** 1 for the bytes of a name the script sends: letters, digits, % and dots. */
const NAME_BYTE = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789%.') {
  NAME_BYTE[c.charCodeAt(0)] = 1;
}
