import {
  type AccountActivity,
  type SkipReason,
  type SourceRecord,
  SKIP_REASONS,
  isAccountStatus,
  isUsableTimestamp,
  isSkipped,
} from './activity-record.js';
import { MODULE_COUNT_PERIOD, type TimingSlack, addSlack, emptySlack } from './timing-slack.js';
import {
  type AccountStatus,
  type HostFacts,
  type RuleDecision,
  decideRule,
  mergeFacts,
} from './account-rule.js';
import { WINDOWS, withinWindow } from './windows.js';
import { setOwn } from './host-record.js';

/** The figures for one virtual host (or the total across hosts). */
export interface HostCounts {
  /** Accounts active within 1, 7 and 30 days: mod_measure_active_users' active_users_1d/7d/30d. */
  dau: number;
  wau: number;
  mau: number;
  /** Accounts with at least one usable record. */
  accounts: number;
  /** Accounts whose `registered` event lies within 1, 7 and 30 days. */
  new1d: number;
  new7d: number;
  new30d: number;
  /** The newest login, logout or activity timestamp seen, so that stalled records can be spotted. */
  newestEvent: number | null;
  /** Rows left out of the count, and why. */
  skipped: number;
  skippedByReason: Record<SkipReason, number>;
  /**
   * Accounts with at least one session open at counting time, each once; null when the live
   * server could not be asked. Those with stored records count in DAU/WAU/MAU, as the module does.
   */
  online: number | null;
  /** True when DAU/WAU/MAU include the open sessions; false: stored records only. */
  liveKnown: boolean;
  /**
   * Accounts with records that the host's rule left out (Prosody 13): a disabled account, a user
   * with no account at all, and, where the authentication provider cannot say "enabled", everyone.
   * Zero under Prosody 0.12's rule. accounts + these = every account with records.
   */
  excludedDisabled: number;
  excludedNoAccount: number;
  excludedByAuth: number;
  /** Accounts counted as enabled although their account could not be read (a notice says so). */
  statusUnknown: number;
  /**
   * Counting as of a past moment (`--at`) only: accounts whose last login or logout is after it.
   * lastlog2 keeps only the last event, so what they did at that moment cannot be known: they are
   * counted neither active nor inactive, nor in `accounts`. Absent when counting as of now.
   */
  notKnowable?: number;
}

/** How a tally reads its `now`. */
export interface TallyOptions {
  /**
   * `now` is a moment in the past (`--at`): an event after it is never activity at it (see
   * HostCounts.notKnowable), a registration after it is not yet an account, and sessions open
   * today say nothing about it. Otherwise, as the module does, an event stamped after `now` (a
   * clock ahead) counts as recent.
   */
  pastMoment?: boolean;
}

/** Accounts of one host and status that addActivity would count, summed (see addTotals). */
export interface AccountTotals {
  accounts: number;
  dau: number;
  wau: number;
  mau: number;
  new1d: number;
  new7d: number;
  new30d: number;
  newestEvent: number | null;
  /** TimingSlack's recent and leftSince, of these accounts. */
  recent: number;
  leftSince: { d1: number; d7: number; d30: number };
}

/** How a source got its records: the method, what crossed the network, how long it took. */
export interface FetchInfo {
  method: string;
  bytesReceived: number;
  seconds: number;
}

export interface ActivityReport {
  /** The moment counted for, Unix seconds. */
  at: number;
  hosts: Record<string, HostCounts>;
  total: HostCounts;
  /** Per host, how far the module's last count may lie from ours by timing alone. */
  slack?: Record<string, TimingSlack>;
  /** The rule each host was counted by, and why (see account-rule.ts). */
  rules: Record<string, RuleDecision>;
}

/** All zeros: the start of a host's tally or of a total. */
export function emptyCounts(): HostCounts {
  const skippedByReason = Object.fromEntries(SKIP_REASONS.map((r) => [r, 0])) as Record<
    SkipReason,
    number
  >;
  return {
    dau: 0,
    wau: 0,
    mau: 0,
    accounts: 0,
    new1d: 0,
    new7d: 0,
    new30d: 0,
    newestEvent: null,
    skipped: 0,
    skippedByReason,
    online: null,
    liveKnown: false,
    excludedDisabled: 0,
    excludedNoAccount: 0,
    excludedByAuth: 0,
    statusUnknown: 0,
  };
}

