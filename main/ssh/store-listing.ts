import type { FileDigest, StorageEntry } from '../sources/storage-fs.js';

/**
 * One store folder's files as the server listed them (files-by-command.ts), with what it sent of
 * each, packed: a million files are typed arrays and their names, not a million objects each
 * holding a few more (issue 14: a first read at a million files held about 0.9 GB).
 */
export class StoreListing {
  private readonly names: string[] = [];
  private readonly index = new Map<string, number>();
  /** find's %y as a char code. */
  private types = new Uint8Array(64);
  /** size, mtime, then the bytes the server read of the file (NaN: it sent nothing). */
  private nums = new Float64Array(64 * NUMS);
  /** An accounts file's flag: 1 disabled. */
  private disabled = new Uint8Array(64);
  /** A lastlog2 file's events as the server wrote them (` key=numeral…`), checked already. */
  private readonly events: Array<string | undefined> = [];

  get size(): number {
    return this.names.length;
  }

  /** Adds a listed entry; false when the name is listed already. */
  add(name: string, type: string, size: number, mtime: number): boolean {
    if (this.index.has(name)) return false;
    const i = this.names.length;
    if (i === this.types.length) this.grow();
    this.names.push(name);
    this.index.set(name, i);
    this.types[i] = type.charCodeAt(0);
    this.nums[i * NUMS] = size;
    this.nums[i * NUMS + 1] = mtime;
    this.nums[i * NUMS + 2] = NaN;
    return true;
  }

  /**
   * Whether what the server sent of `name` can stand for it: listed as a plain file of just that
   * many bytes (one changed since the listing is not). Throws when it was sent already.
   */
  accepts(name: string, bytes: number): boolean {
    const i = this.index.get(name);
    if (i === undefined || this.types[i] !== F || this.nums[i * NUMS] !== bytes) return false;
    if (!Number.isNaN(this.nums[i * NUMS + 2]!)) throw new Error('a file sent twice');
    return true;
  }

  /** Keeps an accounts file's flag; call only after accepts(). */
  sentAccount(name: string, bytes: number, disabled: boolean): void {
    const i = this.index.get(name)!;
    this.nums[i * NUMS + 2] = bytes;
    this.disabled[i] = disabled ? 1 : 0;
  }

  /** Keeps a lastlog2 file's checked events text; call only after accepts(). */
  sentEvents(name: string, bytes: number, events: string): void {
    const i = this.index.get(name)!;
    this.nums[i * NUMS + 2] = bytes;
    this.events[i] = events;
  }

  /** The listing, as the reader takes it. */
  entries(): StorageEntry[] {
    return this.names.map((name, i) => {
      const t = this.types[i]!;
      const type = t === F ? 'file' : t === L ? 'link' : t === D ? undefined : 'special';
      return {
        name,
        isDir: t === D,
        size: this.nums[i * NUMS]!,
        mtime: this.nums[i * NUMS + 1]!,
        type,
      };
    });
  }

  /**
   * What the server sent of `name` when it is still `listedSize` bytes, at most `maxBytes`;
   * null otherwise. Taken once: it is let go.
   */
  take(name: string, maxBytes: number, listedSize: number): FileDigest | null {
    const i = this.index.get(name);
    if (i === undefined) return null;
    const bytes = this.nums[i * NUMS + 2]!;
    if (Number.isNaN(bytes) || bytes !== listedSize || bytes > maxBytes) return null;
    this.nums[i * NUMS + 2] = NaN;
    const text = this.events[i];
    if (text === undefined) return { disabled: this.disabled[i] === 1 };
    this.events[i] = undefined;
    return { events: parseEvents(text) };
  }

  /** The bytes sent of `name` (NaN: none), for a read that takes the text. */
  sentBytes(name: string): number {
    const i = this.index.get(name);
    return i === undefined ? NaN : this.nums[i * NUMS + 2]!;
  }

  private grow(): void {
    const n = this.types.length * 2;
    const types = new Uint8Array(n);
    types.set(this.types);
    const nums = new Float64Array(n * NUMS);
    nums.set(this.nums);
    const disabled = new Uint8Array(n);
    disabled.set(this.disabled);
    this.types = types;
    this.nums = nums;
    this.disabled = disabled;
  }
}

const NUMS = 3;
const F = 'f'.charCodeAt(0);
const L = 'l'.charCodeAt(0);
const D = 'd'.charCodeAt(0);

/** A verdict's events: ` key=numeral` each, the numeral as written or empty (no timestamp). */
export const EVENTS_TEXT =
  /^(?: [A-Za-z0-9_]{1,64}=(?:-?\d{1,40}(?:\.\d{1,40})?(?:[eE][-+]?\d{1,5})?)?)*$/;

/** The events of a text EVENTS_TEXT matched. */
function parseEvents(text: string): Array<[key: string, numeral: string | null]> {
  const out: Array<[string, string | null]> = [];
  for (const word of text === '' ? [] : text.slice(1).split(' ')) {
    const at = word.indexOf('=');
    out.push([word.slice(0, at), at === word.length - 1 ? null : word.slice(at + 1)]);
  }
  return out;
}
