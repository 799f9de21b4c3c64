import { type FileSummary, orNull } from '../sources/file-table.js';
import { ListedFiles, TYPES } from '../sources/listed-files.js';
import { NameJoiner, PackedNames } from '../sources/packed-names.js';
import type { FileDigest, StorageEntry } from '../sources/storage-fs.js';
import { sentSummary, summarizeSentEvents } from './sent-events-summary.js';

/**
 * One store folder's files as the server listed them (files-by-command.ts), with what it sent of
 * each, packed: a million files are typed arrays and their names, not a million objects each
 * holding a few more (issue 14: a first read at a million files held about 0.9 GB).
 */
export class StoreListing {
  private count = 0;
  /** Until seal(): the names as they come; then packed and indexed (no string or Map entry each). */
  private joiner: NameJoiner | null = new NameJoiner();
  private names: PackedNames | null = null;
  /** find's %y as a char code. */
  private types = new Uint8Array(64);
  /** size and mtime: the reader's ListedFiles shares them. */
  private listed = new Float64Array(64 * 2);
  /** A lastlog2 file's newest activity and registration (NaN: none). */
  private times: Float64Array;
  /**
   * What was sent of the file, at its listed size: nothing (0, or taken already), SENT_ENABLED or
   * SENT_DISABLED (an accounts file), SENT_SUMMARY (lastlog2).
   */
  private sent = new Uint8Array(64);
  /** A lastlog2 file's skipped records by reason, as FileSummary orders them. */
  private skips: Uint16Array;

  /** `events`: a lastlog2 folder, whose files' events are kept; an accounts folder's are not. */
  constructor(private readonly events = true) {
    this.times = new Float64Array(events ? 64 * 2 : 0);
    this.skips = new Uint16Array(events ? 64 * 3 : 0);
  }

  /**
   * Adds a listed entry (before seal()) and gives its place, for sentAccountAt / sentEventsAt; a
   * name listed twice makes seal() throw.
   */
  add(name: string, type: string, size: number, mtime: number): number {
    if (this.joiner === null) throw new Error('a file listed after its folder was read');
    const i = this.count++;
    if (i === this.types.length) this.grow();
    this.joiner.push(name);
    this.types[i] = type.charCodeAt(0);
    this.listed[i * 2] = size;
    this.listed[i * 2 + 1] = mtime;
    return i;
  }

  /**
   * The listing is whole: names are split out and indexed, once. Throws when a name was listed
   * twice. Everything below seals first.
   */
  seal(): void {
    if (this.joiner === null) return;
    // Empty names and names with a slash never come from the parser.
    const names = PackedNames.fromJoined(this.joiner.text());
    if (names === null) throw new Error('a path listed twice');
    this.joiner = null;
    this.names = names;
    // The room left to grow goes: up to half of what a folder of half a million files holds.
    this.types = this.types.slice(0, this.count);
    this.listed = this.listed.slice(0, this.count * 2);
    this.times = this.times.slice(0, this.events ? this.count * 2 : 0);
    this.sent = this.sent.slice(0, this.count);
    this.skips = this.skips.slice(0, this.events ? this.count * 3 : 0);
  }

  private at(name: string): number | undefined {
    this.seal();
    const i = this.names!.indexOf(name);
    return i < 0 ? undefined : i;
  }

  /** Keeps the flag of the accounts file added at `i`. */
  sentAccountAt(i: number, disabled: boolean): void {
    this.sent[i] = disabled ? SENT_DISABLED : SENT_ENABLED;
  }

  /** Keeps what the events of the lastlog2 file added at `i` come to. */
  sentEventsAt(i: number, events: string): void {
    if (!this.events) throw new Error('events sent for an accounts file');
    summarizeSentEvents(events);
    const s = sentSummary;
    this.times[i * 2] = s.active;
    this.times[i * 2 + 1] = s.registered;
    this.skips[i * 3] = s.notAnEvent;
    this.skips[i * 3 + 1] = s.malformed;
    this.skips[i * 3 + 2] = s.noTimestamp;
    this.sent[i] = SENT_SUMMARY;
  }

