import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  alertKey,
  evaluateAlerts,
  INITIAL_ALERT_STATE,
  inQuietHours,
  parseClockTime,
  restoreAlertState,
  type AlertState,
  type BaselineLookup,
} from '../../main/core/alert-policy.js';
import {
  DEFAULT_ALERT_SETTINGS,
  FIGURE_NAMES,
  TOTAL_HOST,
  type Alert,
  type AlertSettings,
  type FigureName,
  type Figures,
  type RefreshOutcome,
} from '../../main/core/monitor-types.js';

const T0 = 1_795_536_000;
const HOUR = 3600;
const DAY = 24 * HOUR;
const NOON = 12 * 60;
const HOST = 'example.org';

const figures = (over: Partial<Figures> = {}): Figures => ({
  dau: 0,
  wau: 0,
  mau: 0,
  accounts: 0,
  new1d: 0,
  new7d: 0,
  new30d: 0,
  newestEvent: null,
  ...over,
});

/** A successful refresh at `at`: per host the given figures (newest event a minute old by default). */
const success = (at: number, hosts: Record<string, Partial<Figures>>): RefreshOutcome => ({
  ok: true,
  profile: 'prod',
  at,
  hosts: Object.fromEntries(
    Object.entries(hosts).map(([h, f]) => [h, figures({ newestEvent: at - 60, ...f })]),
  ),
  method: 'remote query',
  bytesReceived: 100,
  seconds: 0.1,
});

const failure = (at: number): RefreshOutcome => ({
  ok: false,
  profile: 'prod',
  at,
  kind: 'network',
  message: 'Cannot reach example.org port 22 (ECONNREFUSED): check that sshd is running.',
});

/** Baselines from a table `host/figure → value`, recorded exactly at the time asked for. */
const baselines =
  (table: Record<string, number>): BaselineLookup =>
  (host, figure, at) => {
    const value = table[`${host}/${figure}`];
    return value === undefined ? null : { value, at };
  };

interface Step {
  now: number;
  outcome: RefreshOutcome;
  base?: Record<string, number>;
  minute?: number;
}

/** Drives the policy through steps as the monitor would, keeping its state between them. */
function monitor(over: Partial<AlertSettings> = {}) {
  const settings: AlertSettings = { ...DEFAULT_ALERT_SETTINGS, ...over };
  let state: AlertState = INITIAL_ALERT_STATE;
  return {
    get state() {
      return state;
    },
    step({ now, outcome, base = {}, minute = NOON }: Step): Alert[] {
      const r = evaluateAlerts({
        settings,
        now,
        localMinuteOfDay: minute,
        outcome,
        baseline: baselines(base),
        state,
      });
      state = r.state;
      return r.deliver;
    },
  };
}

/** One evaluation of DAU on one host, from the baseline `from` to `to`. */
function dauOnce(from: number, to: number, over: Partial<AlertSettings> = {}): Alert[] {
  return monitor(over).step({
    now: T0,
    outcome: success(T0, { [HOST]: { dau: to } }),
    base: { [`${HOST}/dau`]: from },
  });
}

/** The DAU values of HOST at steps `gap` seconds apart against a fixed baseline: deliveries per step. */
function dauSeries(from: number, values: number[], gap: number, over: Partial<AlertSettings> = {}) {
  const m = monitor(over);
  return values.map(
    (to, i) =>
      m.step({
        now: T0 + i * gap,
        outcome: success(T0 + i * gap, { [HOST]: { dau: to } }),
        base: { [`${HOST}/dau`]: from },
      }).length,
  );
}

// --- Thresholds -------------------------------------------------------------------------------

const thresholds: Array<
  [name: string, from: number, to: number, over: Partial<AlertSettings>, alerts: boolean]
