/**
 * The account cache (see sources/account-cache.ts) in a SQLite file of its own in the state folder.
 * It is a cache: a file that is damaged, foreign or from another version is set aside and a new one
 * started, which costs one full fetch and nothing else. Durability is relaxed for the same reason
 * (WAL, synchronous NORMAL): a crash loses at most the last refresh's shortcut.
 */
import { randomInt } from 'node:crypto';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type {
  AccountCache,
  CachedFolder,
  CheckedHostTotals,
  FolderDates,
  FolderWriter,
  HeldAccount,
  SnapshotInfo,
  StoredSnapshot,
  UnchangedProof,
} from '../sources/account-cache.js';
import { FileTable } from '../sources/file-table.js';
import {
  type AccountPack,
  PACK_SLOTS,
  type PackBlobs,
  type SlotEdit,
  applySlotEdits,
  decodePack,
} from '../sources/account-packs.js';
import { AccountPackEdits, damagedPack } from './account-pack-edits.js';
import { type Held, HeldPacks } from './held-packs.js';
import { FileTableWriter } from '../sources/file-table-writer.js';
import { isFileState } from '../sources/file-state.js';
import type { ActivityQueryOutput, ActivityQueryTuple } from '../sources/activity-query.js';
import { accountDigestKey, digestTerm, hostDigest } from '../sources/account-digest.js';
import {
  type ChangedAccount,
  type DigestedTuple,
  ROW_DIGEST_P,
  isRowDigest,
  isRowid,
} from '../sources/row-digest.js';
import { BUSY_TIMEOUT_MS } from './history-db.js';
import { makeDbFilesPrivate } from './private-files.js';
import { sqliteBindingOptions } from './sqlite-binding.js';

/** Bumped whenever the tables change: an older cache is simply started again. */
const CACHE_VERSION = 10;
const APPLICATION_ID = 0x50415543; // "PAUC"

