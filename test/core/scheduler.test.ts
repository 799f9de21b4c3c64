import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  MAX_TIMER_MS,
  RefreshScheduler,
  type Clock,
  type RefreshSchedulerOptions,
  type SchedulerState,
} from '../../main/core/scheduler.js';
import { FAKE_EPOCH_MS, FakeClock, settle } from '../fakes/fake-clock.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

type Outcome = boolean | 'throw';

/**
 * A scheduler on a fake clock whose refresh records when it started (ms since the fake epoch) and
 * answers from `outcomes` in turn (success once they run out), taking `takesMs` of fake time.
 */
function harness(
  options: Partial<RefreshSchedulerOptions> & { outcomes?: Outcome[]; takesMs?: number } = {},
) {
  const clock = new FakeClock();
  const { outcomes = [], takesMs = 0, ...rest } = options;
  const startedAt: number[] = [];
  const errors: unknown[] = [];
  const refresh = async (): Promise<boolean> => {
    startedAt.push(clock.now() - FAKE_EPOCH_MS);
    const outcome = outcomes.shift() ?? true;
    if (takesMs > 0) await new Promise<void>((resolve) => clock.setTimeout(resolve, takesMs));
    if (outcome === 'throw') throw new Error('refresh exploded');
    return outcome;
  };
  const scheduler = new RefreshScheduler({
    clock,
    intervalMs: HOUR,
    refresh,
    onError: (error) => errors.push(error),
    ...rest,
  });
  const since = (at: number | null) => (at === null ? null : at - FAKE_EPOCH_MS);
  return { clock, scheduler, startedAt, errors, since };
}

/** A refresh the test finishes by hand. */
function gate() {
  let calls = 0;
  let finish!: (ok: boolean) => void;
  const refresh = (): Promise<boolean> => {
    calls++;
    return new Promise<boolean>((resolve) => (finish = resolve));
  };
  return {
    refresh,
    get calls() {
      return calls;
    },
    finish: (ok = true) => finish(ok),
  };
}

test('start refreshes at once', async () => {
  const { scheduler, startedAt } = harness();
  scheduler.start();
  assert.deepEqual(startedAt, [0]);
});

test('refreshes run every interval: at 0, 1 h, 2 h and 3 h', async () => {
  const { clock, scheduler, startedAt } = harness();
  scheduler.start();
  await clock.advance(3 * HOUR);
  assert.deepEqual(startedAt, [0, HOUR, 2 * HOUR, 3 * HOUR]);
});

test('the next refresh is due one interval after the previous one ended', async () => {
  const { clock, scheduler, startedAt } = harness({ takesMs: 5 * MIN });
  scheduler.start();
  await clock.advance(2 * HOUR + 10 * MIN);
  assert.deepEqual(startedAt, [0, HOUR + 5 * MIN, 2 * HOUR + 10 * MIN]);
});

test('a refresh on demand runs at once and the cadence restarts from its end', async () => {
  const { clock, scheduler, startedAt } = harness();
  scheduler.start();
  await clock.advance(20 * MIN);
  await scheduler.refreshNow();
  await clock.advance(HOUR);
  assert.deepEqual(startedAt, [0, 20 * MIN, HOUR + 20 * MIN]);
});

test('a refresh requested during a refresh joins it instead of starting another', async () => {
  const clock = new FakeClock();
  const slow = gate();
  const scheduler = new RefreshScheduler({ clock, intervalMs: HOUR, refresh: slow.refresh });
  scheduler.start();
  const first = scheduler.refreshNow();
  const second = scheduler.refreshNow();
  assert.equal(first, second);
  let joined = false;
  void first.then(() => (joined = true));
  await settle();
  assert.equal(joined, false);
  slow.finish();
  await first;
  assert.equal(slow.calls, 1);
  assert.equal(scheduler.state.nextAt, clock.now() + HOUR);
});

test('a refresh due while a refresh on demand runs does not start a second one', async () => {
  const { clock, scheduler, startedAt } = harness({ takesMs: 10 * MIN });
  scheduler.start();
  await clock.advance(15 * MIN);
  await clock.advance(50 * MIN); // the first ended at 10 min: the next is due at 70 min
  void scheduler.refreshNow(); // 65 min, runs until 75 min, across the old due time
  await clock.advance(20 * MIN);
  assert.deepEqual(startedAt, [0, 65 * MIN]);
});

test('failures back off 1, 2, 4 and 8 min and never wait longer than the interval', async () => {
  const { clock, scheduler, startedAt } = harness({
    intervalMs: 10 * MIN,
    outcomes: Array<Outcome>(7).fill(false),
    backoff: { initialMs: MIN, factor: 2 },
  });
  scheduler.start();
  await clock.advance(45 * MIN);
  // Waits of 1, 2, 4, 8, then 16 and 32 capped at the 10 min interval.
  assert.deepEqual(
    startedAt.map((ms) => ms / MIN),
    [0, 1, 3, 7, 15, 25, 35, 45],
  );
});