> = [
  ['a drop of 20 % and 20 users alerts', 100, 80, {}, true],
  ['a rise of 20 % and 20 users alerts', 100, 120, {}, true],
  ['a change of 19 % does not alert although it is 19 users', 100, 81, {}, false],
  ['a change of 50 % does not alert when it is under the minimum of 5 users', 8, 4, {}, false],
  ['a change of exactly 5 users and exactly 20 % alerts', 25, 30, {}, true],
  [
    'a change of exactly the threshold alerts despite float noise (0.07 × 100)',
    100,
    107,
    { relativeThreshold: 0.07 },
    true,
  ],
  ['a change of 4 users from 0 does not alert: from 0 only the minimum counts', 0, 4, {}, false],
  ['a change of 5 users from 0 alerts: from 0 only the minimum counts', 0, 5, {}, true],
  [
    'a figure that did not move never alerts, even with zero thresholds',
    0,
    0,
    { relativeThreshold: 0, absoluteMinimum: 0 },
    false,
  ],
  ['a figure falling to 0 alerts like any other drop', 10, 0, {}, true],
  [
    'a per-figure minimum overrides the profile minimum',
    8,
    4,
    { perFigure: { dau: { absoluteMinimum: 2 } } },
    true,
  ],
  [
    'a per-figure threshold overrides the profile threshold',
    100,
    80,
    { perFigure: { dau: { relativeThreshold: 0.5 } } },
    false,
  ],
  [
    'an override for another figure leaves this one alone',
    8,
    4,
    { perFigure: { wau: { absoluteMinimum: 1 } } },
    false,
  ],
  ['a figure that is not watched never alerts', 100, 50, { figures: ['wau', 'mau'] }, false],
];

for (const [name, from, to, over, alerts] of thresholds) {
  test(name, () => {
    assert.equal(dauOnce(from, to, over).length, alerts ? 1 : 0);
  });
}

test('only the watched figures are compared, each against its own baseline', () => {
  const m = monitor({ figures: ['accounts', 'new7d'] });
  const got = m.step({
    now: T0,
    outcome: success(T0, { [HOST]: { dau: 0, accounts: 200, new7d: 10 } }),
    base: { [`${HOST}/dau`]: 100, [`${HOST}/accounts`]: 100, [`${HOST}/new7d`]: 9 },
  });
  assert.deepEqual(
    got.map((a) => alertKey(a)),
    [`large-change/${HOST}/accounts`],
  );
});

// --- Baselines --------------------------------------------------------------------------------

test('no recorded baseline means no alert', () => {
  const got = monitor().step({ now: T0, outcome: success(T0, { [HOST]: { dau: 500 } }) });
  assert.deepEqual(got, []);
});

test('the baseline is asked for baselineSeconds before the figures, per host and watched figure', () => {
  const asked: Array<[string, FigureName, number]> = [];
  evaluateAlerts({
    settings: { ...DEFAULT_ALERT_SETTINGS, baselineSeconds: 7 * DAY },
    now: T0 + 30,
    localMinuteOfDay: NOON,
    outcome: success(T0, { [HOST]: {}, 'b.test': {}, [TOTAL_HOST]: {} }),
    baseline: (host, figure, at) => (asked.push([host, figure, at]), null),
    state: INITIAL_ALERT_STATE,
  });
  assert.deepEqual(asked, [
    [HOST, 'dau', T0 - 7 * DAY],
    [HOST, 'wau', T0 - 7 * DAY],
    [HOST, 'mau', T0 - 7 * DAY],
    ['b.test', 'dau', T0 - 7 * DAY],
    ['b.test', 'wau', T0 - 7 * DAY],
    ['b.test', 'mau', T0 - 7 * DAY],
    [TOTAL_HOST, 'dau', T0 - 7 * DAY],
    [TOTAL_HOST, 'wau', T0 - 7 * DAY],
    [TOTAL_HOST, 'mau', T0 - 7 * DAY],
  ]);
});