const SCHEMA = `
CREATE TABLE snapshot (
  key TEXT PRIMARY KEY,
  stamp TEXT NOT NULL,
  full_at INTEGER NOT NULL,
  server_now INTEGER,
  -- JSON of the UnchangedProof, or NULL.
  proof TEXT,
  -- The remote query's digest of the rows no cached account holds (sources/row-digest.ts).
  rest INTEGER,
  -- The sum of the accounts' row_digest modulo its prime, kept with every write of them (a sum
  -- over a million rows costs a tenth of a second); NULL when one has none.
  held INTEGER
) STRICT;
CREATE TABLE account (
  key TEXT NOT NULL,
  host TEXT NOT NULL,
  user TEXT NOT NULL,
  last_active REAL,
  registered REAL,
  not_an_event INTEGER NOT NULL,
  malformed INTEGER NOT NULL,
  no_timestamp INTEGER NOT NULL,
  -- Only the flag of an account is kept: 0 none, 1 enabled, 2 disabled, NULL not read.
  account INTEGER,
  has_role INTEGER NOT NULL,
  -- The account's term of its host's digest (sources/account-digest.ts).
  digest INTEGER NOT NULL,
  -- The remote query's digest of the account's rows (sources/row-digest.ts), or NULL.
  row_digest INTEGER,
  -- Where its figures are in its host's pack (account_pack).
  slot INTEGER NOT NULL,
  PRIMARY KEY (key, host, user)
) STRICT, WITHOUT ROWID;
-- The few accounts with a skipped row: a count reads them as rows, every other from the packs.
CREATE INDEX account_skipped ON account (key)
  WHERE not_an_event > 0 OR malformed > 0 OR no_timestamp > 0;
-- Each host's accounts as a count reads them (sources/account-packs.ts): the same figures as
-- their rows, by slot, in parts of three blobs, written with the rows in each transaction.
CREATE TABLE account_pack (
  key TEXT NOT NULL,
  host TEXT NOT NULL,
  part INTEGER NOT NULL,
  last_active BLOB NOT NULL,
  registered BLOB NOT NULL,
  flags BLOB NOT NULL,
  PRIMARY KEY (key, host, part)
) STRICT;
-- Slots changed since their part was written (store/account-pack-edits.ts SlotEdit): read over
-- the parts; dropped with them by a write of everything anew.
CREATE TABLE account_pack_edit (
  key TEXT NOT NULL,
  host TEXT NOT NULL,
  slot INTEGER NOT NULL,
  -- NULL for none.
  last_active REAL,
  registered REAL,
  flags INTEGER NOT NULL,
  PRIMARY KEY (key, host, slot)
) STRICT, WITHOUT ROWID;
-- Accounts without lastlog2 rows that a changes-only read sent (sources/row-digest.ts): their
-- digest, which is in the snapshot's rest.
CREATE TABLE rest_account (
  key TEXT NOT NULL,
  host TEXT NOT NULL,
  user TEXT NOT NULL,
  rest INTEGER NOT NULL,
  PRIMARY KEY (key, host, user)
) STRICT, WITHOUT ROWID;
-- A folder of internal storage as last listed; its files' table is the parts of write gen.
CREATE TABLE folder (
  key TEXT NOT NULL,
  path TEXT NOT NULL,
  mtime REAL NOT NULL,
  listed_at REAL NOT NULL,
  full_at REAL NOT NULL,
  gen INTEGER NOT NULL,
  files INTEGER NOT NULL,
  PRIMARY KEY (key, path)
) STRICT, WITHOUT ROWID;
-- A folder's files' table in parts (sources/file-table-writer.ts), each as encode() gives it: the
-- names joined in one string, the numbers as the bytes of their typed arrays. Written as the
-- count reads the files, under a write number of their own: a count that fails half-way leaves
-- parts no folder row names, and the next write of the folder drops them.
CREATE TABLE folder_part (
  key TEXT NOT NULL,
  path TEXT NOT NULL,
  gen INTEGER NOT NULL,
  part INTEGER NOT NULL,
  names TEXT NOT NULL,
  nums BLOB NOT NULL,
  skips BLOB NOT NULL,
  kinds BLOB NOT NULL,
  PRIMARY KEY (key, path, gen, part)
) STRICT;
`;

function open(path: string): Database.Database {
  makeDbFilesPrivate(path);
  const db = new Database(path, sqliteBindingOptions());
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const version = db.pragma('user_version', { simple: true }) as number;
    const appId = db.pragma('application_id', { simple: true }) as number;
    const empty =
      (db.prepare('SELECT count(*) AS n FROM sqlite_schema').get() as { n: number }).n === 0;
    if (!empty && (appId !== APPLICATION_ID || version !== CACHE_VERSION)) {
      throw new Error('a cache of another version');
    }
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    if (empty) {
      db.transaction(() => {
        db.exec(SCHEMA);
        db.pragma(`application_id = ${APPLICATION_ID}`);
        db.pragma(`user_version = ${CACHE_VERSION}`);
      })();
    }
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/** Opens the cache, starting afresh when the file is not one this version can use. */
export function openAccountCache(path: string): SqliteAccountCache {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    return new SqliteAccountCache(open(path));
  } catch {
    // Kept aside rather than deleted: whatever it is, it is not ours to destroy.
    if (existsSync(path)) renameSync(path, `${path}.unusable-${Date.now()}`);
    for (const suffix of ['-wal', '-shm']) {
      if (existsSync(path + suffix)) renameSync(path + suffix, `${path}${suffix}.unusable`);
    }
    return new SqliteAccountCache(open(path));
  }
}

type AccountRow = ActivityQueryTuple;

/** The columns of an ActivityQueryTuple, in its order. */
const TUPLE_COLUMNS =
  'host, user, last_active, registered, not_an_event, malformed, no_timestamp, account, has_role';

