import type { SkipReason, SourceRecord } from '../core/activity-record.js';
import { NAME_SEPARATOR, NameJoiner, PackedNames } from './packed-names.js';

/**
 * The per-file part of the internal-storage cache, packed: a million files are a few typed arrays
 * and one string of names, not a million objects (issue 14: 0.9 GB held at a million files).
 */

/**
 * What one lastlog2 file's records come to, all that counting needs: the newest activity, the
 * newest registration, and how many records were skipped for each reason.
 */
export type FileSummary = [
  lastActive: number | null,
  registered: number | null,
  notAnEvent: number,
  malformed: number,
  noTimestamp: number,
];

/** An accounts file's summary is only its flag: 1 enabled, 2 disabled, 0 unreadable. */
export type AccountSummary = 0 | 1 | 2;

export const SKIP_SLOTS: Record<SkipReason, 2 | 3 | 4> = {
  'not-an-event': 2,
  malformed: 3,
  'no-timestamp': 4,
};

/** What a lastlog2 file's records come to. */
export function summarizeActivity(records: readonly SourceRecord[]): FileSummary {
  const s: FileSummary = [null, null, 0, 0, 0];
  for (const r of records) {
    if ('skipped' in r) s[SKIP_SLOTS[r.skipped]]++;
    else if ('status' in r) continue;
    else if (r.event === 'registered')
      s[1] = s[1] === null ? r.timestamp : Math.max(s[1], r.timestamp);
    else s[0] = s[0] === null ? r.timestamp : Math.max(s[0], r.timestamp);
  }
  return s;
}

/** One file as kept: its size and mtime when read, this machine's clock then, and what it gave. */
export interface FileRow {
  size: number;
  mtime: number;
  readAt: number;
  /** null: nothing usable (a file with more skips than a summary holds): it is read every time. */
  summary: FileSummary | AccountSummary | null;
}

/** More skips than this in one file of a few hundred bytes is not a summary we wrote. */
const MAX_SKIPS = 1000;
/** size, mtime, readAt, then lastActive and registered (NaN: none) or the account's flag. */
const NUMS = 5;
const SKIPS = 3;
const ACTIVITY = 0;
const ACCOUNT = 1;
const NONE = 2;

/** A table as the cache keeps it (see encode). */
export interface EncodedTable {
  names: string;
  nums: Uint8Array;
  skips: Uint8Array;
  kinds: Uint8Array;
}

export class FileTable {
  /**
   * The names found so far, packed (rows 0 … index.size - 1), or null before the first look-up;
   * names set after it wait in `more` until the next.
   */
  private index: PackedNames | null = null;
  private more = new NameJoiner();

  private constructor(
    private nums: Float64Array,
    private skips: Uint16Array,
    private kinds: Uint8Array,
    private count: number,
  ) {}

  /** An empty table with room for `capacity` rows; it grows past that when needed. */
  static empty(capacity = 16): FileTable {
    const n = Math.max(1, capacity);
    return new FileTable(
      new Float64Array(n * NUMS),
      new Uint16Array(n * SKIPS),
      new Uint8Array(n),
      0,
    );
  }

  /** The rows, the last of a name standing for it, in the order each name first came. */
  static of(rows: Iterable<readonly [name: string, row: FileRow]>): FileTable {
    const last = new Map<string, FileRow>();
    for (const [name, row] of rows) last.set(name, row);
    const t = FileTable.empty(last.size);
    for (const [name, row] of last) t.add(name, row);
    return t;
  }

  get size(): number {
    return this.count;
  }

  /** The names, in the order they were first set. */
  *keys(): IterableIterator<string> {
    const index = this.lookup();
    for (let i = 0; i < this.count; i++) yield index.nameAt(i);
  }

  /**
   * The rows' indexes in the order of their names less the last `dropEnd` characters (a user's
   * name without `.dat`), as sorting those strings would order them.
   */
  sortedBy(dropEnd: number): Uint32Array {
    return this.lookup().sortedBy(dropEnd);
  }

  /** The name of row `i` (an index from sortedBy), less its last `dropEnd` characters. */
  nameAt(i: number, dropEnd = 0): string {
    return this.lookup().nameAt(i, dropEnd);
  }

  has(name: string): boolean {
    return this.lookup().indexOf(name) >= 0;
  }

  /** The row of `name`, or undefined. A new object each call: only the table is kept. */
  get(name: string): FileRow | undefined {
    const i = this.lookup().indexOf(name);
    return i < 0 ? undefined : this.row(i);
  }