test('a large-change alert carries both figures, the baseline time and the refresh time', () => {
  const got = evaluateAlerts({
    settings: DEFAULT_ALERT_SETTINGS,
    now: T0,
    localMinuteOfDay: NOON,
    outcome: success(T0, { [HOST]: { dau: 80 } }),
    baseline: (host, figure) => (figure === 'dau' ? { value: 120, at: T0 - DAY - 120 } : null),
    state: INITIAL_ALERT_STATE,
  });
  assert.deepEqual(got.deliver, [
    {
      kind: 'large-change',
      profile: 'prod',
      host: HOST,
      figure: 'dau',
      from: 120,
      to: 80,
      baselineAt: T0 - DAY - 120,
      at: T0,
    },
  ]);
});

// --- Total host -------------------------------------------------------------------------------

test('the total alerts under TOTAL_HOST when no single host changed enough', () => {
  const got = monitor().step({
    now: T0,
    outcome: success(T0, { 'a.test': { dau: 7 }, 'b.test': { dau: 7 }, [TOTAL_HOST]: { dau: 14 } }),
    base: { 'a.test/dau': 10, 'b.test/dau': 10, [`${TOTAL_HOST}/dau`]: 20 },
  });
  assert.deepEqual(
    got.map((a) => alertKey(a)),
    [`large-change/${TOTAL_HOST}/dau`],
  );
});

test('a server with one host gets one alert for a large change, not a second for its total', () => {
  const got = monitor().step({
    now: T0,
    outcome: success(T0, { [HOST]: { dau: 50 }, [TOTAL_HOST]: { dau: 50 } }),
    base: { [`${HOST}/dau`]: 100, [`${TOTAL_HOST}/dau`]: 100 },
  });
  assert.deepEqual(
    got.map((a) => alertKey(a)),
    [`large-change/${HOST}/dau`],
  );
});

// --- Cooldown ---------------------------------------------------------------------------------

// 120 alerts, 100 re-arms the latch, 125 would alert again but for the cooldown.
const cooldownCases: Array<[name: string, secondAlertAt: number, delivered: boolean]> = [
  ['the same large change is not repeated within the cooldown', 6 * HOUR - 1, false],
  ['the same large change alerts again once the cooldown has passed', 6 * HOUR, true],
];

for (const [name, secondAlertAt, delivered] of cooldownCases) {
  test(name, () => {
    const m = monitor();
    const base = { [`${HOST}/dau`]: 100 };
    assert.equal(
      m.step({ now: T0, outcome: success(T0, { [HOST]: { dau: 120 } }), base }).length,
      1,
    );
    const t1 = T0 + HOUR;
    assert.equal(
      m.step({ now: t1, outcome: success(t1, { [HOST]: { dau: 100 } }), base }).length,
      0,
    );
    const t2 = T0 + secondAlertAt;
    const got = m.step({ now: t2, outcome: success(t2, { [HOST]: { dau: 125 } }), base });
    assert.equal(got.length, delivered ? 1 : 0);
  });
}

test('the cooldown is per host and figure: another figure or host still alerts', () => {
  const m = monitor();
  m.step({
    now: T0,
    outcome: success(T0, { [HOST]: { dau: 120 } }),
    base: { [`${HOST}/dau`]: 100 },
  });
  const t1 = T0 + HOUR;
  const got = m.step({
    now: t1,
    outcome: success(t1, { [HOST]: { dau: 120, wau: 300 }, 'b.test': { dau: 50 } }),
    base: { [`${HOST}/dau`]: 100, [`${HOST}/wau`]: 200, 'b.test/dau': 100 },
  });
  assert.deepEqual(
    got.map((a) => alertKey(a)),
    [`large-change/${HOST}/wau`, 'large-change/b.test/dau'],
  );
});

test('a change suppressed by the cooldown is announced when the cooldown ends if it persists', () => {
  // 120 alerts; 100 re-arms; 125 within the cooldown is held back; still 125 after it: alerts.
  const got = dauSeries(100, [120, 100, 125, 125, 125, 125, 125, 125], HOUR);
  assert.deepEqual(got, [1, 0, 0, 0, 0, 0, 1, 0]);
});

// --- Hysteresis -------------------------------------------------------------------------------

