/**
 * Reads the stream of files-by-command.ts as it comes, chunk by chunk. Every byte is the server's
 * and untrusted: each record, line and file has a cap, anything out of place stops the read with
 * one short reason, and nothing in it is ever run or shown raw.
 */

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

const SLASH = 0x2f;
const BANNER = /^PAU-FILES 1 (\d{1,12})$/;
const RECORD = /^([a-zA-Z]) (\d{1,15}) (\d{1,15})(?:\.\d{0,12})? ([^\0]+)$/s;
const MAX_BANNER = 64;
const MAX_RECORD = 16 * 1024;
/** A verdict line: a path and a few events. */
const MAX_LINE = 4096;

type State = 'banner' | 'listing' | 'lines' | 'fallback' | 'end';

export class FilesStreamParser {
  private state: State = 'banner';
  /** A line came after the listing: the listing is whole and no fallback can follow. */
  private sawLine = false;
  /** The host of the last file line, and the hosts whose lines are over (a later host's came). */
  private host: string | null = null;
  private readonly doneHosts = new Set<string>();
  /** Each host's store listings, sealed when the host's lines are over. */
  private readonly storesOf = new Map<string, StoreListing[]>();
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
      const separator = this.state === 'listing' ? 0 : 10;
      const end = chunk.indexOf(separator, at);
      const piece = chunk.subarray(at, end < 0 ? chunk.length : end);
      this.pendingBytes += piece.length;
      if (this.pendingBytes > this.limit()) {
        if (this.state === 'banner') throw new NotOurScript('no banner');
        throw new Error(`a ${this.state === 'listing' ? 'name' : 'line'} too long`);
      }
      this.pending.push(piece);
      if (end < 0) return;
      at = end + 1;
      const whole = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
      this.pending = [];
      this.pendingBytes = 0;
      this.take(whole);
    }
  }

  /**
   * The listing is whole (a line came after it): sofar() has every folder and file listed, and
   * what was sent of each file comes host by host.
   */
  get listed(): boolean {
    return this.state === 'end' || this.state === 'fallback' || this.sawLine;
  }

  /** What was sent of `host`'s files is all here: a later host's came, or the end. */
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
    return this.state === 'banner' ? MAX_BANNER : this.state === 'listing' ? MAX_RECORD : MAX_LINE;
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
        if (piece.length === 0) this.state = 'lines';
        else this.record(piece);
        return;
      case 'lines':
        this.line(piece);
        return;
      default:
        throw new Error('more after the end');
    }
  }

  private record(piece: Buffer): void {
    const text = piece.toString('utf8');
    const m = RECORD.exec(text);
    if (!m) throw new Error('a listing record out of shape');
    const path = m[4]!;
    const parts = path.split('/');
    if (parts.length > 3 || parts.some((p) => p === '' || p === '.' || p === '..')) {
      throw new Error('a listed path out of place');
    }
    const name = parts[parts.length - 1]!;
    if (parts.length === 3) {
      // A store's file: packed, a million of them. Its name is decoded on its own: a piece of
      // the record's text would keep the whole record alive with it.
      const parent = path.slice(0, path.length - name.length - 1);
      let store = this.result.stores.get(parent);
      if (store === undefined) {
        this.result.stores.set(parent, (store = new StoreListing()));
        const host = parts[0]!;
        this.storesOf.set(host, [...(this.storesOf.get(host) ?? []), store]);
      }
      const own = piece.toString('utf8', piece.lastIndexOf(SLASH) + 1);
      if (own !== name) throw new Error('a listed path out of place');
      store.add(own, m[1]!, Number(m[2]), Number(m[3]));
      return;
    }
    const at = this.result.entries;
    if (at.has(path)) throw new Error('a path listed twice');
    const entry: ListedEntry = { name, type: m[1]!, size: Number(m[2]), mtime: Number(m[3]) };
    at.set(path, entry);
    const parent = parts.slice(0, -1).join('/');
    let siblings = this.result.folders.get(parent);
    if (siblings === undefined) this.result.folders.set(parent, (siblings = []));
    siblings.push(entry);
  }

  /** `host`'s lines are over: its listings are sealed here, where a fault stops the stream. */
  private hostDone(host: string): void {
    for (const store of this.storesOf.get(host) ?? []) store.seal();
    this.doneHosts.add(host);
  }

  private line(piece: Buffer): void {
    this.sawLine = true;
    const text = piece.toString('latin1');
    const m = VERDICT.exec(text);
    if (m) {
      const path = m[2]!;
      const host = path.slice(0, path.indexOf('/'));
      if (host !== this.host) {
        // A host's lines after another's: what was counted of it already could be short.
        if (this.doneHosts.has(host)) throw new Error('a host sent in two parts');
        if (this.host !== null) this.hostDone(this.host);
        this.host = host;
      }
      if ((m[1] === 'L') !== path.includes('/lastlog2/'))
        throw new Error('a verdict in the wrong store');
      const bytes = Number(m[3]);
      const slash = path.lastIndexOf('/');
      const name = path.slice(slash + 1);
      const store = this.result.stores.get(path.slice(0, slash));
      // One created or changed since the listing, or in a folder not listed, is not used: SFTP
      // reads it.
      if (store === undefined || !store.accepts(name, bytes)) return;
      const rest = m[4]!;
      if (m[1] === 'A' ? rest !== ' 0' && rest !== ' 1' : !EVENTS_TEXT.test(rest)) {
        throw new Error(m[1] === 'A' ? 'an account line out of shape' : 'an event out of shape');
      }
      if (m[1] === 'A') store.sentAccount(name, bytes, rest === ' 1');
      else store.sentEvents(name, bytes, rest);
      return;
    }
    if (text === 'PAU-END') {
      for (const store of this.result.stores.values()) store.seal();
      this.state = 'end';
      return;
    }
    if (text === 'PAU-FALLBACK' && this.result.entries.size + this.result.stores.size === 0) {
      this.result.fallback = true;
      this.state = 'fallback';
      return;
    }
    throw new Error('a line out of place');
  }
}

/** The script's names are letters, digits and %: nothing else can come in a verdict. */
const VERDICT =
  /^([LA]) \.\/([A-Za-z0-9%]+\/(?:lastlog2|accounts)\/[A-Za-z0-9%.]+) (\d{1,9})((?: [^ ]+)*)$/;
