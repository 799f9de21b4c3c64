/**
 * Reads the stream of files-by-command.ts as it comes, chunk by chunk. Every byte is the server's
 * and untrusted: each record, line and file has a cap, anything out of place stops the read with
 * one short reason, and nothing in it is ever run or shown raw.
 */

import { head, sentFileHead } from './sent-file-record.js';
import { EVENTS_TEXT, StoreListing } from './store-listing.js';

/** One entry as the server listed it (lstat: a link is a link). */
export interface ListedEntry {
  name: string;
  /** find's %y: f file, d folder, l link, anything else special. */
  type: string;
  size: number;
  /** Whole seconds, as SFTP gives them. */
  mtime: number;
}

export interface FilesStreamResult {
  serverNow: number;
  /** The server could not list the folder whole: read it by SFTP instead. */
  fallback: boolean;
  /** Folder path (relative: '' for the data folder, or a host) → its entries. */
  folders: Map<string, ListedEntry[]>;
  /** Relative path → the entry itself, for the folders (a million files are not kept twice). */
  entries: Map<string, ListedEntry>;
  /**
   * A store folder's path (host/store) → its files, with what was sent of each whose size is
   * the listed one.
   */
  stores: Map<string, StoreListing>;
}

/** What came first was not our banner: the account did not run our script. */
export class NotOurScript extends Error {}

const BANNER = /^PAU-FILES 2 (\d{1,12})$/;
/** find's %y, size, whole seconds (a fraction allowed), the path. */
const RECORD = /^([a-zA-Z]) (\d{1,15}) (-?\d{1,15})(?:\.\d{0,12})? ([^\0]+)$/s;
const MAX_BANNER = 64;
const MAX_RECORD = 16 * 1024;
/** The script sends whole records under PIPE_BUF bytes. */
const MAX_WALK_RECORD = 4096;

const ENTRY_RECORD = /^([la]) ([a-zA-Z]) (\d{1,15}) (-?\d{1,15}) ([^/\0]{1,1024})$/s;
const FOLDER_RECORD = /^S ([^/\0]{1,1024})\/(lastlog2|accounts)$/s;
const STATUS_RECORD = /^Z (\d{1,3})$/;
const HOST_END_RECORD = /^E ([^/\0]{1,1024})$/s;

type State = 'banner' | 'listing' | 'walk' | 'fallback' | 'end';

/** The folders of the host being walked, by store; null for one whose records are not used. */
interface Walking {
  host: string;
  lastlog2: StoreListing | null | undefined;
  accounts: StoreListing | null | undefined;
}

export class FilesStreamParser {
  private state: State = 'banner';
  /** A record came after the listing: the listing is whole and no fallback can follow. */
  private sawWalk = false;
  private walking: Walking | null = null;
  private readonly doneHosts = new Set<string>();
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly result: FilesStreamResult = {
    serverNow: 0,
    fallback: false,
    folders: new Map(),
    entries: new Map(),
    stores: new Map(),
  };