// Steps a day apart, far beyond the cooldown: only the latch decides.
const hysteresis: Array<[name: string, values: number[], deliveries: number[]]> = [
  [
    'a figure hovering at the threshold alerts once',
    [100, 120, 119, 121, 118, 122, 120],
    [0, 1, 0, 0, 0, 0, 0],
  ],
  ['a change still above half the threshold keeps the latch', [120, 111, 121], [1, 0, 0]],
  [
    'a change still above half the threshold but under half the minimum re-arms',
    [120, 102, 121],
    [1, 0, 1],
  ],
  ['falling back below half the threshold re-arms the alert', [120, 109, 121], [1, 0, 1]],
  ['a large change in the other direction alerts at once', [120, 75], [1, 1]],
  ['a drop is latched like a rise', [80, 81, 79, 82, 95, 78], [1, 0, 0, 0, 0, 1]],
];

for (const [name, values, deliveries] of hysteresis) {
  test(name, () => {
    assert.deepEqual(dauSeries(100, values, DAY), deliveries);
  });
}

test('from 0 the latch re-arms below half the minimum', () => {
  assert.deepEqual(dauSeries(0, [5, 3, 6, 2, 5], DAY), [1, 0, 0, 0, 1]);
});

test('a missing baseline leaves the latch as it was', () => {
  const m = monitor();
  const base = { [`${HOST}/dau`]: 100 };
  assert.equal(m.step({ now: T0, outcome: success(T0, { [HOST]: { dau: 120 } }), base }).length, 1);
  const t1 = T0 + DAY;
  assert.equal(m.step({ now: t1, outcome: success(t1, { [HOST]: { dau: 100 } }) }).length, 0);
  const t2 = T0 + 2 * DAY;
  assert.equal(m.step({ now: t2, outcome: success(t2, { [HOST]: { dau: 120 } }), base }).length, 0);
});

// --- Quiet hours and pause --------------------------------------------------------------------

const clock = (text: string): number => parseClockTime(text)!;

const quietCases: Array<
  [name: string, quiet: { from: string; to: string }, at: string, quietNow: boolean]
> = [
  ['a minute before quiet hours alerts are sent', { from: '22:00', to: '07:00' }, '21:59', false],
  ['quiet hours begin at their start minute', { from: '22:00', to: '07:00' }, '22:00', true],
  [
    'quiet hours across midnight hold alerts before midnight',
    { from: '22:00', to: '07:00' },
    '23:59',
    true,
  ],
  [
    'quiet hours across midnight hold alerts at midnight',
    { from: '22:00', to: '07:00' },
    '00:00',
    true,
  ],
  [
    'quiet hours across midnight hold alerts until their last minute',
    { from: '22:00', to: '07:00' },
    '06:59',
    true,
  ],
  ['quiet hours end at their end minute', { from: '22:00', to: '07:00' }, '07:00', false],
  [
    'quiet hours within one day hold alerts inside them',
    { from: '12:00', to: '14:00' },
    '13:59',
    true,
  ],
  [
    'quiet hours within one day do not hold alerts after them',
    { from: '12:00', to: '14:00' },
    '14:00',
    false,
  ],
  [
    'quiet hours within one day do not hold alerts before them',
    { from: '12:00', to: '14:00' },
    '11:59',
    false,
  ],
  [
    'quiet hours from a time to the same time are no quiet hours',
    { from: '22:00', to: '22:00' },
    '22:00',
    false,
  ],
  ['quiet hours that are not HH:MM are ignored', { from: '10pm', to: '07:00' }, '23:00', false],
];

for (const [name, quietHours, at, quietNow] of quietCases) {
  test(name, () => {
    assert.equal(inQuietHours(quietHours, clock(at)), quietNow);
    const m = monitor({ quietHours });
    const got = m.step({
      now: T0,
      minute: clock(at),
      outcome: success(T0, { [HOST]: { dau: 80 } }),
      base: { [`${HOST}/dau`]: 100 },
    });
    assert.equal(got.length, quietNow ? 0 : 1);
    assert.equal(m.state.held.length, quietNow ? 1 : 0);
  });
}