test('after a success the normal cadence resumes and the backoff starts over', async () => {
  const { clock, scheduler, startedAt } = harness({
    outcomes: [false, false, true, false],
    backoff: { initialMs: MIN, factor: 2 },
  });
  scheduler.start();
  await clock.advance(3 * MIN); // failures at 0 and 1 min, success at 3 min
  assert.equal(scheduler.state.consecutiveFailures, 0);
  await clock.advance(HOUR); // fails at 63 min
  await clock.advance(MIN); // retried at 64 min, after 1 min again
  assert.deepEqual(
    startedAt.map((ms) => ms / MIN),
    [0, 1, 3, 63, 64],
  );
});

test('the default backoff waits one minute, then two, then four', async () => {
  const { clock, scheduler, since } = harness({ outcomes: [false, false, false] });
  scheduler.start();
  await settle();
  assert.equal(since(scheduler.state.nextAt), MIN);
  await clock.advance(MIN);
  assert.equal(since(scheduler.state.nextAt), 3 * MIN);
  await clock.advance(2 * MIN);
  assert.equal(since(scheduler.state.nextAt), 7 * MIN);
});

test('a backoff that starts above the interval waits one interval', async () => {
  const { clock, scheduler, startedAt } = harness({
    intervalMs: 10 * MIN,
    outcomes: [false],
    backoff: { initialMs: HOUR, factor: 2 },
  });
  scheduler.start();
  await clock.advance(10 * MIN);
  assert.deepEqual(startedAt, [0, 10 * MIN]);
});

test('waking after the refresh fell due runs it at once, exactly once', async () => {
  const { clock, scheduler, startedAt } = harness();
  scheduler.start();
  await settle();
  clock.jump(3 * HOUR);
  scheduler.wake();
  scheduler.wake();
  await clock.advance(0);
  assert.deepEqual(startedAt, [0, 3 * HOUR]);
  await clock.advance(HOUR); // the suspended old timer must not add a refresh
  assert.deepEqual(startedAt, [0, 3 * HOUR, 4 * HOUR]);
});

test('waking before the refresh is due runs nothing and keeps the time it is due', async () => {
  const { clock, scheduler, startedAt, since } = harness();
  scheduler.start();
  await clock.advance(10 * MIN);
  clock.jump(20 * MIN); // the timer stood still: left alone it would fire at 1 h 20 min
  scheduler.wake();
  await clock.advance(0);
  assert.deepEqual(startedAt, [0]);
  assert.equal(since(scheduler.state.nextAt), HOUR);
  assert.equal(since(clock.nextTimerAt()), HOUR);
  await clock.advance(30 * MIN);
  assert.deepEqual(startedAt, [0, HOUR]);
});

test('waking during a refresh starts no second one', async () => {
  const { clock, scheduler, startedAt } = harness({ takesMs: 10 * MIN });
  scheduler.start();
  await clock.advance(HOUR + 15 * MIN); // the second refresh runs from 1 h 10 min
  clock.jump(3 * HOUR);
  scheduler.wake();
  await clock.advance(0);
  assert.deepEqual(startedAt, [0, HOUR + 10 * MIN]);
});

test('a timer that fires late runs the overdue refresh once and the cadence goes on', async () => {
  const { clock, scheduler, startedAt } = harness();
  scheduler.start();
  await settle();
  clock.jump(3 * HOUR + 7 * MIN, { timersSuspended: false });
  await clock.advance(0);
  await clock.advance(HOUR);
  assert.deepEqual(startedAt, [0, 3 * HOUR + 7 * MIN, 4 * HOUR + 7 * MIN]);
});

test('without wake(), a short recheck finds the refresh overdue soon after a sleep', async () => {
  const { clock, scheduler, startedAt } = harness({ recheckMs: MIN });
  scheduler.start();
  await clock.advance(30 * MIN);
  clock.jump(3 * HOUR); // suspended timers: the 1 h timer alone would fire 30 min from now
  await clock.advance(MIN);
  assert.deepEqual(startedAt, [0, 3 * HOUR + 31 * MIN]);
});

test('a timer that fires before the refresh is due only re-arms for the time left', async () => {
  const { clock, scheduler, startedAt } = harness({ recheckMs: 10 * MIN });
  scheduler.start();
  await clock.advance(HOUR - 1);
  assert.deepEqual(startedAt, [0]);
  await clock.advance(1);
  assert.deepEqual(startedAt, [0, HOUR]);
});