  /** Only the size and mtime, without the summary: what a listing gives. */
  listed(name: string): { size: number; mtime: number } | undefined {
    const i = this.lookup().indexOf(name);
    return i < 0 ? undefined : { size: this.nums[i * NUMS]!, mtime: this.nums[i * NUMS + 1]! };
  }

  entries(): Array<[string, FileRow]> {
    return [...this.keys()].map((name, i) => [name, this.row(i)]);
  }

  /**
   * Adds a row for a name not in the table yet, without looking it up (the reader's next table
   * is only written). A name twice makes a table decodeParts() refuses.
   */
  add(name: string, row: FileRow): void {
    if (this.index !== null) return this.set(name, row);
    this.append(name, row);
  }

  /** Sets the row of `name`; a summary out of range is kept as none. */
  set(name: string, row: FileRow): void {
    const i = this.lookup().indexOf(name);
    if (i < 0) this.append(name, row);
    else this.write(i, row);
  }

  private append(name: string, row: FileRow): void {
    if (name === '' || name.includes(NAME_SEPARATOR)) throw new RangeError('not a file name');
    const i = this.count++;
    this.grow();
    this.more.push(name);
    this.write(i, row);
  }

  /**
   * The table as the cache keeps it: the names in one string, each number array as its bytes.
   * The byte arrays are views of the table's own memory, not copies (issue 14: a million files
   * as JSON and base64 were a few hundred MB of strings a save), so they are for writing at once.
   */
  encode(): EncodedTable {
    const n = this.count;
    const bytes = (a: Float64Array | Uint16Array | Uint8Array, length: number) =>
      Buffer.from(a.buffer, a.byteOffset, length * a.BYTES_PER_ELEMENT);
    return {
      // Not split to be joined again: the table being saved stays as compact as it was.
      names: this.allNames(),
      nums: bytes(this.nums, n * NUMS),
      skips: bytes(this.skips, n * SKIPS),
      kinds: bytes(this.kinds, n),
    };
  }

  /**
   * A table from the parts encode() gave, in their order, with `files` rows in all; null when
   * they are anything else. Each part is copied into arrays made once for `files` rows, so the
   * caller says how many there are from what it holds (never a count it was merely told).
   */
  static decodeParts(parts: Iterable<unknown>, files: number): FileTable | null {
    if (!Number.isSafeInteger(files) || files < 0) return null;
    const t = FileTable.empty(files);
    const names: string[] = [];
    let at = 0;
    for (const value of parts) {
      if (typeof value !== 'object' || value === null) return null;
      const { names: text, nums, skips, kinds } = value as Record<string, unknown>;
      if (typeof text !== 'string') return null;
      if (![nums, skips, kinds].every((x) => x instanceof Uint8Array)) return null;
      const n = (kinds as Uint8Array).length;
      if (at + n > files || nameCount(text) !== n) return null;
      if (!copyInto(t.nums, nums as Uint8Array, at * NUMS, n * NUMS)) return null;
      if (!copyInto(t.skips, skips as Uint8Array, at * SKIPS, n * SKIPS)) return null;
      t.kinds.set(kinds as Uint8Array, at);
      if (n > 0) names.push(text);
      at += n;
    }
    if (at !== files) return null;
    // Null when a name is empty or comes twice, within a part or across two.
    const index = PackedNames.fromJoined(names.join(NAME_SEPARATOR));
    if (index === null) return null;
    t.count = files;
    t.index = index;
    for (let i = 0; i < files; i++) if (!t.validAt(i)) return null;
    return t;
  }

  /** Whether row i holds a summary the reader could have made (isSummary, without the array). */
  private validAt(i: number): boolean {
    const kind = this.kinds[i];
    const at = i * NUMS;
    if (kind === NONE) return true;
    if (kind === ACCOUNT) {
      const flag = this.nums[at + 3];
      return flag === 0 || flag === 1 || flag === 2;
    }
    if (kind !== ACTIVITY) return false;
    // NaN is none; an endless time is no time.
    const time = (t: number) => Number.isNaN(t) || Number.isFinite(t);
    const skips = (k: number) => this.skips[i * SKIPS + k]! < MAX_SKIPS;
    return time(this.nums[at + 3]!) && time(this.nums[at + 4]!) && skips(0) && skips(1) && skips(2);
  }