test('alerts held in quiet hours are delivered at the first evaluation after them', () => {
  const m = monitor({ quietHours: { from: '22:00', to: '07:00' } });
  const base = { [`${HOST}/dau`]: 100 };
  const steps: Array<[minute: string, dau: number]> = [
    ['23:00', 80],
    ['03:00', 80],
    ['06:59', 80],
    ['07:00', 80],
    ['08:00', 80],
  ];
  const got = steps.map(([minute, dau], i) =>
    m.step({
      now: T0 + i * HOUR,
      minute: clock(minute),
      outcome: success(T0 + i * HOUR, { [HOST]: { dau } }),
      base,
    }),
  );
  assert.deepEqual(
    got.map((d) => d.length),
    [0, 0, 0, 1, 0],
  );
  assert.equal(got[3]![0]!.at, T0, 'the alert raised at 23:00');
});

test('of several held alerts for the same key only the newest is delivered', () => {
  const m = monitor({ quietHours: { from: '22:00', to: '07:00' }, cooldownSeconds: HOUR });
  const base = { [`${HOST}/dau`]: 100 };
  const steps: Array<[minute: string, dau: number]> = [
    ['22:00', 120],
    ['23:00', 100],
    ['01:00', 130],
    ['07:00', 130],
  ];
  const got = steps.map(([minute, dau], i) =>
    m.step({
      now: T0 + i * 2 * HOUR,
      minute: clock(minute),
      outcome: success(T0 + i * 2 * HOUR, { [HOST]: { dau } }),
      base,
    }),
  );
  assert.deepEqual(got.slice(0, 3), [[], [], []]);
  assert.deepEqual(
    got[3]!.map((a) => (a.kind === 'large-change' ? a.to : null)),
    [130],
  );
});

test('held alerts for different keys are all delivered, oldest first', () => {
  const m = monitor({ quietHours: { from: '22:00', to: '07:00' } });
  m.step({
    now: T0,
    minute: clock('23:00'),
    outcome: success(T0, { [HOST]: { dau: 80 } }),
    base: { [`${HOST}/dau`]: 100 },
  });
  const t1 = T0 + HOUR;
  m.step({
    now: t1,
    minute: clock('00:00'),
    outcome: success(t1, { [HOST]: { dau: 80, mau: 10 } }),
    base: { [`${HOST}/dau`]: 100, [`${HOST}/mau`]: 50 },
  });
  const t2 = T0 + 8 * HOUR;
  const got = m.step({
    now: t2,
    minute: clock('07:00'),
    outcome: success(t2, { [HOST]: { dau: 80, mau: 10 } }),
    base: { [`${HOST}/dau`]: 100, [`${HOST}/mau`]: 50 },
  });
  assert.deepEqual(
    got.map((a) => alertKey(a)),
    [`large-change/${HOST}/dau`, `large-change/${HOST}/mau`],
  );
});

const pauseCases: Array<[name: string, now: number, delivered: number, held: number]> = [
  ['while paused, alerts are held', T0 + HOUR - 1, 0, 1],
  ['held alerts are delivered at the first evaluation once the pause has ended', T0 + HOUR, 1, 0],
];

for (const [name, second, delivered, held] of pauseCases) {
  test(name, () => {
    const m = monitor({ pausedUntil: T0 + HOUR });
    const base = { [`${HOST}/dau`]: 100 };
    assert.equal(
      m.step({ now: T0, outcome: success(T0, { [HOST]: { dau: 80 } }), base }).length,
      0,
    );
    assert.equal(
      m.step({ now: second, outcome: success(second, { [HOST]: { dau: 80 } }), base }).length,
      delivered,
    );
    assert.equal(m.state.held.length, held);
  });
}

// --- Failures and recovery --------------------------------------------------------------------

