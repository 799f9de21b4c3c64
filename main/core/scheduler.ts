/**
 * When to refresh one profile: at start, then every interval; on demand; backing off after
 * failures; at once when the machine wakes and a refresh is overdue. The clock and the timers are
 * parameters, so the CLI's watch mode and the app share this policy and tests drive it with a fake
 * clock.
 */

/** Whatever the injected setTimeout returns; the scheduler only hands it back to clearTimeout. */
export type TimerHandle = unknown;

/**
 * Wall-clock time and one-shot timers. In production:
 * `{ now: () => Date.now(), setTimeout, clearTimeout }`.
 */
export interface Clock {
  /** Milliseconds on the wall clock (the Unix epoch in production). */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** What the tray and the CLI show about a profile's schedule; times are Clock.now() values. */
export interface SchedulerState {
  /** A refresh is under way. */
  readonly running: boolean;
  /** When the next refresh is due; null while one runs, before start() and after stop(). */
  readonly nextAt: number | null;
  /** When the latest refresh began. */
  readonly lastStartedAt: number | null;
  /** When the latest successful refresh ended. */
  readonly lastSucceededAt: number | null;
  /** Failed refreshes since the last success (a refresh that throws is a failure). */
  readonly consecutiveFailures: number;
}

/**
 * After the n-th failure in a row the next attempt waits initialMs × factor^(n−1), but never longer
 * than the interval.
 */
export interface Backoff {
  initialMs: number;
  factor: number;
}

/** 1 min, 2 min, 4 min, … */
export const DEFAULT_BACKOFF: Readonly<Backoff> = Object.freeze({ initialMs: 60_000, factor: 2 });

/**
 * The longest delay Node's setTimeout honours (about 24.8 days); a longer one fires after 1 ms.
 * The scheduler never asks for more and re-reads the clock when a shorter timer fires.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface RefreshSchedulerOptions {
  clock: Clock;
  /** Time between the end of one successful refresh and the start of the next. */
  intervalMs: number;
  /** True on success, false on a failure it has already dealt with; a throw is a failure too. */
  refresh: () => Promise<boolean>;
  /** Called with every new state (a throw from it goes to onError and changes nothing). */
  onState?: (state: SchedulerState) => void;
  /** Told what refresh() or onState threw, since the scheduler itself carries on. */
  onError?: (error: unknown) => void;
  backoff?: Backoff;
  /**
   * The longest the scheduler waits without re-reading the clock (default MAX_TIMER_MS). Timers
   * stand still while the machine sleeps; where nothing calls wake() (the CLI), a short recheck
   * (say one minute) bounds how late an overdue refresh runs after waking.
   */
  recheckMs?: number;
}

/**
 * Refreshes one profile: at start(), then intervalMs after each success ends, or after a failure
 * ends following the backoff; at once on refreshNow(); never two at a time.
 *
 * The next refresh is measured from when the previous one ended, not started: a refresh that takes
 * long (a slow link, a big download) still leaves a full interval of rest, and a retry never
 * follows a slow failure immediately.
 *
 * Timers are not trusted to fire on time: whenever one fires, and on wake(), the scheduler compares
 * the clock with nextAt; it runs when due (once, however many intervals were missed) and otherwise
 * waits for the remaining time.
 */
export class RefreshScheduler {
  private readonly clock: Clock;
  private readonly intervalMs: number;
  private readonly refreshFn: () => Promise<boolean>;
  private readonly onState: ((state: SchedulerState) => void) | undefined;
  private readonly onError: ((error: unknown) => void) | undefined;
  private readonly backoff: Backoff;
  private readonly recheckMs: number;

  private started = false;
  private stopped = false;
  private inFlight: Promise<void> | null = null;
  /** The armed timer; the token tells a stale callback (cleared too late) from the current one. */
  private timer: { handle: TimerHandle; token: object } | null = null;
  private current: SchedulerState = Object.freeze({
    running: false,
    nextAt: null,
    lastStartedAt: null,
    lastSucceededAt: null,
    consecutiveFailures: 0,
  });

  constructor(options: RefreshSchedulerOptions) {
    const backoff = options.backoff ?? DEFAULT_BACKOFF;
    requirePositive('intervalMs', options.intervalMs);
    requirePositive('backoff.initialMs', backoff.initialMs);
    if (!Number.isFinite(backoff.factor) || backoff.factor < 1) {
      throw new RangeError(`backoff.factor must be a number of at least 1, got ${backoff.factor}`);
    }
    if (options.recheckMs !== undefined) requirePositive('recheckMs', options.recheckMs);

    this.clock = options.clock;
    this.intervalMs = options.intervalMs;
    this.refreshFn = options.refresh;
    this.onState = options.onState;
    this.onError = options.onError;
    this.backoff = { initialMs: backoff.initialMs, factor: backoff.factor };
    this.recheckMs = Math.min(options.recheckMs ?? MAX_TIMER_MS, MAX_TIMER_MS);
  }