  private write(i: number, row: FileRow): void {
    const at = i * NUMS;
    this.nums[at] = row.size;
    this.nums[at + 1] = row.mtime;
    this.nums[at + 2] = row.readAt;
    const s = isSummary(row.summary) ? row.summary : null;
    if (s === null) {
      this.kinds[i] = NONE;
      this.nums[at + 3] = NaN;
      this.nums[at + 4] = NaN;
      this.skips.fill(0, i * SKIPS, i * SKIPS + SKIPS);
    } else if (typeof s === 'number') {
      this.kinds[i] = ACCOUNT;
      this.nums[at + 3] = s;
      this.nums[at + 4] = NaN;
      this.skips.fill(0, i * SKIPS, i * SKIPS + SKIPS);
    } else {
      this.kinds[i] = ACTIVITY;
      this.nums[at + 3] = s[0] ?? NaN;
      this.nums[at + 4] = s[1] ?? NaN;
      this.skips[i * SKIPS] = s[2];
      this.skips[i * SKIPS + 1] = s[3];
      this.skips[i * SKIPS + 2] = s[4];
    }
  }

  /** The index of every name, the ones added since the last look-up packed in first. */
  private lookup(): PackedNames {
    if (this.index !== null && this.more.empty) return this.index;
    const index = PackedNames.fromJoined(this.allNames());
    // add() promised only distinct names; a table with one twice is one no cache keeps.
    if (index === null) throw new RangeError('a file name twice in a table');
    this.index = index;
    this.more = new NameJoiner();
    return index;
  }

  /** Every name joined, those looked up already first. */
  private allNames(): string {
    const looked = this.index?.text ?? '';
    if (this.more.empty) return looked;
    return looked === '' ? this.more.text() : `${looked}${NAME_SEPARATOR}${this.more.text()}`;
  }

  private grow(): void {
    if (this.count <= this.kinds.length) return;
    const n = this.kinds.length * 2;
    const nums = new Float64Array(n * NUMS);
    nums.set(this.nums);
    const skips = new Uint16Array(n * SKIPS);
    skips.set(this.skips);
    const kinds = new Uint8Array(n);
    kinds.set(this.kinds);
    this.nums = nums;
    this.skips = skips;
    this.kinds = kinds;
  }

  private row(i: number): FileRow {
    const at = i * NUMS;
    return {
      size: this.nums[at]!,
      mtime: this.nums[at + 1]!,
      readAt: this.nums[at + 2]!,
      summary: this.summary(i),
    };
  }

  private summary(i: number): FileSummary | AccountSummary | null {
    const at = i * NUMS;
    if (this.kinds[i] === ACCOUNT) return this.nums[at + 3]! as AccountSummary;
    if (this.kinds[i] !== ACTIVITY) return null; // NONE, or a byte no table wrote
    return [
      orNull(this.nums[at + 3]!),
      orNull(this.nums[at + 4]!),
      this.skips[i * SKIPS]!,
      this.skips[i * SKIPS + 1]!,
      this.skips[i * SKIPS + 2]!,
    ];
  }
}

type Packed = Float64Array | Uint16Array | Uint8Array;

/** A time as the packed arrays keep it: NaN stands for none. */
export function orNull(t: number): number | null {
  return Number.isNaN(t) ? null : t;
}

/**
 * Copies `bytes`, `length` elements' worth exactly, into `into` from element `from`; false when
 * there are not just so many.
 */
function copyInto(into: Packed, bytes: Uint8Array, from: number, length: number): boolean {
  const size = into.BYTES_PER_ELEMENT;
  if (bytes.length !== length * size) return false;
  new Uint8Array(into.buffer, into.byteOffset + from * size, bytes.length).set(bytes);
  return true;
}

/** How many names a joined string holds ('' holds none). */
function nameCount(text: string): number {
  if (text === '') return 0;
  let n = 1;
  for (let at = text.indexOf(NAME_SEPARATOR); at >= 0; at = text.indexOf(NAME_SEPARATOR, at + 1))
    n++;
  return n;
}

/** A summary the reader could have made: times finite or none, skips counted, a flag in range. */
export function isSummary(v: unknown): v is FileSummary | AccountSummary {
  if (typeof v === 'number') return v === 0 || v === 1 || v === 2;
  return (
    Array.isArray(v) &&
    v.length === 5 &&
    v.slice(0, 2).every((t) => t === null || Number.isFinite(t)) &&
    v.slice(2).every((n) => Number.isInteger(n) && (n as number) >= 0 && (n as number) < MAX_SKIPS)
  );
}