/** `f` a failed refresh, `o` a successful one, an hour apart: the kinds delivered at each. */
function connection(pattern: string, over: Partial<AlertSettings> = {}, gap = HOUR): string[] {
  const m = monitor(over);
  return [...pattern].map((c, i) => {
    const t = T0 + i * gap;
    const outcome = c === 'f' ? failure(t) : success(t, { [HOST]: {} });
    return m
      .step({ now: t, outcome })
      .map((a) => a.kind)
      .join(',');
  });
}

const connectionCases: Array<
  [name: string, pattern: string, over: Partial<AlertSettings>, expected: string[]]
> = [
  [
    'three failed refreshes in a row raise one failing alert, on the third',
    'fffff',
    {},
    ['', '', 'failing', '', ''],
  ],
  [
    'the first success after a failing alert announces the recovery once',
    'fffoo',
    {},
    ['', '', 'failing', 'recovered', ''],
  ],
  [
    'a success before the third failure resets the count and announces nothing',
    'ffoffo',
    {},
    ['', '', '', '', '', ''],
  ],
  [
    'failuresBeforeAlert sets how many failures in a row it takes',
    'ff',
    { failuresBeforeAlert: 2 },
    ['', 'failing'],
  ],
  [
    'a failure streak starting within the cooldown of the recovery waits for the cooldown',
    'fffofffffffff',
    {},
    ['', '', 'failing', 'recovered', '', '', '', '', '', 'failing', '', '', ''],
  ],
  [
    'no recovery is announced for failures the operator was never told about',
    'fffoffffo',
    {},
    ['', '', 'failing', 'recovered', '', '', '', '', ''],
  ],
];

for (const [name, pattern, over, expected] of connectionCases) {
  test(name, () => {
    assert.deepEqual(connection(pattern, over), expected);
  });
}

test('a new failure streak after the cooldown alerts again on its third failure', () => {
  assert.deepEqual(connection('fffofff', {}, 3 * HOUR), [
    '',
    '',
    'failing',
    'recovered',
    '',
    '',
    'failing',
  ]);
});

test('the failing alert carries the number of failures and the last failure message', () => {
  const m = monitor();
  m.step({ now: T0, outcome: failure(T0) });
  m.step({ now: T0 + 1, outcome: failure(T0 + 1) });
  const got = m.step({ now: T0 + 2, outcome: failure(T0 + 2) });
  assert.deepEqual(got, [
    {
      kind: 'failing',
      profile: 'prod',
      failures: 3,
      message: 'Cannot reach example.org port 22 (ECONNREFUSED): check that sshd is running.',
      at: T0 + 2,
    },
  ]);
});

test('the recovery alert counts the failures it ends', () => {
  const m = monitor();
  for (let i = 0; i < 5; i++) m.step({ now: T0 + i, outcome: failure(T0 + i) });
  const r = m.step({ now: T0 + 5, outcome: success(T0 + 5, {}) });
  assert.deepEqual(r, [{ kind: 'recovered', profile: 'prod', failures: 5, at: T0 + 5 }]);
});

test('a failing alert held in quiet hours gives way to the recovery', () => {
  const m = monitor({ quietHours: { from: '22:00', to: '07:00' } });
  const kinds = ['f', 'f', 'f', 'o', 'o'].map((c, i) => {
    const t = T0 + i * HOUR;
    const outcome = c === 'f' ? failure(t) : success(t, { [HOST]: {} });
    return m.step({ now: t, minute: clock(i < 4 ? '23:00' : '07:00'), outcome }).map((a) => a.kind);
  });
  assert.deepEqual(kinds, [[], [], [], [], ['recovered']]);
});

// --- Stale records ----------------------------------------------------------------------------

const staleCases: Array<[name: string, newestEvent: number | null, stale: boolean]> = [
  ['a host with no event for longer than staleSeconds is stale', T0 - 12 * HOUR - 1, true],
  ['a host whose newest event is exactly staleSeconds old is not stale yet', T0 - 12 * HOUR, false],
  ['a host that never had activity is never stale', null, false],
];