  /** A snapshot; a new object after every change. */
  get state(): SchedulerState {
    return this.current;
  }

  /** Refreshes at once and keeps the cadence from then on. A second call does nothing. */
  start(): void {
    if (this.stopped) {
      throw new Error('RefreshScheduler: start() after stop(); make a new scheduler');
    }
    if (this.started) return;
    this.started = true;
    void this.run();
  }

  /**
   * Refreshes now, or joins the refresh under way (the very same promise); resolves when it ends,
   * never rejects. After stop() it starts nothing. Before start() it refreshes once and schedules
   * nothing; once started, the cadence restarts from the end of this refresh.
   */
  refreshNow(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    if (this.stopped) return Promise.resolve();
    return this.run();
  }

  /**
   * Call when the machine wakes from sleep (Electron's powerMonitor 'resume'): a refresh that fell
   * due while asleep runs at once, exactly once; otherwise the timer is re-armed for the time left,
   * since a timer may have stood still during the sleep.
   */
  wake(): void {
    if (!this.started || this.stopped || this.inFlight) return;
    this.check();
  }

  /** Cancels the timer, waits for a refresh under way, and starts no refresh after. */
  async stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.disarm();
      if (this.current.nextAt !== null) {
        this.set({ nextAt: null });
        this.emit();
      }
    }
    const running = this.inFlight;
    if (running) await running;
  }

  /** Runs if due by the clock, or waits for the rest of the time. */
  private check(): void {
    let { nextAt } = this.current;
    if (nextAt === null) return;
    const now = this.clock.now();
    if (now >= nextAt) {
      void this.run();
      return;
    }
    if (nextAt - now > this.intervalMs) {
      // The clock was set back: do not wait longer than one interval from now.
      nextAt = now + this.intervalMs;
      this.set({ nextAt });
      this.emit();
    }
    this.arm(nextAt - now);
  }

  private run(): Promise<void> {
    this.disarm();
    let settle!: () => void;
    const joined = new Promise<void>((resolve) => (settle = resolve));
    // Set before anything else runs, so that a listener's refreshNow() joins this refresh.
    this.inFlight = joined;
    this.set({ running: true, nextAt: null, lastStartedAt: this.clock.now() });
    this.emit();
    void this.attempt().then((ok) => {
      this.finish(ok);
      settle();
    });
    return joined;
  }

  private async attempt(): Promise<boolean> {
    try {
      return (await this.refreshFn()) === true;
    } catch (error) {
      this.report(error);
      return false;
    }
  }

  private finish(ok: boolean): void {
    const endedAt = this.clock.now();
    const failures = ok ? 0 : this.current.consecutiveFailures + 1;
    const delay = this.delayAfter(failures);
    const nextAt = this.started && !this.stopped ? endedAt + delay : null;
    this.inFlight = null;
    this.set({
      running: false,
      nextAt,
      consecutiveFailures: failures,
      lastSucceededAt: ok ? endedAt : this.current.lastSucceededAt,
    });
    // Armed before listeners hear of it, so that one calling refreshNow() finds a consistent state.
    if (nextAt !== null) this.arm(delay);
    this.emit();
  }

  private delayAfter(failures: number): number {
    if (failures === 0) return this.intervalMs;
    const { initialMs, factor } = this.backoff;
    return Math.min(this.intervalMs, initialMs * factor ** (failures - 1));
  }

  private arm(delayMs: number): void {
    this.disarm();
    const token = {};
    const wait = Math.min(Math.max(0, delayMs), this.recheckMs);
    const handle = this.clock.setTimeout(() => {
      if (this.timer?.token !== token) return;
      this.timer = null;
      if (!this.started || this.stopped || this.inFlight) return;
      this.check();
    }, wait);
    this.timer = { handle, token };
  }

  private disarm(): void {
    if (this.timer) this.clock.clearTimeout(this.timer.handle);
    this.timer = null;
  }

  private set(patch: Partial<SchedulerState>): void {
    this.current = Object.freeze({ ...this.current, ...patch });
  }

  private emit(): void {
    if (!this.onState) return;
    try {
      this.onState(this.current);
    } catch (error) {
      this.report(error);
    }
  }

  private report(error: unknown): void {
    try {
      this.onError?.(error);
    } catch {
      // An error handler that throws has nowhere left to report to; the schedule goes on.
    }
  }
}

function requirePositive(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive number of milliseconds, got ${value}`);
  }
}
