import {
  type AccountPack,
  PACK_SLOTS,
  type SlotEdit,
  applySlotEdits,
  newestInPacks,
} from '../sources/account-packs.js';

/** A key's packs as decoded at one data_version of the cache's database; null: damaged. */
export interface Held {
  version: number;
  packs: AccountPack[] | null;
  newest?: number | null;
}

/**
 * Each key's packs as last decoded, so that one refresh decodes them once: it reads them for the
 * newest time held, for the merge and for the count, and each decode reads 17 bytes an account out
 * of SQLite (16–30 ms at 1 M here, several times that on a cold start). What is held stands only
 * while the database's data_version is the one it was read at: another process's commit (a CLI
 * run beside the app, on the same state folder) moves it, and the next read decodes again. This
 * connection's own writes leave data_version as it is, so every write drops the key or patches in
 * the parts and slots it wrote.
 */
export class HeldPacks {
  private readonly held = new Map<string, Held>();

  constructor(private readonly dataVersion: () => number) {}

  /** What is held of `key` and still current, or null. */
  current(key: string): Held | null {
    const held = this.held.get(key);
    return held !== undefined && held.version === this.dataVersion() ? held : null;
  }

  /** `key`'s packs, decoded by `read` unless current ones are held. */
  packs(key: string, read: () => AccountPack[] | null): Held {
    const current = this.current(key);
    if (current !== null) return current;
    // Read before the rows: a commit in between makes what is held look older, never newer.
    const held: Held = { version: this.dataVersion(), packs: null };
    held.packs = read();
    this.held.set(key, held);
    return held;
  }

  /** The newest time in `key`'s packs (see newestInPacks); undefined when they are damaged. */
  newest(key: string, read: () => AccountPack[] | null): number | null | undefined {
    const held = this.packs(key, read);
    if (held.packs === null) return undefined;
    if (held.newest === undefined) held.newest = newestInPacks(held.packs);
    return held.newest;
  }

  drop(key: string): void {
    this.held.delete(key);
  }

  /**
   * After this connection committed `written` (decoded copies of the parts it stored) and `edited`
   * over what `base` held: the packs as they now are in the database.
   */
  patch(
    key: string,
    base: Held,
    written: readonly AccountPack[],
    edited: readonly SlotEdit[],
  ): void {
    if (base.packs === null) return this.drop(key);
    const byHost = new Map<string, AccountPack[]>();
    for (const p of [...base.packs, ...written]) {
      let parts = byHost.get(p.host);
      if (parts === undefined) byHost.set(p.host, (parts = []));
      parts[p.first / PACK_SLOTS] = p;
    }
    const packs: AccountPack[] = [];
    for (const parts of byHost.values()) {
      // A write adds parts only after a host's last, and fills a part before it adds one: any
      // hole or short part within is not what the database holds.
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i];
        if (p === undefined || (i < parts.length - 1 && p.flags.length !== PACK_SLOTS)) {
          return this.drop(key);
        }
        packs.push(p);
      }
    }
    // The edits are kept beside the parts, so a part written here does not hold them yet.
    if (!applySlotEdits(packs, edited)) return this.drop(key);
    this.held.set(key, { version: base.version, packs });
  }
}