const ACCOUNT_COLUMNS =
  'key, host, user, last_active, registered, not_an_event, malformed, no_timestamp, account, has_role';

/** The statement that keeps one account, with its digest term and its slot. */
const putAccountSql = (verb: string) =>
  `${verb} INTO account SELECT ${ACCOUNT_COLUMNS}, ${digestTerm('k')}, row_digest, slot FROM (SELECT *, ${accountDigestKey('sqlite')} AS k FROM (SELECT ? AS key, ? AS host, ? AS user, ? AS last_active, ? AS registered, ? AS not_an_event, ? AS malformed, ? AS no_timestamp, ? AS account, ? AS has_role, CAST(? AS INTEGER) AS row_digest, ? AS slot) LIMIT -1)`;

export class SqliteAccountCache implements AccountCache {
  private readonly statements;

  constructor(private readonly db: Database.Database) {
    this.statements = {
      snapshot: db.prepare<
        [string],
        {
          stamp: string;
          full_at: number;
          server_now: number | null;
          proof: string | null;
          rest: number | null;
          held: number | null;
        }
      >('SELECT stamp, full_at, server_now, proof, rest, held FROM snapshot WHERE key = ?'),
      putSnapshot: db.prepare(
        'INSERT OR REPLACE INTO snapshot (key, stamp, full_at, server_now, proof, rest, held) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      clearAccounts: db.prepare('DELETE FROM account WHERE key = ?'),
      clearRest: db.prepare('DELETE FROM rest_account WHERE key = ?'),
      clearPacks: db.prepare('DELETE FROM account_pack WHERE key = ?'),
      pack: db.prepare<[string, string, number], { la: Buffer; reg: Buffer; flags: Buffer }>(
        'SELECT last_active AS la, registered AS reg, flags FROM account_pack WHERE key = ? AND host = ? AND part = ?',
      ),
      packTail: db.prepare<[{ key: string; host: string }], { parts: number; lastSlots: number }>(
        'SELECT count(*) AS parts, coalesce((SELECT length(flags) FROM account_pack WHERE key = @key AND host = @host ORDER BY part DESC LIMIT 1), 0) AS lastSlots FROM account_pack WHERE key = @key AND host = @host',
      ),
      packs: db.prepare<
        [string],
        { host: string; part: number; la: Buffer; reg: Buffer; flags: Buffer }
      >(
        'SELECT host, part, last_active AS la, registered AS reg, flags FROM account_pack WHERE key = ? ORDER BY host, part',
      ),
      putPack: db.prepare('INSERT OR REPLACE INTO account_pack VALUES (?, ?, ?, ?, ?, ?)'),
      clearEdits: db.prepare('DELETE FROM account_pack_edit WHERE key = ?'),
      putEdit: db.prepare('INSERT OR REPLACE INTO account_pack_edit VALUES (?, ?, ?, ?, ?, ?)'),
      edits: db.prepare<
        [string],
        { host: unknown; slot: unknown; la: unknown; reg: unknown; flags: unknown }
      >(
        'SELECT host, slot, last_active AS la, registered AS reg, flags FROM account_pack_edit WHERE key = ?',
      ),
      slotOf: db.prepare<[string, string, string], { slot: number }>(
        'SELECT slot FROM account WHERE key = ? AND host = ? AND user = ?',
      ),
      // The same condition as account_skipped's, word for word, or that index cannot be used.
      skipped: db.prepare<[string], unknown[]>(
        `SELECT ${TUPLE_COLUMNS}, slot FROM account INDEXED BY account_skipped WHERE key = ? AND (not_an_event > 0 OR malformed > 0 OR no_timestamp > 0)`,
      ),
      account: db.prepare<[string, string, string], unknown[]>(
        `SELECT ${TUPLE_COLUMNS}, slot FROM account WHERE key = ? AND host = ? AND user = ?`,
      ),
      restOf: db.prepare<[string, string, string], { rest: number }>(
        'SELECT rest FROM rest_account WHERE key = ? AND host = ? AND user = ?',
      ),
      putRest: db.prepare('INSERT OR REPLACE INTO rest_account VALUES (?, ?, ?, ?)'),
      dropRest: db.prepare('DELETE FROM rest_account WHERE key = ? AND host = ? AND user = ?'),
      // Each account's digest term is computed once, here, so that checking costs only a sum.
      putAccount: db.prepare(putAccountSql('INSERT OR REPLACE')),
      // A write of everything anew: an account given twice would hold two slots, so it fails.
      addAccount: db.prepare(putAccountSql('INSERT')),
      rowDigestOf: db.prepare<[string, string, string], { row_digest: number | null }>(
        'SELECT row_digest FROM account WHERE key = ? AND host = ? AND user = ?',
      ),
      dropAccount: db.prepare('DELETE FROM account WHERE key = ? AND host = ? AND user = ?'),
      totals: db.prepare<[string], HeldTotals>(
        'SELECT host, count(*) AS accounts, sum(not_an_event) AS a, sum(malformed) AS b, sum(no_timestamp) AS c, sum(account = 1) AS enabled, sum(account = 2) AS disabled, sum(account = 0) AS missing, ' +
          `${hostDigest('digest')} AS digest FROM account WHERE key = ? GROUP BY host`,
      ),
      folder: db.prepare<[string, string], FolderRow>(
        'SELECT mtime, listed_at AS listedAt, full_at AS fullAt, gen, files FROM folder WHERE key = ? AND path = ?',
      ),
      // What the parts hold, from their sizes alone: a folder row's count is never trusted to
      // size what is made for them.
      partsHeld: db.prepare<[string, string, number], PartsHeld>(
        'SELECT count(*) AS parts, coalesce(max(part), -1) AS last, coalesce(sum(length(kinds)), 0) AS rows FROM folder_part WHERE key = ? AND path = ? AND gen = ?',
      ),
      parts: db.prepare<[string, string, number], unknown>(
        'SELECT names, nums, skips, kinds FROM folder_part WHERE key = ? AND path = ? AND gen = ? ORDER BY part',
      ),
      folderDates: db.prepare<[string, string], { listedAt: unknown; fullAt: unknown }>(
        'SELECT listed_at AS listedAt, full_at AS fullAt FROM folder WHERE key = ? AND path = ?',
      ),
      putPart: db.prepare(
        'INSERT INTO folder_part (key, path, gen, part, names, nums, skips, kinds) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      putFolder: db.prepare(
        'INSERT OR REPLACE INTO folder (key, path, mtime, listed_at, full_at, gen, files) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      dropOtherParts: db.prepare('DELETE FROM folder_part WHERE key = ? AND path = ? AND gen != ?'),
      dropUnkeptParts: db.prepare(
        'DELETE FROM folder_part WHERE key = ? AND path = ? AND gen IS NOT (SELECT gen FROM folder WHERE key = ? AND path = ?)',
      ),
      folderPaths: db.prepare<[string, string], { path: string }>(
        'SELECT path FROM folder WHERE key = ? UNION SELECT path FROM folder_part WHERE key = ?',
      ),
      dropFolder: db.prepare('DELETE FROM folder WHERE key = ? AND path = ?'),
      dropParts: db.prepare('DELETE FROM folder_part WHERE key = ? AND path = ?'),
    };
  }

  close(): void {
    this.db.close();
  }

  snapshot(key: string): StoredSnapshot | null {
    const row = this.statements.snapshot.get(key);
    if (!row) return null;
    const newest = this.held.newest(key, () => this.decodedPacks(key));
    // Damaged packs: as if nothing were kept, so that the next read is whole and writes anew.
    if (newest === undefined) return null;
    return {
      stamp: row.stamp,
      fullAt: row.full_at,
      serverNow: row.server_now,
      proof: readProof(row.proof),
      rest: row.rest,
      newest: newest === null || newest < 0 ? null : newest,
    };
  }

  /** Each key's packs as last decoded, while no other connection has written. */
  private readonly held = new HeldPacks(
    () => this.db.pragma('data_version', { simple: true }) as number,
  );

  /** `held`: the accounts' row_digest sum, as the write that calls this leaves them. */
  private putSnapshot(key: string, info: SnapshotInfo, held: number | null): void {
    this.held.drop(key);
    const proof = info.proof ? JSON.stringify(info.proof) : null;
    this.statements.putSnapshot.run(
      key,
      info.stamp,
      Math.floor(info.fullAt),
      info.serverNow,
      proof,
      info.rest ?? null,
      held,
    );
  }

  /**
   * Exactly the tuple's nine fields, and the remote query's digest of the account's rows when the
   * rows are DigestedTuples: any other row may carry more (ActivityQueryOutput's tenth field is
   * account_updated), which is never kept. The sum of the digests put, modulo their prime; null
   * when not digested or one is not a digest.
   */
  private putAccounts(
    key: string,
    accounts: Iterable<AccountRow | ActivityQueryOutput | DigestedTuple>,
    digested: boolean,
    packs: AccountPackEdits,
    fresh: boolean,
  ): number | null {
    const { slotOf } = this.statements;
    const put = fresh ? this.statements.addAccount : this.statements.putAccount;
    let sum: number | null = digested ? 0 : null;
    for (const a of accounts) {
      if (sum !== null) sum = isRowDigest(a[9]) ? (sum + a[9]) % ROW_DIGEST_P : null;
      const held = fresh ? undefined : slotOf.get(key, a[0], a[1])?.slot;
      const slot = packs.put(a, held);
      put.run(
        key,
        a[0],
        a[1],
        a[2],
        a[3],
        a[4],
        a[5],
        a[6],
        a[7],
        a[8],
        digested ? a[9] : null,
        slot,
      );
    }
    return sum;
  }

  /**
   * Edits of `key`'s packs, to be ended in the same transaction, and what to call once it has
   * committed. Made first in that transaction: the data_version read here is that of the rows the
   * write sees, so the packs held are used in place of its rows only when they are those rows.
   */
  private packEdits(
    key: string,
    fresh: boolean,
  ): { edits: AccountPackEdits; committed: () => void } {
    const { pack, packTail, putPack, putEdit } = this.statements;
    const base: Held | null = fresh ? null : this.held.current(key);
    const heldPart = new Map((base?.packs ?? []).map((p) => [partKey(p.host, p.first), p]));
    const written: AccountPack[] = [];
    const edited: SlotEdit[] = [];
    const edits = new AccountPackEdits(
      {
        load: (host, part) => {
          const p = heldPart.get(partKey(host, part * PACK_SLOTS));
          if (p !== undefined) return blobsOf(p);
          const row = pack.get(key, host, part);
          return row ? { lastActive: row.la, registered: row.reg, flags: row.flags } : null;
        },
        tail: (host) => packTail.get({ key, host }) ?? { parts: 0, lastSlots: 0 },
        store: (host, part, b) => {
          putPack.run(key, host, part, b.lastActive, b.registered, b.flags);
          // A copy: the edit's arrays serve its next part.
          if (base !== null) written.push(decodePack(host, part, b) ?? damagedPack(host));
        },
        edit: (e) => {
          const none = (t: number) => (Number.isNaN(t) ? null : t);
          putEdit.run(key, e.host, e.slot, none(e.lastActive), none(e.registered), e.flags);
          if (base !== null) edited.push(e);
        },
      },
      fresh,
    );
    return {
      edits,
      committed: () => {
        if (base === null) this.held.drop(key);
        else this.held.patch(key, base, written, edited);
      },
    };
  }

  /** Every account of `key` replaced by `accounts`, the rest's digests dropped, in one write. */
  private replaceAccounts(
    key: string,
    info: SnapshotInfo,
    accounts: Iterable<AccountRow | ActivityQueryOutput | DigestedTuple>,
    digested: boolean,
  ): void {
    const committed = this.db.transaction(() => {
      this.statements.clearAccounts.run(key);
      this.statements.clearRest.run(key);
      this.statements.clearPacks.run(key);
      this.statements.clearEdits.run(key);
      const { edits, committed } = this.packEdits(key, true);
      const held = this.putAccounts(key, accounts, digested, edits, true);
      edits.end();
      this.putSnapshot(key, info, held);
      return committed;
    })();
    committed();
  }

  replaceDigested(key: string, info: SnapshotInfo, accounts: Iterable<DigestedTuple>): void {
    this.replaceAccounts(key, info, accounts, true);
  }

  mergeDigested(
    key: string,
    info: SnapshotInfo,
    accounts: readonly DigestedTuple[],
    changed: readonly ChangedAccount[],
    digest: number,
  ): boolean {
    const Mismatch = class extends Error {};
    const kept = this.statements.snapshot.get(key);
    const rest = kept?.rest;
    const heldBefore = kept?.held;
    if (rest === null || rest === undefined || heldBefore === null || heldBefore === undefined) {
      return false;
    }
    const sent = new Set(accounts.map((a) => JSON.stringify([a[0], a[1]])));
    // The sums below take each account once: a server that names one twice is not followed.
    const named = new Set(changed.map((c) => JSON.stringify([c.host, c.user])));
    if (sent.size !== accounts.length || named.size !== changed.length) return false;
    try {
      const committed = this.db.transaction(() => {
        const { edits: packs, committed } = this.packEdits(key, false);
        const P = ROW_DIGEST_P;
        let newRest = rest;
        // The accounts' sum, less what the accounts sent again held before.
        let held = heldBefore;
        for (const c of changed) {
          const before = this.statements.rowDigestOf.get(key, c.host, c.user);
          const counted = before !== undefined;
          if (counted) {
            if (!isRowDigest(before.row_digest)) throw new Mismatch();
            held = (held - before.row_digest + P) % P;
          }
          const inRest = this.statements.restOf.get(key, c.host, c.user)?.rest;
          // What the account had in the rest: known when a changes read sent it before without
          // lastlog2 rows; nothing when it was counted (the cached sum held it) or is new; else
          // it had no lastlog2 rows and its other rows are unchanged. A wrong guess only fails
          // the check below.
          const old = inRest ?? (counted || c.fresh ? 0 : c.rest);
          let now = 0;
          if (sent.delete(JSON.stringify([c.host, c.user]))) {
            this.statements.dropRest.run(key, c.host, c.user);
          } else {
            // No lastlog2 rows (left): it counts nowhere, its rows are in the rest now.
            const slot = this.statements.slotOf.get(key, c.host, c.user)?.slot;
            if (slot !== undefined) packs.empty(c.host, slot);
            this.statements.dropAccount.run(key, c.host, c.user);
            this.statements.putRest.run(key, c.host, c.user, c.rest);
            now = c.rest;
          }
          newRest = (((newRest - old + now) % P) + P) % P;
        }
        // Every account line must be of an account named changed.
        if (sent.size > 0) throw new Mismatch();
        const added = this.putAccounts(key, accounts, true, packs, false);
        packs.end();
        if (added === null) throw new Mismatch();
        held = (held + added) % P;
        if ((held + newRest) % P !== digest) throw new Mismatch();
        this.putSnapshot(key, { ...info, rest: newRest }, held);
        return committed;
      })();
      committed();
      return true;
    } catch (e) {
      if (e instanceof Mismatch) return false;
      throw e;
    }
  }

  replace(
    key: string,
    info: SnapshotInfo,
    accounts: Iterable<AccountRow | ActivityQueryOutput>,
  ): void {
    this.replaceAccounts(key, info, accounts, false);
  }

  merge(
    key: string,
    info: SnapshotInfo,
    changed: readonly AccountRow[],
    expected: readonly CheckedHostTotals[],
  ): boolean {
    const Mismatch = class extends Error {};
    try {
      const committed = this.db.transaction(() => {
        const { edits, committed } = this.packEdits(key, false);
        this.putAccounts(key, changed, false, edits, false);
        edits.end();
        if (!sameTotals(this.statements.totals.all(key), expected)) throw new Mismatch();
        this.putSnapshot(key, info, null);
        return committed;
      })();
      committed();
      return true;
    } catch (e) {
      if (e instanceof Mismatch) return false;
      throw e;
    }
  }

  packs(key: string): Iterable<AccountPack> {
    const packs = this.held.packs(key, () => this.decodedPacks(key)).packs;
    if (packs === null) throw new Error('the cached packs of accounts are damaged');
    return packs;
  }

  /**
   * Every part of `key`, or null when one is damaged, or a host's parts are not numbered from 0
   * without a gap, each full but its last. Some blobs, 17 bytes an account: read whole.
   */
  private decodedPacks(key: string): AccountPack[] | null {
    const packs: AccountPack[] = [];
    let last: AccountPack | undefined;
    for (const row of this.statements.packs.iterate(key)) {
      const { host, part } = row;
      const sameHost = last?.host === host;
      if (part !== (sameHost ? last!.first / PACK_SLOTS + 1 : 0)) return null;
      if (sameHost && last!.flags.length !== PACK_SLOTS) return null;
      const pack = decodePack(host, part, {
        lastActive: row.la,
        registered: row.reg,
        flags: row.flags,
      });
      if (pack === null) return null;
      packs.push(pack);
      last = pack;
    }
    const edits: SlotEdit[] = [];
    for (const { host, slot, la, reg, flags } of this.statements.edits.iterate(key)) {
      const time = (t: unknown) => (t === null ? NaN : typeof t === 'number' ? t : undefined);
      const lastActive = time(la);
      const registered = time(reg);
      if (typeof host !== 'string' || typeof slot !== 'number') return null;
      if (lastActive === undefined || registered === undefined) return null;
      if (!Number.isInteger(flags) || (flags as number) < 0 || (flags as number) > 255) return null;
      edits.push({ host, slot, lastActive, registered, flags: flags as number });
    }
    return applySlotEdits(packs, edits) ? packs : null;
  }

  *skippedAccounts(key: string): Iterable<HeldAccount> {
    for (const row of this.statements.skipped.raw(true).iterate(key)) yield heldAccount(row);
  }

  account(key: string, host: string, user: string): HeldAccount | null {
    const row = this.statements.account.raw(true).get(key, host, user);
    return row === undefined ? null : heldAccount(row);
  }

  folder(key: string, path: string): CachedFolder | null {
    const row = this.statements.folder.get(key, path);
    if (!row) return null;
    const { mtime, listedAt, fullAt, gen, files } = row;
    if (![mtime, listedAt, fullAt].every((n) => typeof n === 'number')) return null;
    if (!Number.isSafeInteger(gen)) return null;
    const held = this.statements.partsHeld.get(key, path, gen as number);
    // Every part of the write, numbered 0 on without a gap, holding the folder's rows.
    if (!held || held.last !== held.parts - 1 || held.rows !== files) return null;
    const table = FileTable.decodeParts(
      this.statements.parts.iterate(key, path, gen as number),
      held.rows,
    );
    if (table === null) return null;
    return {
      mtime: mtime as number,
      listedAt: listedAt as number,
      fullAt: fullAt as number,
      files: table,
    };
  }

  folderDates(key: string, path: string): Pick<CachedFolder, 'listedAt' | 'fullAt'> | null {
    const row = this.statements.folderDates.get(key, path);
    if (!row || typeof row.listedAt !== 'number' || typeof row.fullAt !== 'number') return null;
    return { listedAt: row.listedAt, fullAt: row.fullAt };
  }

  writeFolder(key: string, path: string, dates: FolderDates): FolderWriter {
    // Drawn, not counted up: another count writing the same folder at once takes another.
    const gen = randomInt(1, 2 ** 47);
    // What writes that never ended left: a host whose count fails every hour would otherwise
    // leave a folder's worth of parts each time. (A write running elsewhere at this moment
    // loses its parts too, and its folder is then read whole again: a cache is only a shortcut.)
    this.statements.dropUnkeptParts.run(key, path, key, path);
    const writer = new FileTableWriter((part, index) => {
      this.statements.putPart.run(
        key,
        path,
        gen,
        index,
        part.names,
        part.nums,
        part.skips,
        part.kinds,
      );
    });
    return {
      add: (name, row) => writer.add(name, row),
      commit: () => {
        const files = writer.end();
        this.db.transaction(() => {
          this.statements.putFolder.run(
            key,
            path,
            dates.mtime,
            dates.listedAt,
            dates.fullAt,
            gen,
            files,
          );
          this.statements.dropOtherParts.run(key, path, gen);
        })();
      },
    };
  }

  pruneFolders(key: string, keep: ReadonlySet<string>): void {
    this.db.transaction(() => {
      for (const { path } of this.statements.folderPaths.all(key, key)) {
        if (keep.has(path)) continue;
        this.statements.dropFolder.run(key, path);
        this.statements.dropParts.run(key, path);
      }
    })();
  }
}

/** The bytes of a decoded pack, as its blobs. */
function blobsOf(p: AccountPack): PackBlobs {
  return {
    lastActive: new Uint8Array(
      p.lastActive.buffer,
      p.lastActive.byteOffset,
      p.lastActive.byteLength,
    ),
    registered: new Uint8Array(
      p.registered.buffer,
      p.registered.byteOffset,
      p.registered.byteLength,
    ),
    flags: p.flags,
  };
}

const partKey = (host: string, first: number) => `${first}\u0000${host}`;

/** A row of TUPLE_COLUMNS and the slot. */
function heldAccount(row: unknown[]): HeldAccount {
  return { tuple: row.slice(0, 9) as AccountRow, slot: row[9] as number };
}

interface FolderRow {
  mtime: unknown;
  listedAt: unknown;
  fullAt: unknown;
  gen: unknown;
  files: unknown;
}

interface PartsHeld {
  parts: number;
  last: number;
  rows: number;
}
/** The proof as kept; anything else (it is only a shortcut) is no proof. */
function readProof(text: string | null): UnchangedProof | null {
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as Partial<UnchangedProof>;
    if (!isFileState(v.state)) return null;
    return isRowid(v.rowid) ? { state: v.state, rowid: v.rowid } : { state: v.state };
  } catch {
    return null;
  }
}

interface HeldTotals {
  host: string;
  accounts: number;
  a: number;
  b: number;
  c: number;
  enabled: number;
  disabled: number;
  missing: number;
  digest: number;
}

function sameTotals(held: readonly HeldTotals[], expected: readonly CheckedHostTotals[]): boolean {
  if (held.length !== expected.length) return false;
  const want = new Map(expected.map((t) => [t.host, t]));
  return held.every((h) => {
    const t = want.get(h.host);
    return (
      t !== undefined &&
      t.accounts === h.accounts &&
      t.notAnEvent === h.a &&
      t.malformed === h.b &&
      t.noTimestamp === h.c &&
      // A disable, an enable or a deleted account moves these (the server always sends them).
      (t.enabled === undefined || t.enabled === h.enabled) &&
      (t.disabled === undefined || t.disabled === h.disabled) &&
      (t.missing === undefined || t.missing === h.missing) &&
      // Equal counts can hide a different set of accounts (see account-digest.ts).
      (t.digest === undefined || t.digest === h.digest)
    );
  });
}
