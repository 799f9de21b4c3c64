/**
 * File names kept as one string, found by a hash table of their indexes: a folder of a million
 * files is one string and two typed arrays, not a million strings and a Map of them (issue 14,
 * row 6: decoding a cached folder of half a million files made about 80 MB of both).
 */

import { asciiNameOrder } from './ascii-name-order.js';

/** A file name never holds a slash: the names are kept joined by it. */
export const NAME_SEPARATOR = '/';

export class PackedNames {
  private constructor(
    /** The names joined by NAME_SEPARATOR. */
    readonly text: string,
    /** Where each name starts in `text`, and one past the end (as if a separator followed). */
    private readonly starts: Uint32Array,
    /** Open addressing, linear probing: a name's index + 1, 0 for none. */
    private readonly slots: Int32Array,
  ) {}

  /**
   * The names joined by NAME_SEPARATOR ('' for none); null when one is empty or one comes twice
   * (no listing holds either).
   */
  static fromJoined(text: string): PackedNames | null {
    let n = 0;
    if (text !== '') {
      n = 1;
      for (
        let at = text.indexOf(NAME_SEPARATOR);
        at >= 0;
        at = text.indexOf(NAME_SEPARATOR, at + 1)
      )
        n++;
    }
    const starts = new Uint32Array(n + 1);
    for (let i = 1, at = 0; i <= n; i++) {
      const end = i === n ? text.length : text.indexOf(NAME_SEPARATOR, at);
      if (end === at) return null;
      starts[i] = end + 1;
      at = end + 1;
    }
    const slots = new Int32Array(slotCount(n));
    const names = new PackedNames(text, starts, slots);
    const mask = slots.length - 1;
    for (let i = 0; i < n; i++) {
      const from = starts[i]!;
      const to = starts[i + 1]! - 1;
      for (let s = hashOf(text, from, to) & mask; ; s = (s + 1) & mask) {
        const held = slots[s]!;
        if (held === 0) {
          slots[s] = i + 1;
          break;
        }
        if (names.sameAt(held - 1, text, from, to)) return null;
      }
    }
    return names;
  }

  get size(): number {
    return this.starts.length - 1;
  }

  /**
   * The name indexOf found last, and its index: the reader asks about the same file several
   * times in a row (its listing, then what the server sent of it). No name is empty.
   */
  private lastName = '';
  private lastIndex = -1;

  /** The index the next name asked about likely has (-1: none), tried before hashing it. */
  private expected = -1;

  /** The next name asked about is likely the one at index i. */
  expect(i: number): void {
    this.expected = i;
  }

  /** The index of `name`, or -1. */
  indexOf(name: string): number {
    if (name === this.lastName) return this.lastIndex;
    const e = this.expected;
    if (e >= 0 && e < this.size && this.sameAt(e, name, 0, name.length)) {
      this.lastName = name;
      this.lastIndex = e;
      return e;
    }
    const mask = this.slots.length - 1;
    let s = hashOf(name, 0, name.length) & mask;
    let held = this.slots[s]!;
    while (held !== 0 && !this.sameAt(held - 1, name, 0, name.length)) {
      s = (s + 1) & mask;
      held = this.slots[s]!;
    }
    this.lastName = name;
    this.lastIndex = held - 1;
    return held - 1;
  }

  /** The name at index i, less its last `dropEnd` characters. */
  nameAt(i: number, dropEnd = 0): string {
    const start = this.starts[i]!;
    return this.text.slice(start, Math.max(start, this.starts[i + 1]! - 1 - dropEnd));
  }

  /**
   * The indexes in the order of their names with the last `dropEnd` characters left out (a
   * user's name without `.dat`), as Array.prototype.sort orders strings: by UTF-16 code units.
   */
  sortedBy(dropEnd: number): Uint32Array {
    const { text, starts } = this;
    const ascii = asciiNameOrder(text, starts, dropEnd);
    if (ascii !== null) return ascii;
    const order = new Uint32Array(this.size);
    for (let i = 0; i < order.length; i++) order[i] = i;
    return order.sort((a, b) => {
      let x = starts[a]!;
      let y = starts[b]!;
      const xEnd = Math.max(x, starts[a + 1]! - 1 - dropEnd);
      const yEnd = Math.max(y, starts[b + 1]! - 1 - dropEnd);
      for (; x < xEnd && y < yEnd; x++, y++) {
        const d = text.charCodeAt(x) - text.charCodeAt(y);
        if (d !== 0) return d;
      }
      return xEnd - x - (yEnd - y) || a - b;
    });
  }

  /** Whether every name ends with `suffix` and is longer than it. */
  allEndWith(suffix: string): boolean {
    for (let i = 0; i < this.size; i++) {
      const end = this.starts[i + 1]! - 1;
      if (
        end - this.starts[i]! <= suffix.length ||
        !this.text.startsWith(suffix, end - suffix.length)
      )
        return false;
    }
    return true;
  }

  /** Whether the name at index i is `s` from `from` to `to`. */
  private sameAt(i: number, s: string, from: number, to: number): boolean {
    const start = this.starts[i]!;
    const length = this.starts[i + 1]! - 1 - start;
    if (length !== to - from) return false;
    if (from === 0 && to === s.length) return this.text.startsWith(s, start);
    for (let k = 0; k < length; k++) {
      if (this.text.charCodeAt(start + k) !== s.charCodeAt(from + k)) return false;
    }
    return true;
  }
}

/** A power of two at least 4/3 of the names: probes stay short. */
function slotCount(n: number): number {
  let size = 8;
  while (size < n + (n >> 2) + (n >> 3)) size *= 2;
  return size;
}

/** FNV-1a over UTF-16 code units, then mixed: the low bits pick the slot. */
function hashOf(s: string, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
}

/**
 * Names gathered one by one, joined a thousand at a time: a million names being gathered are a
 * few thousand strings, not a million.
 */
export class NameJoiner {
  private joined: string[] = [];
  private pending: string[] = [];

  push(name: string): void {
    this.pending.push(name);
    if (this.pending.length === JOIN_EVERY) {
      this.joined.push(this.pending.join(NAME_SEPARATOR));
      this.pending = [];
    }
  }

  get empty(): boolean {
    return this.joined.length + this.pending.length === 0;
  }

  /** Every name, joined by NAME_SEPARATOR. */
  text(): string {
    return [...this.joined, this.pending.join(NAME_SEPARATOR)]
      .filter((part) => part !== '')
      .join(NAME_SEPARATOR);
  }
}

const JOIN_EVERY = 1024;
