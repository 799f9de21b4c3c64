/**
 * The order of names packed in one string, found by sorting numbers rather than by a compare
 * function: a folder of half a million names took about a second of compare calls (issue 14,
 * row 5). Only for names of ASCII characters (as Prosody writes every file name), where a few
 * characters fit in one number; others are left to the caller.
 */

/** Bits a character takes in a key: its code + 1 (0 is "the name ended"), below 0x80. */
const CHAR_BITS = 7;
/** Below this many names, a range is sorted in place: a native sort of a few costs more. */
const SMALL = 16;

/**
 * The indexes of the names (name i is `text` from `starts[i]` to `starts[i + 1] - 1 - dropEnd`,
 * or empty where that is shorter), ordered as comparing their UTF-16 code units orders them, equal
 * names by index; null when a name holds a character outside ASCII (below 0x7f).
 */
export function asciiNameOrder(
  text: string,
  starts: Uint32Array,
  dropEnd: number,
): Uint32Array | null {
  if (/[^\0-\x7e]/.test(text)) return null;
  const n = starts.length - 1;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (n < 2) return order;
  // Each key: a few characters of the name from some depth on, then the name's index.
  let indexBits = 1;
  while (2 ** indexBits < n) indexBits++;
  const perKey = Math.floor((53 - indexBits) / CHAR_BITS);
  if (perKey < 1) return null;
  const indexScale = 2 ** indexBits;
  const charScale = 2 ** CHAR_BITS;
  const keys = new Float64Array(n);
  const ends = (i: number) => Math.max(starts[i]!, starts[i + 1]! - 1 - dropEnd);
  /**
   * How many characters from `depth` on every name of a range shares (escapes and common words
   * make long shared runs: each character skipped is a sort of the range saved).
   */
  const sharedAfter = (from: number, to: number, depth: number): number => {
    const first = order[from]!;
    const at = starts[first]! + depth;
    let shared = ends(first) - at;
    for (let k = from + 1; k < to && shared > 0; k++) {
      const i = order[k]!;
      const other = starts[i]! + depth;
      shared = Math.min(shared, ends(i) - other);
      let c = 0;
      while (c < shared && text.charCodeAt(at + c) === text.charCodeAt(other + c)) c++;
      shared = c;
    }
    return Math.max(0, shared);
  };
  /** Ranges of `order` still to sort: from, to, and the depth up to which their names agree. */
  const stack: number[] = [0, n, 0];
  while (stack.length > 0) {
    const depth = stack.pop()!;
    const to = stack.pop()!;
    const from = stack.pop()!;
    for (let k = from; k < to; k++) {
      const i = order[k]!;
      const end = ends(i);
      let key = 0;
      for (let c = 0, at = starts[i]! + depth; c < perKey; c++, at++) {
        key = key * charScale + (at < end ? text.charCodeAt(at) + 1 : 0);
      }
      keys[k] = key * indexScale + i;
    }
    if (to - from < SMALL) insertionSort(keys, from, to);
    else keys.subarray(from, to).sort();
    // Names whose characters agree so far and go on are ordered by the next ones.
    let group = from;
    let prefix = Math.floor(keys[from]! / indexScale);
    for (let k = from; k <= to; k++) {
      const p = k < to ? Math.floor(keys[k]! / indexScale) : -1;
      if (k < to) order[k] = keys[k]! - p * indexScale;
      if (p === prefix) continue;
      if (k - group > 1 && prefix % charScale !== 0) {
        stack.push(group, k, depth + perKey + sharedAfter(group, k, depth + perKey));
      }
      group = k;
      prefix = p;
    }
  }
  return order;
}

function insertionSort(keys: Float64Array, from: number, to: number): void {
  for (let k = from + 1; k < to; k++) {
    const key = keys[k]!;
    let j = k - 1;
    while (j >= from && keys[j]! > key) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = key;
  }
}
