import { isFileState } from '../sources/file-state.js';
import { isRowid } from '../sources/row-digest.js';
import { type ChangedAccount, type DigestedTuple, isRowDigest } from '../sources/row-digest.js';
import { isAccountCode, isCount, isTime } from '../sources/server-row-checks.js';

/**
 * Reads what the remote query's script prints (remote-query-command.ts) as it arrives, a chunk at
 * a time: the answer is never held as one string (a V8 string stops at 512 MiB, issue 15 item 8)
 * nor as a million parsed rows at once (issue 14: the first query at 1 M accounts peaked at 559 MB).
 * Each account line is checked when it arrives, then kept as its bytes, about 40 a line; the
 * accounts are parsed again one at a time when they are used.
 */

/**
 * Tells this script's output from an older one's, whose forced command may still be installed.
 * v3: accounts carry their status, totals the status counts and account_roles.
 * v4: totals carry each host's digest of its accounts.
 * v5: a `PAU:state:` line (file-state.ts; empty when the server could not tell it), and
 *     `PAU:unchanged` in place of the rows when that state is the one the client sent.
 * v6: no totals; each account carries has_role and its digest of its rows, and the answer one
 *     `[1, digest]` line, and for changes, a `[2, host, user, rest, fresh]` line an account sent
 *     again (row-digest.ts).
 * v7: the `[1, digest, rowid]` line carries the table's highest rowid, and the last word of the
 *     command may carry the one of the last read, after the state (`since_state_rowid`).
 */
export const FORMAT_VERSION = 7;

interface RowsMeta {
  /**
   * The `[1, n]` line: everything, the digest of the accounts without lastlog2 rows; changes,
   * the whole table's (row-digest.ts). Null only with `unchanged`.
   */
  digest: number | null;
  /**
   * The table's highest rowid when the rows were read (from the `[1, digest, rowid]` line), null
   * when it is not known (or is beyond what a JSON number holds exactly).
   */
  maxRowid: number | null;
  /** Changes only: every account sent again (those without lastlog2 rows have no account line). */
  changed: ChangedAccount[];
  /** The server's clock when it ran the query, Unix seconds. */
  serverNow: number;
  /** The installed Prosody's version, when the server has a version file. */
  version?: string;
  wal: boolean;
  consistent: boolean;
  /** The file's state before the read (file-state.ts), or null when the server could not tell. */
  state: string | null;
  /** The state was the client's: no accounts nor totals follow; the cache stands. */
  unchanged: boolean;
}

type OtherOutput =
  | { kind: 'no-sqlite3' }
  | { kind: 'not-found' }
  | { kind: 'permission-denied' }
  | { kind: 'old-format' }
  | { kind: 'garbage'; detail: string };

export type RemoteQueryOutput =
  | (RowsMeta & {
      kind: 'rows';
      /** Every account, or those changed since the time asked for. */
      accounts: DigestedTuple[];
    })
  | OtherOutput;

/** The same, with the accounts read lazily from their kept bytes. */
export type StreamedQueryOutput =
  (RowsMeta & { kind: 'rows'; accounts: AccountLines }) | OtherOutput;

function toAccount(v: unknown[]): DigestedTuple | null {
  const [host, user, last, registered, account, role, digest, a = 0, b = 0, c = 0] = v;
  if (v.length !== 7 && v.length !== 10) return null;
  if (typeof host !== 'string' || typeof user !== 'string' || !isAccountCode(account)) return null;
  if (!isTime(last) || !isTime(registered) || !isCount(a) || !isCount(b) || !isCount(c)) {
    return null;
  }
  if ((role !== 0 && role !== 1) || !isRowDigest(digest)) return null;
  return [
    host,
    user,
    last as number | null,
    registered as number | null,
    a as number,
    b as number,
    c as number,
    account,
    role,
    digest,
  ];
}

function toChanged(v: unknown[]): ChangedAccount | null {
  const [, host, user, rest, fresh] = v;
  if (v.length !== 5 || typeof host !== 'string' || typeof user !== 'string') return null;
  if (!isRowDigest(rest) || (fresh !== 0 && fresh !== 1)) return null;
  return { host, user, rest, fresh: fresh === 1 };
}

function parseLine(line: string): unknown[] | string {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return 'a row is not valid JSON';
  }
  return Array.isArray(v) ? v : 'a row is not a list';
}