for (const [name, newestEvent, stale] of staleCases) {
  test(name, () => {
    const got = monitor().step({ now: T0, outcome: success(T0, { [HOST]: { newestEvent } }) });
    assert.deepEqual(
      got.map((a) => alertKey(a)),
      stale ? [`stale/${HOST}`] : [],
    );
  });
}

test('a stale alert says how long the records have not moved', () => {
  const got = monitor().step({
    now: T0,
    outcome: success(T0, { [HOST]: { newestEvent: T0 - 14 * HOUR - 59 } }),
  });
  assert.deepEqual(got, [
    {
      kind: 'stale',
      profile: 'prod',
      host: HOST,
      newestEvent: T0 - 14 * HOUR - 59,
      hours: 14,
      at: T0,
    },
  ]);
});

test('the total is not reported stale on top of its hosts', () => {
  const old = T0 - DAY;
  const got = monitor().step({
    now: T0,
    outcome: success(T0, { [HOST]: { newestEvent: old }, [TOTAL_HOST]: { newestEvent: old } }),
  });
  assert.deepEqual(
    got.map((a) => alertKey(a)),
    [`stale/${HOST}`],
  );
});

test('a stale host alerts once until its records move again, then can alert again', () => {
  const m = monitor();
  const frozen = T0 - DAY;
  const newest = [frozen, frozen, frozen, T0 + 3 * DAY - 60, T0 + 3 * DAY - 60];
  const got = newest.map((newestEvent, i) => {
    const t = T0 + i * DAY;
    return m.step({ now: t, outcome: success(t, { [HOST]: { newestEvent } }) }).length;
  });
  assert.deepEqual(got, [1, 0, 0, 0, 1]);
});

test('a host stale again within the cooldown is reported only once the cooldown has passed', () => {
  const m = monitor({ staleSeconds: 2 * HOUR });
  const fresh = T0 + HOUR - 60;
  const steps: Array<[at: number, newestEvent: number]> = [
    [T0, T0 - 3 * HOUR],
    [T0 + HOUR, fresh],
    [T0 + 4 * HOUR, fresh],
    [T0 + 6 * HOUR, fresh],
  ];
  const got = steps.map(
    ([t, newestEvent]) =>
      m.step({ now: t, outcome: success(t, { [HOST]: { newestEvent } }) }).length,
  );
  assert.deepEqual(got, [1, 0, 0, 1]);
});

// --- State ------------------------------------------------------------------------------------

function deepFreeze<T>(x: T): T {
  if (typeof x === 'object' && x !== null) {
    for (const v of Object.values(x)) deepFreeze(v);
    Object.freeze(x);
  }
  return x;
}

test('the policy never modifies the state it is given', () => {
  const m = monitor({ quietHours: { from: '22:00', to: '07:00' } });
  m.step({
    now: T0,
    minute: clock('23:00'),
    outcome: success(T0, { [HOST]: { dau: 80 } }),
    base: { [`${HOST}/dau`]: 100 },
  });
  const before = deepFreeze(structuredClone(m.state));
  const r = evaluateAlerts({
    settings: DEFAULT_ALERT_SETTINGS,
    now: T0 + DAY,
    localMinuteOfDay: NOON,
    outcome: failure(T0 + DAY),
    baseline: () => null,
    state: before,
  });
  assert.equal(r.deliver.length, 1);
  assert.equal(before.held.length, 1);
});

test('the state survives a JSON round trip and restores to the same state', () => {
  const m = monitor({ quietHours: { from: '22:00', to: '07:00' } });
  m.step({ now: T0, outcome: failure(T0) });
  m.step({
    now: T0 + 1,
    minute: clock('23:00'),
    outcome: success(T0 + 1, { [HOST]: { dau: 80, newestEvent: T0 - DAY } }),
    base: { [`${HOST}/dau`]: 100 },
  });
  const json = JSON.parse(JSON.stringify(m.state)) as unknown;
  assert.deepEqual(json, m.state);
  assert.deepEqual(restoreAlertState(json), m.state);
});