test('an interval longer than Node’s timer limit is waited out in several timers', async () => {
  const { clock, scheduler, startedAt } = harness({ intervalMs: 30 * DAY });
  scheduler.start(); // the fake clock refuses a delay above MAX_TIMER_MS, as Node mishandles one
  await settle();
  assert.equal(clock.nextTimerAt(), clock.now() + MAX_TIMER_MS);
  await clock.advance(30 * DAY - 1);
  assert.deepEqual(startedAt, [0]);
  await clock.advance(1);
  assert.deepEqual(startedAt, [0, 30 * DAY]);
});

test('a clock set back does not postpone the refresh beyond one interval', async () => {
  const fake = new FakeClock();
  let offset = 0;
  const clock: Clock = {
    now: () => fake.now() + offset,
    setTimeout: (fn, ms) => fake.setTimeout(fn, ms),
    clearTimeout: (handle) => fake.clearTimeout(handle),
  };
  const startedAt: number[] = [];
  const refresh = async () => (startedAt.push(fake.now() - FAKE_EPOCH_MS), true);
  const scheduler = new RefreshScheduler({ clock, intervalMs: HOUR, refresh });
  scheduler.start();
  await fake.advance(10 * MIN);
  offset = -DAY; // someone sets the wall clock back a day
  scheduler.wake();
  assert.equal(scheduler.state.nextAt, clock.now() + HOUR);
  await fake.advance(HOUR);
  assert.deepEqual(startedAt, [0, HOUR + 10 * MIN]);
});

test('a refresh that throws is a failure, is reported, and the schedule goes on', async () => {
  const { clock, scheduler, startedAt, errors, since } = harness({ outcomes: ['throw'] });
  scheduler.start();
  await settle();
  assert.equal(scheduler.state.consecutiveFailures, 1);
  assert.equal(since(scheduler.state.nextAt), MIN);
  assert.match(String(errors[0]), /refresh exploded/);
  await clock.advance(MIN + HOUR);
  assert.deepEqual(startedAt, [0, MIN, MIN + HOUR]);
});

test('a refresh that throws before returning a promise is a failure too', async () => {
  const clock = new FakeClock();
  let calls = 0;
  const scheduler = new RefreshScheduler({
    clock,
    intervalMs: HOUR,
    refresh: () => {
      calls++;
      if (calls === 1) throw new Error('not even a promise');
      return Promise.resolve(true);
    },
  });
  scheduler.start();
  await settle();
  assert.equal(scheduler.state.consecutiveFailures, 1);
  await clock.advance(MIN);
  assert.equal(calls, 2);
  assert.equal(scheduler.state.consecutiveFailures, 0);
});

test('stop waits for the refresh under way and no refresh runs afterwards', async () => {
  const clock = new FakeClock();
  const slow = gate();
  const scheduler = new RefreshScheduler({ clock, intervalMs: HOUR, refresh: slow.refresh });
  scheduler.start();
  let stopped = false;
  const stopping = scheduler.stop().then(() => (stopped = true));
  await settle();
  assert.equal(stopped, false);
  slow.finish();
  await stopping;
  assert.equal(scheduler.state.nextAt, null);
  assert.equal(clock.pendingTimers, 0);
  await scheduler.refreshNow();
  scheduler.wake();
  await clock.advance(10 * HOUR);
  assert.equal(slow.calls, 1);
});

test('stop between refreshes cancels the timer', async () => {
  const { clock, scheduler, startedAt } = harness();
  scheduler.start();
  await clock.advance(30 * MIN);
  assert.equal(clock.pendingTimers, 1);
  await scheduler.stop();
  assert.equal(clock.pendingTimers, 0);
  await clock.advance(DAY);
  assert.deepEqual(startedAt, [0]);
});

test('start after stop is refused', async () => {
  const { scheduler } = harness();
  scheduler.start();
  await scheduler.stop();
  assert.throws(() => scheduler.start(), /start\(\) after stop\(\)/);
});

test('a second start does not refresh again', async () => {
  const { clock, scheduler, startedAt } = harness();
  scheduler.start();
  scheduler.start();
  await clock.advance(HOUR);
  assert.deepEqual(startedAt, [0, HOUR]);
});

test('a refresh on demand before start refreshes once and schedules nothing', async () => {
  const { clock, scheduler, startedAt } = harness();
  await scheduler.refreshNow();
  assert.equal(scheduler.state.nextAt, null);
  await clock.advance(DAY);
  assert.deepEqual(startedAt, [0]);
});