const BLOCK_BYTES = 1 << 20;
const NEWLINE = 0x0a;

/** Checked account lines, kept as bytes in blocks of a megabyte; iterating parses them again. */
export class AccountLines implements Iterable<DigestedTuple> {
  private readonly blocks: Buffer[] = [];
  /** How much of each full block holds lines: the rest is whatever memory it was given. */
  private readonly ends: number[] = [];
  private used = BLOCK_BYTES;
  count = 0;

  add(line: Buffer): void {
    if (this.used + line.length + 1 > BLOCK_BYTES) {
      if (this.blocks.length > 0) this.ends.push(this.used);
      this.blocks.push(Buffer.allocUnsafe(Math.max(BLOCK_BYTES, line.length + 1)));
      this.used = 0;
    }
    const block = this.blocks[this.blocks.length - 1]!;
    line.copy(block, this.used);
    block[this.used + line.length] = NEWLINE;
    this.used += line.length + 1;
    this.count++;
  }

  *[Symbol.iterator](): Iterator<DigestedTuple> {
    for (let i = 0; i < this.blocks.length; i++) {
      const block = this.blocks[i]!;
      // Never past what was written: an unused tail may hold a newline and old bytes.
      const end = i === this.blocks.length - 1 ? this.used : this.ends[i]!;
      for (let at = 0; at < end;) {
        const nl = block.indexOf(NEWLINE, at);
        if (nl < 0 || nl >= end) break;
        // Checked when it arrived: it parses, and fits.
        yield toAccount(JSON.parse(block.toString('utf8', at, nl)) as unknown[])!;
        at = nl + 1;
      }
    }
  }
}

const HEAD = /^PAU:before:([0-9 ]*)$/;
const VERSION = /^PAU:v(\d+):(\d+)(?::([0-9A-Za-z.+~-]{0,40}))?$/;
const TAIL = /^PAU:after:([0-9 ]*)$/;
const STATE = /^PAU:state:(.*)$/;
const ALONE = ['no-sqlite3', 'not-found', 'permission-denied'] as const;

/** Longest line kept while waiting for its end: no row of ours comes near it. */
const MAX_LINE_BYTES = 1 << 20;

