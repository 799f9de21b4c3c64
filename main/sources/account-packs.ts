import type { ActivityQueryTuple } from './activity-query.js';

/**
 * One host's cached accounts as a count reads them: by slot, in three typed arrays, without
 * names. A million accounts as rows cost a second to cross from SQLite into JavaScript (about
 * half a microsecond a row, whatever is in it); as three blobs, milliseconds (issue 14, row 3
 * after commits). The skip counts are not here: few accounts have any, and they are read as rows.
 */
export interface AccountPack {
  host: string;
  /** last_active, NaN for none. */
  lastActive: Float64Array;
  /** registered, NaN for none. */
  registered: Float64Array;
  /** The account code in bits 0–1 (3: not read), ROLE_FLAG, EMPTY_FLAG for a slot no account holds. */
  flags: Uint8Array;
}

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

/** A pack's blobs as SQLite keeps them. */
export interface PackBlobs {
  lastActive: Uint8Array;
  registered: Uint8Array;
  flags: Uint8Array;
}

/** The pack of `host` from its blobs; null when they do not agree on how many slots there are. */
export function decodePack(host: string, blobs: PackBlobs): AccountPack | null {
  const slots = blobs.flags.length;
  if (blobs.lastActive.length !== slots * 8 || blobs.registered.length !== slots * 8) return null;
  // Copied: a Float64Array needs its bytes aligned, and a blob's bytes need not be.
  const lastActive = new Float64Array(slots);
  new Uint8Array(lastActive.buffer).set(blobs.lastActive);
  const registered = new Float64Array(slots);
  new Uint8Array(registered.buffer).set(blobs.registered);
  return { host, lastActive, registered, flags: Uint8Array.from(blobs.flags) };
}

/**
 * A host's pack being written: slots set, added or emptied, then its blobs. Grows by doubling,
 * so that a million accounts added one by one are copied a few times, not a million.
 */
export class PackBuilder {
  private lastActive: Float64Array;
  private registered: Float64Array;
  private flags: Uint8Array;
  private used: number;

  constructor(from?: AccountPack) {
    this.used = from?.flags.length ?? 0;
    const capacity = Math.max(1024, this.used);
    this.lastActive = new Float64Array(capacity);
    this.registered = new Float64Array(capacity);
    this.flags = new Uint8Array(capacity);
    if (from !== undefined) {
      this.lastActive.set(from.lastActive);
      this.registered.set(from.registered);
      this.flags.set(from.flags);
    }
  }

  /** How many slots there are. */
  get slots(): number {
    return this.used;
  }

  /** Puts `t` in `slot`, or in a new slot when none is given; the slot. */
  put(t: AccountFields, slot?: number): number {
    const at = slot ?? this.grow();
    if (!Number.isSafeInteger(at) || at < 0 || at >= this.used) {
      throw new RangeError(`no slot ${at} in a pack of ${this.used}`);
    }
    this.lastActive[at] = t[2] ?? NaN;
    this.registered[at] = t[3] ?? NaN;
    this.flags[at] = packFlags(t);
    return at;
  }

  /** The account in `slot` is gone; the slot stays empty until the pack is written anew. */
  empty(slot: number): void {
    if (!Number.isSafeInteger(slot) || slot < 0 || slot >= this.used) {
      throw new RangeError(`no slot ${slot} in a pack of ${this.used}`);
    }
    this.lastActive[slot] = NaN;
    this.registered[slot] = NaN;
    this.flags[slot] = EMPTY_FLAG;
  }

  blobs(): PackBlobs {
    const n = this.used;
    return {
      lastActive: new Uint8Array(this.lastActive.buffer, 0, n * 8),
      registered: new Uint8Array(this.registered.buffer, 0, n * 8),
      flags: this.flags.subarray(0, n),
    };
  }

  private grow(): number {
    if (this.used === this.flags.length) {
      const capacity = this.flags.length * 2;
      const la = new Float64Array(capacity);
      la.set(this.lastActive);
      const reg = new Float64Array(capacity);
      reg.set(this.registered);
      const flags = new Uint8Array(capacity);
      flags.set(this.flags);
      this.lastActive = la;
      this.registered = reg;
      this.flags = flags;
    }
    return this.used++;
  }
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
