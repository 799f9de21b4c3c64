import type { ActivityQueryTuple } from './activity-query.js';

/**
 * A host's cached accounts as a count reads them: by slot, in parts of PACK_SLOTS slots, each three
 * typed arrays without names. A million accounts as rows cost a second to cross from SQLite into
 * JavaScript (about half a microsecond a row, whatever is in it); as blobs, milliseconds (issue 14,
 * row 3 after commits). Parts rather than one pack a host: a full read holds one part at a time
 * (issue 14, row 2: a host's arrays, doubled as they grow, sat beside the read's own memory). The
 * skip counts are not here: few accounts have any, and they are read as rows.
 */
export interface AccountPack {
  host: string;
  /** The slot of the part's first entry. */
  first: number;
  /** last_active, NaN for none. */
  lastActive: Float64Array;
  /** registered, NaN for none. */
  registered: Float64Array;
  /** The account code in bits 0–1 (3: not read), ROLE_FLAG, EMPTY_FLAG for a slot no account holds. */
  flags: Uint8Array;
}

/** Slots a part holds: every part of a host but its last is full. */
export const PACK_SLOTS = 65536;

/** An ActivityQueryTuple, or a row that starts with one (the remote query's adds its digest). */
export type AccountFields = readonly [...ActivityQueryTuple, ...unknown[]];

export const ROLE_FLAG = 4;
export const EMPTY_FLAG = 128;
const NO_ACCOUNT_CODE = 3;

/** A tuple's flags byte. */
export function packFlags(t: AccountFields): number {
  const code = t[7] === 0 || t[7] === 1 || t[7] === 2 ? t[7] : NO_ACCOUNT_CODE;
  return code | (t[8] === 1 ? ROLE_FLAG : 0);
}

/** The account code a flags byte holds, as ActivityQueryTuple spells it. */
export function accountCodeOf(flags: number): 0 | 1 | 2 | null {
  const code = flags & 3;
  return code === NO_ACCOUNT_CODE ? null : (code as 0 | 1 | 2);
}

/** A part's blobs as SQLite keeps them. */
export interface PackBlobs {
  lastActive: Uint8Array;
  registered: Uint8Array;
  flags: Uint8Array;
}

/**
 * Part `part` of `host` from its blobs; null when they do not agree on how many slots there are,
 * or hold none or more than a part may.
 */
export function decodePack(host: string, part: number, blobs: PackBlobs): AccountPack | null {
  const slots = blobs.flags.length;
  if (slots === 0 || slots > PACK_SLOTS) return null;
  if (blobs.lastActive.length !== slots * 8 || blobs.registered.length !== slots * 8) return null;
  // Copied: a Float64Array needs its bytes aligned, and a blob's bytes need not be.
  const lastActive = new Float64Array(slots);
  new Uint8Array(lastActive.buffer).set(blobs.lastActive);
  const registered = new Float64Array(slots);
  new Uint8Array(registered.buffer).set(blobs.registered);
  const flags = Uint8Array.from(blobs.flags);
  return { host, first: part * PACK_SLOTS, lastActive, registered, flags };
}

/** One part being written: slots set, added at its end, or emptied, then its blobs. */
export class PartBuilder {
  private readonly lastActive = new Float64Array(PACK_SLOTS);
  private readonly registered = new Float64Array(PACK_SLOTS);
  private readonly flags = new Uint8Array(PACK_SLOTS);
  private used = 0;

  /** Starts as `from` (a decoded part), or empty. */
  constructor(from?: AccountPack) {
    if (from !== undefined) this.reset(from);
  }

  /** The part becomes `from`, or empty: a full read's arrays serve its next part. */
  reset(from?: AccountPack): void {
    this.used = from?.flags.length ?? 0;
    if (from !== undefined) {
      this.lastActive.set(from.lastActive);
      this.registered.set(from.registered);
      this.flags.set(from.flags);
    }
  }

  /** How many slots are used. */
  get slots(): number {
    return this.used;
  }

  /** Puts `t` at `offset`: a slot in use, or the next one. */
  put(t: AccountFields, offset: number): void {
    this.check(offset, this.used < PACK_SLOTS ? this.used + 1 : this.used);
    if (offset === this.used) this.used++;
    this.lastActive[offset] = t[2] ?? NaN;
    this.registered[offset] = t[3] ?? NaN;
    this.flags[offset] = packFlags(t);
  }

  /** Views of the arrays' bytes: valid until the part is next changed. */
  blobs(): PackBlobs {
    const n = this.used;
    return {
      lastActive: new Uint8Array(this.lastActive.buffer, 0, n * 8),
      registered: new Uint8Array(this.registered.buffer, 0, n * 8),
      flags: this.flags.subarray(0, n),
    };
  }

  private check(offset: number, end: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset >= end) {
      throw new RangeError(`no slot ${offset} in a part of ${this.used}`);
    }
  }
}

/**
 * One slot's figures, kept beside its part rather than in it (store/account-pack-edits.ts): a
 * merge that changes a thousand accounts spread over every part would otherwise write every part
 * again, 17 bytes an account (17 MB at 1 M accounts; with its commit, about 160 ms of a 210 ms
 * merge here, issue 14 row 3). Reading the packs sets the edits over the parts; a write of
 * everything anew drops them, so they hold at most the accounts changed since the last full read.
 */
export interface SlotEdit {
  host: string;
  slot: number;
  /** NaN for none, as in the packs. */
  lastActive: number;
  registered: number;
  flags: number;
}

/** Sets each edit's slot in the part of `packs` that holds it, in place; false when none does. */
export function applySlotEdits(packs: readonly AccountPack[], edits: Iterable<SlotEdit>): boolean {
  const parts = new Map<string, AccountPack[]>();
  for (const p of packs) {
    let list = parts.get(p.host);
    if (list === undefined) parts.set(p.host, (list = []));
    list[p.first / PACK_SLOTS] = p;
  }
  for (const e of edits) {
    if (!Number.isSafeInteger(e.slot) || e.slot < 0) return false;
    const part = parts.get(e.host)?.[Math.floor(e.slot / PACK_SLOTS)];
    const offset = e.slot - (part?.first ?? 0);
    if (part === undefined || offset >= part.flags.length) return false;
    part.lastActive[offset] = e.lastActive;
    part.registered[offset] = e.registered;
    part.flags[offset] = e.flags;
  }
  return true;
}

/** The newest last_active or registered time the packs hold, or null when none. */
export function newestInPacks(packs: Iterable<AccountPack>): number | null {
  let newest = -Infinity;
  for (const p of packs) {
    const n = p.flags.length;
    for (let i = 0; i < n; i++) {
      // NaN (none) never compares greater.
      if (p.lastActive[i]! > newest) newest = p.lastActive[i]!;
      if (p.registered[i]! > newest) newest = p.registered[i]!;
    }
  }
  return newest === -Infinity ? null : newest;
}
