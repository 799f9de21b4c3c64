import {
  type AccountFields,
  EMPTY_FLAG,
  PACK_SLOTS,
  type PackBlobs,
  PartBuilder,
  type SlotEdit,
  decodePack,
  packFlags,
} from '../sources/account-packs.js';

/** Where the parts are kept: within the write's transaction. */
export interface PackParts {
  /** Part `part` of `host` as kept now, or null. */
  load(host: string, part: number): PackBlobs | null;
  /** How many parts `host` has, and how many slots its last one holds. */
  tail(host: string): Tail;
  store(host: string, part: number, blobs: PackBlobs): void;
  /** Slot `slot` of `host` is now `edit`, whatever its part holds: see SlotEdit. */
  edit(edit: SlotEdit): void;
}

interface Tail {
  parts: number;
  lastSlots: number;
}

/**
 * The pack parts one write of the cache changes (sources/account-packs.ts), written in the same
 * transaction as the account rows, so that rows and packs never disagree. An account in a slot it
 * already had is a SlotEdit; a new account goes in a new slot at its host's end, whose part is read
 * when the write first touches it and written back at the end. A write of everything anew
 * (`fresh`) writes each part as soon as it is full, and its arrays serve the next.
 */
export class AccountPackEdits {
  private readonly open = new Map<string, { host: string; part: number; b: PartBuilder }>();
  private readonly tails = new Map<string, Tail>();
  private spare: PartBuilder | undefined;

  constructor(
    private readonly kept: PackParts,
    private readonly fresh: boolean,
  ) {}

  /** Puts the account in `slot` (its slot so far), or in a new one; the slot it has now. */
  put(t: AccountFields, slot: number | undefined): number {
    const host = t[0];
    if (slot !== undefined) {
      this.edit(host, slot, t[2] ?? NaN, t[3] ?? NaN, packFlags(t));
      return slot;
    }
    const at = this.append(host);
    const part = this.partOf(at);
    this.part(host, part).put(t, at - part * PACK_SLOTS);
    return at;
  }

  /** The account in `slot` of `host` is gone. */
  empty(host: string, slot: number): void {
    this.edit(host, slot, NaN, NaN, EMPTY_FLAG);
  }

  /** Stores every part still open. */
  end(): void {
    for (const { host, part, b } of this.open.values()) this.kept.store(host, part, b.blobs());
    this.open.clear();
  }

  private edit(
    host: string,
    slot: number,
    lastActive: number,
    registered: number,
    flags: number,
  ): void {
    const tail = this.tail(host);
    const slots = tail.parts === 0 ? 0 : (tail.parts - 1) * PACK_SLOTS + tail.lastSlots;
    if (!Number.isSafeInteger(slot) || slot < 0 || slot >= slots) {
      throw new RangeError(`no slot ${slot} in ${host}'s pack of ${slots}`);
    }
    this.kept.edit({ host, slot, lastActive, registered, flags });
  }

  private partOf(slot: number): number {
    if (!Number.isSafeInteger(slot) || slot < 0) throw new RangeError(`no slot ${slot}`);
    return Math.floor(slot / PACK_SLOTS);
  }

  /** A new slot at the end of `host`'s last part, or of a part added after it. */
  private append(host: string): number {
    const tail = this.tail(host);
    if (tail.parts === 0 || tail.lastSlots === PACK_SLOTS) {
      if (this.fresh && tail.parts > 0) this.close(host, tail.parts - 1);
      tail.parts++;
      tail.lastSlots = 0;
      const b = this.take();
      b.reset();
      this.open.set(partKey(host, tail.parts - 1), { host, part: tail.parts - 1, b });
    }
    return (tail.parts - 1) * PACK_SLOTS + tail.lastSlots++;
  }

  private tail(host: string): Tail {
    let tail = this.tails.get(host);
    if (tail === undefined) {
      tail = this.fresh ? { parts: 0, lastSlots: 0 } : { ...this.kept.tail(host) };
      this.tails.set(host, tail);
    }
    return tail;
  }

  private part(host: string, part: number): PartBuilder {
    const open = this.open.get(partKey(host, part));
    if (open !== undefined) return open.b;
    if (part >= this.tail(host).parts) throw new RangeError(`no part ${part} of ${host}'s pack`);
    // A part kept before, or (a full read of hosts not in order) stored earlier in this write.
    const blobs = this.kept.load(host, part);
    const pack = blobs && decodePack(host, part, blobs);
    if (!pack) damagedPack(host);
    const b = this.take();
    b.reset(pack);
    this.open.set(partKey(host, part), { host, part, b });
    return b;
  }

  /** Stores a full part at once; its arrays serve the next. */
  private close(host: string, part: number): void {
    const key = partKey(host, part);
    const open = this.open.get(key);
    if (open === undefined) return;
    this.kept.store(host, part, open.b.blobs());
    this.open.delete(key);
    this.spare = open.b;
  }

  private take(): PartBuilder {
    const b = this.spare ?? new PartBuilder();
    this.spare = undefined;
    return b;
  }
}

/** A part that cannot be decoded: the write fails, and the cache is left aside. */
export function damagedPack(host: string): never {
  throw new Error(`the cached pack of ${host}'s accounts is damaged`);
}

const partKey = (host: string, part: number) => `${part}\u0000${host}`;
