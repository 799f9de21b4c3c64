/**
 * A clock and timers that move only when a test says so. advance() is time passing with the
 * machine awake (due timers fire, in order, and promise callbacks settle between them); jump() is
 * the machine asleep (the wall clock moves, timers do not fire).
 */
import type { Clock, TimerHandle } from '../../main/core/scheduler.js';
import { MAX_TIMER_MS } from '../../main/core/scheduler.js';

/** 2026-11-24 12:00 UTC: a start far from zero, so that no code can mistake 0 for "never". */
export const FAKE_EPOCH_MS = Date.UTC(2026, 10, 24, 12, 0, 0);

interface PendingTimer {
  readonly id: number;
  at: number;
  readonly fn: () => void;
}

export class FakeClock implements Clock {
  private nowMs: number;
  private nextId = 1;
  private readonly timers = new Map<number, PendingTimer>();

  constructor(startMs: number = FAKE_EPOCH_MS) {
    this.nowMs = startMs;
  }

  now(): number {
    return this.nowMs;
  }

  /** Refuses what Node would get wrong (it fires a delay above MAX_TIMER_MS after 1 ms). */
  setTimeout(fn: () => void, ms: number): TimerHandle {
    if (!(ms <= MAX_TIMER_MS)) {
      throw new RangeError(`FakeClock.setTimeout: ${ms} ms is beyond what Node's timers honour`);
    }
    const id = this.nextId++;
    this.timers.set(id, { id, at: this.nowMs + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    if (typeof handle === 'number') this.timers.delete(handle);
  }

  /** How many timers are armed. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /** When the earliest armed timer is due, or null. */
  nextTimerAt(): number | null {
    return this.earliest()?.at ?? null;
  }

  /**
   * Moves the clock forward by `ms`, firing every timer that falls due on the way (including those
   * armed by earlier callbacks) at its own time, in due order and then in the order armed, and
   * letting promise callbacks settle after each.
   */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`FakeClock.advance: ${ms} ms`);
    const target = this.nowMs + ms;
    await settle();
    for (;;) {
      const timer = this.earliest();
      if (!timer || timer.at > target) break;
      this.timers.delete(timer.id);
      this.nowMs = Math.max(this.nowMs, timer.at);
      timer.fn();
      await settle();
    }
    this.nowMs = target;
    await settle();
  }

  /**
   * Moves the wall clock forward by `ms` without firing anything: the machine slept. By default the
   * timers stand still meanwhile (as Node's do on Linux, which count time awake), so each still
   * has its remaining delay to go after the jump. With `{ timersSuspended: false }` their due times
   * stay put, so that the next advance() fires them late.
   */
  jump(ms: number, options: { timersSuspended?: boolean } = {}): void {
    if (!(ms >= 0)) throw new RangeError(`FakeClock.jump: ${ms} ms`);
    this.nowMs += ms;
    if (options.timersSuspended ?? true) {
      for (const timer of this.timers.values()) timer.at += ms;
    }
  }

  private earliest(): PendingTimer | undefined {
    let first: PendingTimer | undefined;
    for (const timer of this.timers.values()) {
      if (!first || timer.at < first.at || (timer.at === first.at && timer.id < first.id)) {
        first = timer;
      }
    }
    return first;
  }
}

/**
 * Lets pending promise callbacks run: each setImmediate turn comes after the microtask queue has
 * drained, and a few turns cover chains that hop through another immediate.
 */
export async function settle(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