/** Feeds on the command's stdout a chunk at a time; `end()` says what it was. */
export class RemoteQueryReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private lineNo = 0;
  private before: string | undefined;
  private after: string | undefined;
  private versionLine: RegExpExecArray | null = null;
  private state: string | null | undefined;
  private unchanged = false;
  private alone: (typeof ALONE)[number] | undefined;
  private failed: OtherOutput | undefined;
  private digest: number | null = null;
  private maxRowid: number | null = null;
  private readonly changed: ChangedAccount[] = [];
  private readonly accounts = new AccountLines();

  /** The header as the server read it before the query (known once its line arrived). */
  get header(): string | undefined {
    return this.before?.trim();
  }

  /** False once the output is known to be garbage: the rest need not be read. */
  push(chunk: Buffer): boolean {
    let at = 0;
    while (this.failed === undefined && at < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, at);
      if (nl < 0) {
        this.pending.push(chunk.subarray(at));
        this.pendingBytes += chunk.length - at;
        if (this.pendingBytes > MAX_LINE_BYTES) this.fail('a row is longer than any of ours');
        return this.failed === undefined;
      }
      const piece = chunk.subarray(at, nl);
      if (this.pending.length === 0) this.line(piece);
      else {
        this.pending.push(piece);
        this.line(Buffer.concat(this.pending));
        this.pending = [];
        this.pendingBytes = 0;
      }
      at = nl + 1;
    }
    return this.failed === undefined;
  }

  private fail(detail: string): void {
    this.failed ??= { kind: 'garbage', detail };
  }

  private line(bytes: Buffer): void {
    if (this.failed !== undefined) return;
    const n = this.lineNo;
    // Blank lines around the output are allowed, as trimming would; none between rows.
    if (bytes.length === 0 && (n === 0 || this.after !== undefined)) return;
    this.lineNo++;
    if (this.after !== undefined) return this.fail('the output is not in the expected form');
    if (n === 0) {
      const text = bytes.toString('utf8').trim();
      const head = HEAD.exec(text);
      if (head) this.before = head[1] ?? '';
      else if ((ALONE as readonly string[]).includes(text.slice(4)) && text.startsWith('PAU:'))
        this.alone = text.slice(4) as (typeof ALONE)[number];
      else this.fail('the output is not in the expected form');
      return;
    }
    if (this.alone !== undefined) return this.fail('the output is not in the expected form');
    if (bytes.subarray(0, 4).toString('latin1') === 'PAU:') {
      const text = bytes.toString('utf8');
      const tail = TAIL.exec(text.trimEnd());
      const state = STATE.exec(text.trimEnd());
      if (tail) this.after = tail[1] ?? '';
      else if (state && n === 2 && this.versionLine !== null) {
        if (state[1] === '') this.state = null;
        else if (isFileState(state[1])) this.state = state[1];
        else this.fail('the file state is not in the expected form');
      } else if (text.trimEnd() === 'PAU:unchanged' && n === 3 && typeof this.state === 'string')
        this.unchanged = true;
      else if (n === 1 && this.versionLine === null && text.startsWith('PAU:v')) {
        this.versionLine = VERSION.exec(text.trimEnd());
        if (this.versionLine === null) this.fail('the output is not in the expected form');
      } else this.fail('the output is not in the expected form');
      return;
    }
    if (this.versionLine === null || Number(this.versionLine[1]) !== FORMAT_VERSION) return;
    if (this.state === undefined || this.unchanged) {
      return this.fail('the output is not in the expected form');
    }
    const v = parseLine(bytes.toString('utf8'));
    if (typeof v === 'string') return this.fail(v);
    if (v[0] === 1) {
      const rowid = v[2];
      if (
        (v.length !== 2 && v.length !== 3) ||
        !isRowDigest(v[1]) ||
        this.digest !== null ||
        (v.length === 3 && (typeof rowid !== 'number' || !Number.isInteger(rowid) || rowid < 0))
      ) {
        return this.fail('a digest does not have the expected fields');
      }
      this.digest = v[1];
      this.maxRowid = isRowid(rowid) ? rowid : null;
    } else if (v[0] === 2) {
      const changed = toChanged(v);
      if (changed === null) return this.fail('a changed account does not have the expected fields');
      this.changed.push(changed);
    } else if (toAccount(v) === null) {
      this.fail('a row does not have the expected fields');
    } else this.accounts.add(bytes);
  }

  end(): StreamedQueryOutput {
    if (this.pending.length > 0) {
      const last = Buffer.concat(this.pending);
      this.pending = [];
      // Only the closing marker may lack its newline; anything else was cut short.
      if (TAIL.test(last.toString('utf8').trimEnd())) this.line(last);
      else this.fail('the output is not in the expected form');
    }
    if (this.alone !== undefined && this.failed === undefined) return { kind: this.alone };
    // No version line: a script older than any that printed one.
    if (this.before !== undefined && this.after !== undefined && this.failed === undefined) {
      if (this.versionLine === null || Number(this.versionLine[1]) !== FORMAT_VERSION) {
        return { kind: 'old-format' };
      }
    }
    if (this.failed !== undefined) return this.failed;
    if (
      this.before === undefined ||
      this.after === undefined ||
      this.versionLine === null ||
      this.state === undefined ||
      (this.digest === null && !this.unchanged)
    ) {
      return { kind: 'garbage', detail: 'the output is not in the expected form' };
    }
    const [, , serverNow, prosodyVersion] = this.versionLine;
    return {
      kind: 'rows',
      accounts: this.accounts,
      digest: this.digest,
      maxRowid: this.maxRowid,
      changed: this.changed,
      serverNow: Number(serverNow),
      ...(prosodyVersion ? { version: prosodyVersion } : {}),
      wal: this.before.trim().split(' ')[0] === '2',
      consistent: this.before.trim() === this.after.trim(),
      state: this.state,
      unchanged: this.unchanged,
    };
  }
}

/** Reads what the command printed, all at once; anything that does not fit is garbage. */
export function parseRemoteQueryOutput(stdout: string | Buffer): RemoteQueryOutput {
  const reader = new RemoteQueryReader();
  reader.push(typeof stdout === 'string' ? Buffer.from(stdout, 'utf8') : stdout);
  const out = reader.end();
  return out.kind === 'rows' ? { ...out, accounts: [...out.accounts] } : out;
}