  /** The listing, as the reader takes it. */
  entries(): StorageEntry[] {
    const out: StorageEntry[] = [];
    this.each((e) => out.push(e));
    return out;
  }

  /** Each entry of the listing in turn: a million of them are never all objects at once. */
  each(visit: (entry: StorageEntry) => void): void {
    this.seal();
    const names = this.names!;
    for (let i = 0; i < this.count; i++) {
      const t = this.types[i]!;
      const type = entryType(t);
      visit({
        name: names.nameAt(i),
        isDir: t === D,
        size: this.listed[i * 2]!,
        mtime: this.listed[i * 2 + 1]!,
        type,
      });
    }
  }

  /**
   * The listing as the reader keeps it, sharing these names, when every entry is a `.dat` file
   * (as in every folder Prosody writes); undefined otherwise.
   */
  listedFiles(): ListedFiles | undefined {
    this.seal();
    const names = this.names!;
    if (!names.allEndWith('.dat') || this.types.includes(D)) return undefined;
    const types = new Uint8Array(this.count);
    for (let i = 0; i < this.count; i++) types[i] = TYPES.indexOf(entryType(this.types[i]!));
    return new ListedFiles(names, this.listed, types);
  }

  /**
   * What the server sent of `name` when it is still `listedSize` bytes, at most `maxBytes`;
   * null otherwise. Taken once: it is let go.
   */
  take(name: string, maxBytes: number, listedSize: number): FileDigest | null {
    const i = this.at(name);
    if (i === undefined) return null;
    const sent = this.sent[i];
    const size = this.listed[i * 2]!;
    if (sent === 0 || size !== listedSize || size > maxBytes) return null;
    this.sent[i] = 0;
    if (sent !== SENT_SUMMARY) return sent === SENT_DISABLED ? DISABLED : ENABLED;
    const summary: FileSummary = [
      orNull(this.times[i * 2]!),
      orNull(this.times[i * 2 + 1]!),
      this.skips[i * 3]!,
      this.skips[i * 3 + 1]!,
      this.skips[i * 3 + 2]!,
    ];
    return { summary };
  }

  private grow(): void {
    const n = this.types.length * 2;
    const types = new Uint8Array(n);
    types.set(this.types);
    const listed = new Float64Array(n * 2);
    listed.set(this.listed);
    const times = new Float64Array(this.events ? n * 2 : 0);
    times.set(this.times);
    const sent = new Uint8Array(n);
    sent.set(this.sent);
    const skips = new Uint16Array(this.events ? n * 3 : 0);
    skips.set(this.skips);
    this.types = types;
    this.listed = listed;
    this.times = times;
    this.sent = sent;
    this.skips = skips;
  }
}

const SENT_ENABLED = 1;
const SENT_DISABLED = 2;
const SENT_SUMMARY = 3;
/** An accounts file's digest: the same two for every file (nothing changes them). */
const ENABLED: FileDigest = Object.freeze({ disabled: false });
const DISABLED: FileDigest = Object.freeze({ disabled: true });

/** What the reader calls an entry of find's %y (as a char code): undefined for a folder. */
export function entryType(code: number): StorageEntry['type'] {
  return code === F ? 'file' : code === L ? 'link' : code === D ? undefined : 'special';
}

const F = 'f'.charCodeAt(0);
const L = 'l'.charCodeAt(0);
const D = 'd'.charCodeAt(0);

/** A verdict's events: ` key=numeral` each, the numeral as written or empty (no timestamp). */
export const EVENTS_TEXT =
  /^(?: [A-Za-z0-9_]{1,64}=(?:-?\d{1,40}(?:\.\d{1,40})?(?:[eE][-+]?\d{1,5})?)?)*$/;
