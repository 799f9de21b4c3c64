import type { StorageEntry } from './storage-fs.js';
import { NAME_SEPARATOR, NameJoiner, PackedNames } from './packed-names.js';

/** What the reader asks of a listed file. */
export type ListedFile = Pick<StorageEntry, 'size' | 'mtime' | 'type'>;

/** A listed file's type by its index in ListedFiles. */
export const TYPES = [undefined, 'file', 'link', 'special'] as const;

/**
 * A store folder's files as this count listed them, packed: names in one string, sizes, mtimes
 * and types in typed arrays. A folder of half a million files was as many objects in a Map, and
 * the sorted list of its users as many strings again (issue 14, row 6).
 */
export class ListedFiles {
  /** Built by ListedFilesBuilder. */
  constructor(
    private readonly names: PackedNames,
    /** size, mtime (NaN: the listing gave none). */
    private readonly nums: Float64Array,
    /** An index into TYPES. */
    private readonly types: Uint8Array,
  ) {}

  /** The entries of a listing that are files named `*.dat`; of a name listed twice, the last. */
  static gather(entries: Iterable<StorageEntry>): ListedFiles {
    const b = new ListedFilesBuilder();
    for (const e of entries) b.add(e);
    return b.done();
  }

  get size(): number {
    return this.names.size;
  }

  has(name: string): boolean {
    return this.names.indexOf(name) >= 0;
  }

  /** The file's size, mtime and type; a new object each call. */
  get(name: string): ListedFile | undefined {
    const i = this.names.indexOf(name);
    if (i < 0) return undefined;
    const type = TYPES[this.types[i]!];
    const size = orUndefined(this.nums[i * 2]!);
    const mtime = orUndefined(this.nums[i * 2 + 1]!);
    return type === undefined ? { size, mtime } : { size, mtime, type };
  }

  /**
   * The files' names less `.dat`, in the order sorting those strings gives. The reader asks next
   * about the file of the name it was given: its index is tried first.
   */
  *users(): IterableIterator<string> {
    for (const i of this.names.sortedBy(DAT.length)) {
      this.names.expect(i);
      yield this.names.nameAt(i, DAT.length);
    }
  }
}

const DAT = '.dat';

/** A number as the packed arrays keep it: NaN stands for none. */
function orUndefined(t: number): number | undefined {
  return Number.isNaN(t) ? undefined : t;
}

/** Takes a listing entry by entry, keeping the `.dat` files only. */
export class ListedFilesBuilder {
  private readonly joiner = new NameJoiner();
  private nums = new Float64Array(64 * 2);
  private types = new Uint8Array(64);
  private count = 0;

  /**
   * Takes one entry. A name with a slash is no file name (only a hostile server lists one): it
   * is left out, as no table of names can hold it.
   */
  add(e: StorageEntry): void {
    if (e.isDir || !e.name.endsWith(DAT) || e.name.includes(NAME_SEPARATOR)) return;
    const i = this.count++;
    if (i === this.types.length) {
      const nums = new Float64Array(this.nums.length * 2);
      nums.set(this.nums);
      const types = new Uint8Array(this.types.length * 2);
      types.set(this.types);
      this.nums = nums;
      this.types = types;
    }
    this.joiner.push(e.name);
    this.nums[i * 2] = e.size ?? NaN;
    this.nums[i * 2 + 1] = e.mtime ?? NaN;
    this.types[i] = TYPES.indexOf(e.type);
  }

  done(): ListedFiles {
    const names = PackedNames.fromJoined(this.joiner.text());
    // Copied to their length: the room left to grow goes.
    const nums = this.nums.slice(0, this.count * 2);
    const types = this.types.slice(0, this.count);
    if (names !== null) return new ListedFiles(names, nums, types);
    return this.lastOfEach(nums, types);
  }

  /** A name listed twice (no real folder does that; a hostile server may): the last stands. */
  private lastOfEach(nums: Float64Array, types: Uint8Array): ListedFiles {
    const all = this.joiner.text().split(NAME_SEPARATOR);
    const last = new Map<string, number>();
    all.forEach((name, i) => last.set(name, i));
    const b = new ListedFilesBuilder();
    for (const [name, i] of last) {
      b.add({
        name,
        isDir: false,
        size: orUndefined(nums[i * 2]!),
        mtime: orUndefined(nums[i * 2 + 1]!),
        type: TYPES[types[i]!],
      });
    }
    return b.done();
  }
}