/** A host's accounts kept apart by status until the host's rule is known (at report time). */
interface HostParts {
  /** Enabled or unknown accounts, and every skipped row. */
  counted: HostCounts;
  disabled: HostCounts;
  missing: HostCounts;
  /** Accounts with a session open now (live view): counted under every rule. */
  live: HostCounts;
  /** How far a count up to an hour old may differ from this one. */
  slack: TimingSlack;
}

function emptyParts(): HostParts {
  return {
    counted: emptyCounts(),
    disabled: emptyCounts(),
    missing: emptyCounts(),
    live: emptyCounts(),
    slack: emptySlack(),
  };
}

/** Activity figures only: the same fields addCounts adds, without skips or exclusions. */
function addActivityFigures(total: HostCounts, c: HostCounts): void {
  total.dau += c.dau;
  total.wau += c.wau;
  total.mau += c.mau;
  total.accounts += c.accounts;
  total.new1d += c.new1d;
  total.new7d += c.new7d;
  total.new30d += c.new30d;
  total.newestEvent = maxOrNull(total.newestEvent, c.newestEvent);
  if (c.notKnowable !== undefined) total.notKnowable = (total.notKnowable ?? 0) + c.notKnowable;
}

/** Where an account of this status is kept until the host's rule is known. */
function bucket(parts: HostParts, status: AccountStatus): HostCounts {
  return status === 'disabled'
    ? parts.disabled
    : status === 'missing'
      ? parts.missing
      : parts.counted;
}

/** One host's figures under its rule. */
function applyRule(parts: HostParts, rule: RuleDecision['rule']): HostCounts {
  const out = emptyCounts();
  const { counted, disabled, missing } = parts;
  out.skipped = counted.skipped;
  for (const r of SKIP_REASONS) out.skippedByReason[r] = counted.skippedByReason[r];
  if (rule === 'all-records') {
    for (const p of [counted, disabled, missing]) addActivityFigures(out, p);
  } else if (rule === 'enabled-accounts') {
    addActivityFigures(out, counted);
    out.excludedDisabled = disabled.accounts;
    out.excludedNoAccount = missing.accounts;
    out.statusUnknown = counted.statusUnknown;
  } else {
    out.excludedByAuth = counted.accounts + disabled.accounts + missing.accounts;
    // The newest record still tells whether mod_lastlog2 writes at all.
    out.newestEvent = maxOrNull(
      counted.newestEvent,
      maxOrNull(disabled.newestEvent, missing.newestEvent),
    );
  }
  return out;
}

function maxOrNull(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return a > b ? a : b;
}

/**
 * Counts as of an injected `now`, one account at a time. Memory grows with the number of hosts,
 * never with the number of accounts.
 */
export class ActivityTally {
  private readonly hosts = new Map<string, HostParts>();
  /** What is known per host; the `null` key holds what holds for every host of the server. */
  private readonly facts = new Map<string | null, HostFacts>();
  /** Things a source wants the operator to know, such as a risky journal mode. */
  readonly notices: string[] = [];
  /** How each source fetched its data, for the report. */
  readonly fetches: FetchInfo[] = [];

  /**
   * `online`: per host, the accounts with a session open now (from the live server). Such an
   * account counts in all three windows whatever its records say, but only when it has records,
   * as mod_measure_active_users walks the lastlog2 store's users.
   */
  readonly online: ReadonlyMap<string, ReadonlySet<string>>;

  constructor(
    readonly now: number,
    online: ReadonlyMap<string, ReadonlySet<string>> = new Map(),
    readonly options: TallyOptions = {},
  ) {
    // Sessions open today say nothing about a past moment.
    this.online = options.pastMoment ? new Map() : online;
  }

  /** A tally for the same moment and the same open sessions, to be absorbed later. */
  fork(): ActivityTally {
    return new ActivityTally(this.now, this.online, this.options);
  }

  private isOnline(host: string, user: string | undefined): boolean {
    return user !== undefined && this.online.get(host)?.has(user) === true;
  }