  /** Takes the next chunk; throws NotOurScript, or an Error saying what is wrong. */
  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      const separator = this.state === 'banner' ? 10 : 0;
      const end = chunk.indexOf(separator, at);
      const piece = chunk.subarray(at, end < 0 ? chunk.length : end);
      this.pendingBytes += piece.length;
      if (this.pendingBytes > this.limit()) {
        if (this.state === 'banner') throw new NotOurScript('no banner');
        throw new Error(`a ${this.state === 'listing' ? 'name' : 'record'} too long`);
      }
      at = end + 1;
      if (end >= 0 && this.pending.length === 0) {
        // A whole record in this chunk (most are): no list to gather it in.
        this.pendingBytes = 0;
        this.take(piece);
        continue;
      }
      this.pending.push(piece);
      if (end < 0) return;
      const whole = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
      this.pending = [];
      this.pendingBytes = 0;
      this.take(whole);
    }
  }

  /**
   * The listing is whole (a record came after it): sofar() has every host and store folder, and
   * the store folders' files come host by host.
   */
  get listed(): boolean {
    return this.state === 'end' || this.state === 'fallback' || this.sawWalk;
  }

  /** The hosts whose walk ended (their end record came), as the stream goes on. */
  get walkedHosts(): ReadonlySet<string> {
    return this.doneHosts;
  }

  /** What was sent of `host`'s files is all here: its end record came, or the stream's end. */
  hostComplete(host: string): boolean {
    return this.state === 'end' || this.doneHosts.has(host);
  }

  /** The result as it stands, filled as the stream goes on; whole once end() returned it. */
  sofar(): FilesStreamResult {
    return this.result;
  }

  /** The stream ended: the result, when it was whole. */
  end(): FilesStreamResult {
    if (this.state === 'banner') throw new NotOurScript('no banner');
    if (this.pendingBytes > 0 || (this.state !== 'end' && this.state !== 'fallback')) {
      throw new Error('the stream stopped before its end');
    }
    return this.result;
  }

  private limit(): number {
    return this.state === 'banner'
      ? MAX_BANNER
      : this.state === 'listing'
        ? MAX_RECORD
        : MAX_WALK_RECORD;
  }

  private take(piece: Buffer): void {
    switch (this.state) {
      case 'banner': {
        const m = BANNER.exec(piece.toString('latin1'));
        if (!m) throw new NotOurScript('no banner');
        this.result.serverNow = Number(m[1]);
        this.state = 'listing';
        return;
      }
      case 'listing':
        if (piece.length === 0) this.state = 'walk';
        else this.record(piece);
        return;
      case 'walk':
        this.walk(piece);
        return;
      default:
        throw new Error('more after the end');
    }
  }

  /** A data folder or host folder entry. */
  private record(piece: Buffer): void {
    const text = piece.toString('utf8');
    const m = RECORD.exec(text);
    if (!m) throw new Error('a listing record out of shape');
    const path = m[4]!;
    const parts = path.split('/');
    if (parts.length > 2 || parts.some((p) => p === '' || p === '.' || p === '..')) {
      throw new Error('a listed path out of place');
    }
    const at = this.result.entries;
    if (at.has(path)) throw new Error('a path listed twice');
    const name = parts[parts.length - 1]!;
    const entry: ListedEntry = { name, type: m[1]!, size: Number(m[2]), mtime: Number(m[3]) };
    at.set(path, entry);
    const parent = parts.length === 1 ? '' : parts[0]!;
    let siblings = this.result.folders.get(parent);
    if (siblings === undefined) this.result.folders.set(parent, (siblings = []));
    siblings.push(entry);
  }

  private walk(piece: Buffer): void {
    const first = piece[0];
    if (!this.sawWalk && piece.toString('latin1') === 'PAU-FALLBACK') {
      // The listing could not be made whole: what there is of it is not used.
      this.result.folders.clear();
      this.result.entries.clear();
      this.result.fallback = true;
      this.state = 'fallback';
      return;
    }
    this.sawWalk = true;
    if (first === L || first === A) {
      const shaped =
        sentFileHead(piece) &&
        (first === L ? eventsShaped(piece, head.nameEnd) : accountShaped(piece, head.nameEnd));
      if (!shaped)
        throw new Error(first === L ? 'an event out of shape' : 'an account record out of shape');
      const store = this.folder(first === L ? 'lastlog2' : 'accounts');
      if (store === null) return;
      const name = piece.toString('latin1', head.nameStart, head.nameEnd);
      const i = store.add(name, 'f', head.size, head.mtime);
      if (first === A) {
        store.sentAccountAt(i, piece[head.nameEnd + 1] === ONE);
        return;
      }
      const events = piece.toString('latin1', head.nameEnd);
      if (EVENTS_TEXT.test(events)) store.sentEventsAt(i, events);
      else throw new Error('an event out of shape');
      return;
    }
    const text = piece.toString('utf8');
    if (first === SMALL_L || first === SMALL_A) {
      const m = ENTRY_RECORD.exec(text);
      if (!m || m[5] === '.' || m[5] === '..') throw new Error('a listing record out of shape');
      const store = this.folder(first === SMALL_L ? 'lastlog2' : 'accounts');
      if (store !== null) store.add(m[5]!, m[2]!, Number(m[3]), Number(m[4]));
      return;
    }
    let m = FOLDER_RECORD.exec(text);
    if (m) return this.folderStart(m[1]!, m[2] as 'lastlog2' | 'accounts');
    m = STATUS_RECORD.exec(text);
    if (m) {
      if (m[1] !== '0') throw new Error('the server could not list a store folder whole');
      return;
    }
    m = HOST_END_RECORD.exec(text);
    if (m) {
      // A host with no changed folder ends with nothing walked.
      const host = m[1]!;
      if ((this.walking !== null && this.walking.host !== host) || this.doneHosts.has(host)) {
        throw new Error('a host ended out of place');
      }
      this.hostDone(host);
      return;
    }
    if (text === 'PAU-END') {
      if (this.walking !== null) throw new Error('a host without its end');
      for (const store of this.result.stores.values()) store.seal();
      this.state = 'end';
      return;
    }
    throw new Error('a record out of place');
  }

  /**
   * A store folder's walk starts, or one half of it: its files follow, interleaved with the host's
   * other walks.
   */
  private folderStart(host: string, store: 'lastlog2' | 'accounts'): void {
    if (this.doneHosts.has(host)) throw new Error('a host sent in two parts');
    if (this.walking === null) this.walking = { host, lastlog2: undefined, accounts: undefined };
    else if (this.walking.host !== host) throw new Error('a host sent in two parts');
    // The other half of a folder being walked.
    if (this.walking[store] !== undefined) return;
    const path = `${host}/${store}`;
    // A folder the listing did not have as changed (it changed since): the cache's stands.
    const listed = this.result.entries.get(path)?.type === 'd' && this.hostListed(host);
    const listing = listed ? new StoreListing(store === 'lastlog2') : null;
    if (listing !== null) this.result.stores.set(path, listing);
    this.walking[store] = listing;
  }

  private hostListed(host: string): boolean {
    return this.result.entries.get(host)?.type === 'd';
  }

  /** The listing records of `store` go to, or null when they are not used. */
  private folder(store: 'lastlog2' | 'accounts'): StoreListing | null {
    const listing = this.walking?.[store];
    if (listing === undefined) throw new Error('a file before its folder');
    return listing;
  }

  /** `host`'s files are all here: its listings are sealed here, where a fault stops the stream. */
  private hostDone(host: string): void {
    for (const store of [this.walking?.lastlog2, this.walking?.accounts]) store?.seal();
    this.walking = null;
    this.doneHosts.add(host);
  }
}

/** An accounts record's rest: ` 0` or ` 1`. */
function accountShaped(piece: Buffer, at: number): boolean {
  return (
    piece.length === at + 2 &&
    piece[at] === SPACE &&
    (piece[at + 1] === ZERO || piece[at + 1] === ONE)
  );
}

/** A lastlog2 record's rest: words each after one space (what EVENTS_TEXT then reads). */
function eventsShaped(piece: Buffer, at: number): boolean {
  if (at === piece.length) return true;
  if (piece[at] !== SPACE || piece[piece.length - 1] === SPACE) return false;
  for (let k = at + 1; k < piece.length; k++) {
    if (piece[k] === SPACE && piece[k - 1] === SPACE) return false;
  }
  return true;
}

const SPACE = 0x20;
const ZERO = 0x30;
const ONE = 0x31;
const L = 0x4c;
const A = 0x41;
const SMALL_L = 0x6c;
const SMALL_A = 0x61;