test('while a refresh runs, state says so and nothing is due', async () => {
  const clock = new FakeClock();
  const slow = gate();
  const scheduler = new RefreshScheduler({ clock, intervalMs: HOUR, refresh: slow.refresh });
  assert.deepEqual(scheduler.state, {
    running: false,
    nextAt: null,
    lastStartedAt: null,
    lastSucceededAt: null,
    consecutiveFailures: 0,
  });
  scheduler.start();
  assert.deepEqual(scheduler.state, {
    running: true,
    nextAt: null,
    lastStartedAt: FAKE_EPOCH_MS,
    lastSucceededAt: null,
    consecutiveFailures: 0,
  });
  slow.finish();
  await scheduler.refreshNow();
});

test('state reports the retry time and the failures in a row, then the success', async () => {
  const { clock, scheduler, since } = harness({ outcomes: [false, false], takesMs: MIN });
  scheduler.start();
  await clock.advance(MIN);
  const view = (s: SchedulerState) => ({
    running: s.running,
    nextAt: since(s.nextAt),
    lastStartedAt: since(s.lastStartedAt),
    lastSucceededAt: since(s.lastSucceededAt),
    consecutiveFailures: s.consecutiveFailures,
  });
  assert.deepEqual(view(scheduler.state), {
    running: false,
    nextAt: 2 * MIN,
    lastStartedAt: 0,
    lastSucceededAt: null,
    consecutiveFailures: 1,
  });
  await clock.advance(2 * MIN); // fails again from 2 to 3 min; retried after 2 min
  assert.deepEqual(view(scheduler.state), {
    running: false,
    nextAt: 5 * MIN,
    lastStartedAt: 2 * MIN,
    lastSucceededAt: null,
    consecutiveFailures: 2,
  });
  await clock.advance(3 * MIN); // succeeds from 5 to 6 min
  assert.deepEqual(view(scheduler.state), {
    running: false,
    nextAt: 6 * MIN + HOUR,
    lastStartedAt: 5 * MIN,
    lastSucceededAt: 6 * MIN,
    consecutiveFailures: 0,
  });
});

test('every change of state reaches onState', async () => {
  const seen: SchedulerState[] = [];
  const { clock, scheduler } = harness({ onState: (s) => seen.push(s), outcomes: [false] });
  scheduler.start();
  await clock.advance(MIN);
  await scheduler.stop();
  assert.deepEqual(
    seen.map((s) => [s.running, s.nextAt === null ? null : s.nextAt - FAKE_EPOCH_MS]),
    [
      [true, null],
      [false, MIN],
      [true, null],
      [false, MIN + HOUR],
      [false, null],
    ],
  );
});

test('an onState listener that throws does not stop the schedule', async () => {
  const { clock, scheduler, startedAt, errors } = harness({
    onState: () => {
      throw new Error('listener broke');
    },
  });
  scheduler.start();
  await clock.advance(HOUR);
  assert.deepEqual(startedAt, [0, HOUR]);
  assert.match(String(errors[0]), /listener broke/);
});

test('a listener that asks for a refresh when one starts joins it', async () => {
  const clock = new FakeClock();
  let calls = 0;
  const joins: Promise<void>[] = [];
  const scheduler: RefreshScheduler = new RefreshScheduler({
    clock,
    intervalMs: HOUR,
    refresh: async () => (calls++, true),
    onState: (s) => {
      if (s.running) joins.push(scheduler.refreshNow());
    },
  });
  scheduler.start();
  await Promise.all(joins);
  assert.equal(calls, 1);
});

const badOptions: Array<[name: string, options: Partial<RefreshSchedulerOptions>, error: RegExp]> =
  [
    ['a zero interval', { intervalMs: 0 }, /intervalMs/],
    ['a negative interval', { intervalMs: -1 }, /intervalMs/],
    ['an infinite interval', { intervalMs: Infinity }, /intervalMs/],
    ['a zero first backoff', { backoff: { initialMs: 0, factor: 2 } }, /backoff\.initialMs/],
    ['a shrinking backoff', { backoff: { initialMs: MIN, factor: 0.5 } }, /backoff\.factor/],
    ['a zero recheck', { recheckMs: 0 }, /recheckMs/],
  ];

for (const [name, options, error] of badOptions) {
  test(`${name} is refused`, () => {
    assert.throws(
      () =>
        new RefreshScheduler({
          clock: new FakeClock(),
          intervalMs: HOUR,
          refresh: async () => true,
          ...options,
        }),
      error,
    );
  });
}

test('the real clock and timers of Node fit the Clock interface', async () => {
  const real: Clock = { now: () => Date.now(), setTimeout, clearTimeout };
  let calls = 0;
  let second!: () => void;
  const twice = new Promise<void>((resolve) => (second = resolve));
  const scheduler = new RefreshScheduler({
    clock: real,
    intervalMs: 5,
    refresh: async () => {
      if (++calls === 2) second();
      return true;
    },
  });
  scheduler.start();
  await twice;
  await scheduler.stop();
  assert.equal(calls, 2);
});