  /** The last host looked up: sources give one host's accounts in a row, so most calls hit it. */
  private lastName: string | null = null;
  private lastParts: HostParts | null = null;

  private host(name: string): HostParts {
    if (name === this.lastName && this.lastParts !== null) return this.lastParts;
    let parts = this.hosts.get(name);
    if (!parts) {
      parts = emptyParts();
      this.hosts.set(name, parts);
    }
    this.lastName = name;
    this.lastParts = parts;
    return parts;
  }

  /**
   * Records what a source learnt about a host (or, with `null`, about every host): the server's
   * version, the config, whether account_roles entries exist. The rule is decided at report time,
   * so that facts found while reading (the data fallback) still count.
   */
  noteFacts(host: string | null, facts: HostFacts): void {
    this.facts.set(host, mergeFacts(this.facts.get(host) ?? {}, facts));
  }

  private rolesNoted = false;

  /**
   * A host has account_roles entries: only Prosody 13 writes them, and one server runs one
   * Prosody, so it holds for every host of the server (a host without accounts has none of its
   * own). Cheap, for a source that sees it once per account.
   */
  noteHasRoles(_host: string): void {
    if (this.rolesNoted) return;
    this.rolesNoted = true;
    this.noteFacts(null, { hasRoles: true });
  }

  /** The rule a host is counted by, from what is known so far. */
  ruleFor(host: string): RuleDecision {
    return decideRule(this.factsFor(host));
  }

  /** The rule a host would be counted by were account_roles entries found. */
  ruleWithRoles(host: string): RuleDecision {
    return decideRule(mergeFacts(this.factsFor(host), { hasRoles: true }));
  }

  /** What is known of a host: the server's facts, then its own. */
  private factsFor(host: string): HostFacts {
    return mergeFacts(this.facts.get(null) ?? {}, this.facts.get(host) ?? {});
  }

  /** Makes a host appear in the report even when it has no usable records. */
  touchHost(name: string): void {
    this.host(name);
  }

  /**
   * An account whose records were all skipped: the module still walks it (it is in the store),
   * so an open session makes it active.
   */
  touchAccount(host: string, user: string): void {
    const parts = this.host(host);
    if (!this.isOnline(host, user)) return;
    parts.live.dau++;
    parts.live.wau++;
    parts.live.mau++;
    parts.slack.onlineCounted++;
  }

  addAccount(account: AccountActivity): void {
    this.addActivity(
      account.host,
      account.lastActive,
      account.registered,
      account.status,
      account.user,
    );
  }

  /**
   * addAccount without the object, for sources that feed a million accounts: the user's name is
   * not needed to count, so none is asked for. `status` is what the source knows of the account
   * itself; whether it matters is the host's rule, decided at report time.
   */
  addActivity(
    host: string,
    lastActive: number | null,
    registered: number | null,
    status: AccountStatus = 'unknown',
    user?: string,
  ): void {
    if (
      (lastActive !== null && !isUsableTimestamp(lastActive)) ||
      (registered !== null && !isUsableTimestamp(registered))
    ) {
      this.addUnusable(host, lastActive, registered, status, user);
      return;
    }
    const parts = this.host(host);
    if (this.options.pastMoment) {
      // Only what the records can tell about that moment (see TallyOptions.pastMoment).
      if (registered !== null && registered > this.now) registered = null;
      if (lastActive !== null && lastActive > this.now) {
        const c = bucket(parts, status);
        c.notKnowable = (c.notKnowable ?? 0) + 1;
        lastActive = null;
        if (registered === null) return;
        this.addRegistration(c, registered);
        return;
      }
      if (lastActive === null && registered === null) return;
    }
    const online = this.isOnline(host, user);
    // An open session counts whatever the account's status: the module asks for sessions first.
    const c = online
      ? parts.live
      : status === 'disabled'
        ? parts.disabled
        : status === 'missing'
          ? parts.missing
          : parts.counted;
    if (status === 'unknown' && !online) c.statusUnknown++;
    const { now } = this;
    c.accounts++;
    if (online) {
      // Active now: the module counts it in every window before it looks at any timestamp.
      c.dau++;
      c.wau++;
      c.mau++;
      const s = parts.slack;
      s.onlineCounted++;
      if (lastActive !== null && withinWindow(now, lastActive, MODULE_COUNT_PERIOD)) s.recent++;
      if (lastActive !== null) c.newestEvent = maxOrNull(c.newestEvent, lastActive);
    } else if (lastActive !== null) {
      // A user with only `registered` (or nothing) is never active: last_active stays absent.
      if (withinWindow(now, lastActive, WINDOWS.d1)) c.dau++;
      if (withinWindow(now, lastActive, WINDOWS.d7)) c.wau++;
      if (withinWindow(now, lastActive, WINDOWS.d30)) c.mau++;
      c.newestEvent = maxOrNull(c.newestEvent, lastActive);
      const s = parts.slack;
      if (withinWindow(now, lastActive, MODULE_COUNT_PERIOD)) s.recent++;
      const age = now - lastActive;
      for (const w of ['d1', 'd7', 'd30'] as const) {
        if (age >= WINDOWS[w] && age < WINDOWS[w] + MODULE_COUNT_PERIOD) s.leftSince[w]++;
      }
    }
    if (registered !== null) this.addRegistration(c, registered);
  }

