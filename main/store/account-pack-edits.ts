import {
  type AccountFields,
  type AccountPack,
  type PackBlobs,
  PackBuilder,
  decodePack,
} from '../sources/account-packs.js';

/**
 * The packs one write of the cache changes (sources/account-packs.ts), written in the same
 * transaction as the account rows, so that rows and packs never disagree. A host's pack is read
 * when the write first touches it. A write of everything anew (`fresh`) keeps one host's pack in
 * memory at a time: the rows come host by host, and a million accounts' arrays, doubled as they
 * grow, would otherwise sit beside the first read's own memory (issue 14, row 2).
 */
export class AccountPackEdits {
  private readonly builders = new Map<string, PackBuilder>();
  /** Hosts whose pack this write has stored already (a fresh write's earlier hosts). */
  private readonly stored = new Set<string>();
  private lastHost: string | null = null;

  /** `load`: the host's pack as kept now, or null; `store` keeps one. */
  constructor(
    private readonly load: (host: string) => PackBlobs | null,
    private readonly store: (host: string, blobs: PackBlobs) => void,
    private readonly fresh: boolean,
  ) {}

  /** Puts the account in `slot` (its slot so far), or in a new one; the slot it has now. */
  put(t: AccountFields, slot: number | undefined): number {
    return this.builder(t[0]).put(t, slot);
  }

  /** The account in `slot` of `host` is gone. */
  empty(host: string, slot: number): void {
    this.builder(host).empty(slot);
  }

  /** Stores every pack still held. */
  end(): void {
    for (const [host, b] of this.builders) this.store(host, b.blobs());
    this.builders.clear();
  }

  private builder(host: string): PackBuilder {
    const held = this.builders.get(host);
    if (held !== undefined) return held;
    if (this.fresh && this.lastHost !== null) {
      const last = this.builders.get(this.lastHost);
      if (last !== undefined) {
        this.store(this.lastHost, last.blobs());
        this.builders.delete(this.lastHost);
        this.stored.add(this.lastHost);
      }
    }
    this.lastHost = host;
    // A host seen again after its pack was stored goes on from that pack.
    const b = new PackBuilder(this.fresh && !this.stored.has(host) ? undefined : this.kept(host));
    this.builders.set(host, b);
    return b;
  }

  private kept(host: string): AccountPack | undefined {
    const blobs = this.load(host);
    if (blobs === null) return undefined;
    const pack = decodePack(host, blobs);
    if (pack === null) throw new Error(`the cached pack of ${host}'s accounts is damaged`);
    return pack;
  }
}