const brokenStates: Array<[name: string, stored: unknown]> = [
  ['a stored state that is not an object restores to the initial state', 'garbage'],
  [
    'a stored state of the wrong shape restores to the initial state',
    { consecutiveFailures: -1, lastSent: [], held: {}, changeLatch: { x: 2 } },
  ],
];

for (const [name, stored] of brokenStates) {
  test(name, () => {
    assert.deepEqual(restoreAlertState(stored), INITIAL_ALERT_STATE);
  });
}

// --- The property: no storms ------------------------------------------------------------------

const SETTINGS_FOR_PROPERTY: AlertSettings = {
  ...DEFAULT_ALERT_SETTINGS,
  figures: ['dau', 'wau'],
  cooldownSeconds: 6 * HOUR,
  failuresBeforeAlert: 2,
  quietHours: { from: '22:00', to: '07:00' },
};

const stepArb = fc.record({
  gap: fc.integer({ min: 0, max: 8 * HOUR }),
  ok: fc.boolean(),
  dau: fc.integer({ min: 0, max: 40 }),
  wau: fc.integer({ min: 0, max: 40 }),
  bDau: fc.integer({ min: 0, max: 40 }),
  newestAgo: fc.option(fc.integer({ min: 0, max: 2 * DAY }), { nil: null }),
  baseDau: fc.option(fc.integer({ min: 0, max: 40 }), { nil: null }),
  baseWau: fc.option(fc.integer({ min: 0, max: 40 }), { nil: null }),
  minute: fc.integer({ min: 0, max: 1439 }),
  paused: fc.boolean(),
});

test('for any sequence of outcomes, the same alert is never delivered twice within the cooldown', () => {
  fc.assert(
    fc.property(fc.array(stepArb, { maxLength: 60 }), (steps) => {
      let state = INITIAL_ALERT_STATE;
      let now = T0;
      const lastDelivered = new Map<string, number>();
      for (const s of steps) {
        now += s.gap;
        const newestEvent = s.newestAgo === null ? null : now - s.newestAgo;
        const outcome = s.ok
          ? success(now, {
              [HOST]: { dau: s.dau, wau: s.wau, newestEvent },
              'b.test': { dau: s.bDau, newestEvent },
              [TOTAL_HOST]: { dau: s.dau + s.bDau, wau: s.wau, newestEvent },
            })
          : failure(now);
        const settings = {
          ...SETTINGS_FOR_PROPERTY,
          pausedUntil: s.paused ? now + HOUR : undefined,
        };
        const r = evaluateAlerts({
          settings,
          now,
          localMinuteOfDay: s.minute,
          outcome,
          baseline: (_host, figure, at) => {
            const value = figure === 'dau' ? s.baseDau : s.baseWau;
            return value === null ? null : { value, at };
          },
          state,
        });
        const keys = r.deliver.map((a) => alertKey(a));
        assert.equal(new Set(keys).size, keys.length, 'one alert per key per evaluation');
        for (const key of keys) {
          const last = lastDelivered.get(key);
          if (last !== undefined) {
            assert.ok(
              now - last >= settings.cooldownSeconds,
              `${key} at ${last} and again at ${now}`,
            );
          }
          lastDelivered.set(key, now);
        }
        state = JSON.parse(JSON.stringify(r.state)) as AlertState;
      }
    }),
    { numRuns: 500 },
  );
});

test('every figure name can be watched', () => {
  const m = monitor({ figures: [...FIGURE_NAMES] });
  const values = Object.fromEntries(FIGURE_NAMES.map((f) => [f, 50]));
  const base = Object.fromEntries(FIGURE_NAMES.map((f) => [`${HOST}/${f}`, 100]));
  const got = m.step({ now: T0, outcome: success(T0, { [HOST]: values }), base });
  assert.equal(got.length, FIGURE_NAMES.length);
});