  private addRegistration(c: HostCounts, registered: number): void {
    const { now } = this;
    if (withinWindow(now, registered, WINDOWS.d1)) c.new1d++;
    if (withinWindow(now, registered, WINDOWS.d7)) c.new7d++;
    if (withinWindow(now, registered, WINDOWS.d30)) c.new30d++;
  }

  /** An account a source gave with a time no date can hold: that event is a malformed row. */
  private addUnusable(
    host: string,
    lastActive: number | null,
    registered: number | null,
    status: AccountStatus,
    user: string | undefined,
  ): void {
    const usable = (t: number | null) => (t !== null && isUsableTimestamp(t) ? t : null);
    if (lastActive !== null && usable(lastActive) === null) this.addSkipped(host, 'malformed');
    if (registered !== null && usable(registered) === null) this.addSkipped(host, 'malformed');
    if (usable(lastActive) === null && usable(registered) === null) {
      if (user === undefined) this.host(host);
      else this.touchAccount(host, user);
      return;
    }
    this.addActivity(host, usable(lastActive), usable(registered), status, user);
  }

  /**
   * What addActivity would make of many accounts of one host and status, none of them online,
   * summed by the source itself (a SQL query, see sources/host-totals-query.ts).
   */
  addTotals(host: string, status: AccountStatus, t: AccountTotals): void {
    const parts = this.host(host);
    const c =
      status === 'disabled' ? parts.disabled : status === 'missing' ? parts.missing : parts.counted;
    if (status === 'unknown') c.statusUnknown += t.accounts;
    c.accounts += t.accounts;
    c.dau += t.dau;
    c.wau += t.wau;
    c.mau += t.mau;
    c.new1d += t.new1d;
    c.new7d += t.new7d;
    c.new30d += t.new30d;
    c.newestEvent = maxOrNull(c.newestEvent, t.newestEvent);
    addSlack(parts.slack, { recent: t.recent, leftSince: t.leftSince, onlineCounted: 0 });
  }

  addSkipped(host: string, reason: SkipReason, n = 1): void {
    const c = this.host(host).counted;
    c.skipped += n;
    c.skippedByReason[reason] += n;
  }

  /** Adds another tally's figures (of other accounts) to this one's. */
  absorb(other: ActivityTally): void {
    for (const [name, parts] of other.hosts) {
      const mine = this.host(name);
      addCounts(mine.counted, parts.counted);
      addCounts(mine.disabled, parts.disabled);
      addCounts(mine.missing, parts.missing);
      addCounts(mine.live, parts.live);
      addSlack(mine.slack, parts.slack);
    }
    for (const [name, facts] of other.facts) this.noteFacts(name, facts);
  }

  report(): ActivityReport {
    const hosts: Record<string, HostCounts> = {};
    const rules: Record<string, RuleDecision> = {};
    const slack: Record<string, TimingSlack> = {};
    const total = emptyCounts();
    for (const name of [...this.hosts.keys()].sort()) {
      const decision = this.ruleFor(name);
      const parts = this.hosts.get(name)!;
      const c = applyRule(parts, decision.rule);
      // Online accounts with records count under every rule, as the module counts them first.
      addActivityFigures(c, parts.live);
      const live = this.online.get(name);
      if (live !== undefined) {
        c.online = live.size;
        c.liveKnown = true;
      }
      if (this.options.pastMoment) c.notKnowable ??= 0;
      setOwn(hosts, name, c);
      setOwn(rules, name, decision);
      setOwn(slack, name, parts.slack);
      addCounts(total, c);
    }
    if (this.options.pastMoment) total.notKnowable ??= 0;
    const names = Object.keys(hosts);
    total.liveKnown = names.length > 0 && names.every((n) => hosts[n]!.liveKnown);
    return { at: this.now, hosts, total, rules, slack };
  }
}

/** Adds one host's figures into a total (accounts on different hosts are different accounts). */
export function addCounts(total: HostCounts, c: HostCounts): void {
  addActivityFigures(total, c);
  total.skipped += c.skipped;
  for (const r of SKIP_REASONS) total.skippedByReason[r] += c.skippedByReason[r];
  if (c.online !== null) total.online = (total.online ?? 0) + c.online;
  total.excludedDisabled += c.excludedDisabled;
  total.excludedNoAccount += c.excludedNoAccount;
  total.excludedByAuth += c.excludedByAuth;
  total.statusUnknown += c.statusUnknown;
}

/**
 * Folds a stream of records into accounts. Records of one account must be adjacent (every source
 * guarantees it). The last activity is the newer of lastlog2's login and logout, as
 * mod_lastlog2's get_last_active gives it to mod_measure_active_users; an `activity` record
 * (mod_account_activity) is ignored, because that module never reads it, even on Prosody 13.
 */
export class AccountFolder {
  private key: string | null = null;
  private host = '';
  private user = '';
  private lastActive: number | null = null;
  private registered: number | null = null;
  private status: AccountStatus = 'unknown';
  private usable = false;
  /** Rows of this account were skipped: it is in the store the module walks all the same. */
  private skippedSeen = false;

  constructor(private readonly tally: ActivityTally) {}

  add(record: SourceRecord): void {
    const key = `${record.host}\u0000${record.user}`;
    if (key !== this.key) {
      this.flush();
      this.key = key;
      this.host = record.host;
      this.user = record.user;
    }
    if (isSkipped(record)) {
      this.tally.addSkipped(record.host, record.skipped);
      this.skippedSeen = true;
      return;
    }
    // The account alone makes no user with records: the module walks lastlog2's users. Nor does
    // mod_account_activity's timestamp: Prosody 13's module never reads that store.
    if (isAccountStatus(record)) {
      this.status = record.status;
      return;
    }
    if (record.event === 'activity') return;
    // A source lets no such row through (it is malformed everywhere); should one, it counts as one.
    if (!isUsableTimestamp(record.timestamp)) {
      this.tally.addSkipped(record.host, 'malformed');
      this.skippedSeen = true;
      return;
    }
    this.usable = true;
    if (record.event === 'registered') {
      this.registered = maxOrNull(this.registered, record.timestamp);
    } else {
      this.lastActive = maxOrNull(this.lastActive, record.timestamp);
    }
  }

  /** Ends the current account; call once after the last record. */
  flush(): void {
    if (this.key !== null) {
      // An account with only skipped rows has touched its host already; one with only a status
      // or an account_activity timestamp is no user of lastlog2's, and shows nowhere.
      if (this.usable) {
        this.tally.addAccount({
          host: this.host,
          user: this.user,
          lastActive: this.lastActive,
          registered: this.registered,
          status: this.status,
        });
      } else if (this.skippedSeen) {
        this.tally.touchAccount(this.host, this.user);
      }
    }
    this.key = null;
    this.lastActive = null;
    this.registered = null;
    this.status = 'unknown';
    this.usable = false;
    this.skippedSeen = false;
  }
}

/** Counts a whole record stream as of `now`. */
export function countRecords(records: Iterable<SourceRecord>, now: number): ActivityReport {
  const tally = new ActivityTally(now);
  const folder = new AccountFolder(tally);
  for (const r of records) folder.add(r);
  folder.flush();
  return tally.report();
}
