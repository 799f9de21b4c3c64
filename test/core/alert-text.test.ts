import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  alertBody,
  alertLine,
  alertTitle,
  formatAgo,
  formatChange,
} from '../../main/core/alert-text.js';
import { TOTAL_HOST, type Alert } from '../../main/core/monitor-types.js';

const T0 = 1_795_536_000; // 2026-11-24 16:00:00 UTC
const HOUR = 3600;

const change = (from: number, to: number, over: Partial<Alert> = {}): Alert =>
  ({
    kind: 'large-change',
    profile: 'prod',
    host: 'example.org',
    figure: 'dau',
    from,
    to,
    baselineAt: T0 - 24 * HOUR,
    at: T0,
    ...over,
  }) as Alert;

const changes: Array<[name: string, from: number, to: number, text: string]> = [
  ['a drop is shown with a minus sign', 120, 80, '−33 %'],
  ['a rise is shown with a plus sign', 100, 150, '+50 %'],
  ['a change under 1 % keeps one decimal', 1000, 996, '−0.4 %'],
  ['a change from 0 is shown in users, not as a percentage', 0, 7, '+7'],
  ['a drop to 0 is minus 100 %', 12, 0, '−100 %'],
];

for (const [name, from, to, text] of changes) {
  test(name, () => {
    assert.equal(formatChange(from, to), text);
  });
}

const agos: Array<[name: string, seconds: number, text: string]> = [
  ['a baseline a day earlier reads 24 h', 24 * HOUR, '24 h'],
  ['a baseline a few minutes off a day earlier still reads 24 h', 24 * HOUR + 240, '24 h'],
  ['a baseline a week earlier reads 7 days', 7 * 24 * HOUR + 600, '7 days'],
  ['a baseline under an hour earlier reads in minutes', 45 * 60, '45 min'],
  ['a baseline 36 hours earlier reads 36 h', 36 * HOUR, '36 h'],
];

for (const [name, seconds, text] of agos) {
  test(name, () => {
    assert.equal(formatAgo(seconds), text);
  });
}

const texts: Array<[name: string, alert: Alert, title: string, body: string]> = [
  [
    'a large drop shows the figures, the signed change, the host and the baseline',
    change(120, 80),
    'prod: DAU down 33 % on example.org',
    'DAU 120 → 80 (−33 %) on example.org, against 24 h earlier.',
  ],
  [
    'a large change of the total reads as across all hosts',
    change(100, 150, { host: TOTAL_HOST, figure: 'mau' }),
    'prod: MAU up 50 % across all hosts',
    'MAU 100 → 150 (+50 %) across all hosts, against 24 h earlier.',
  ],
  [
    'a large change from 0 says from 0 instead of a percentage',
    change(0, 7, { figure: 'new7d' }),
    'prod: New accounts (7 days) up from 0 to 7 on example.org',
    'New accounts (7 days) 0 → 7 (+7) on example.org, against 24 h earlier.',
  ],
  [
    'a large change without the refresh time names the baseline time',
    change(120, 80, { at: undefined }),
    'prod: DAU down 33 % on example.org',
    'DAU 120 → 80 (−33 %) on example.org, against 2026-11-23 16:00:00 UTC.',
  ],
  [
    'failing refreshes say how many failed and repeat the failure with its next step',
    {
      kind: 'failing',
      profile: 'prod',
      failures: 3,
      message: 'Cannot reach example.org port 22 (ECONNREFUSED): check that sshd is running.',
    },
    'prod: refreshes failing',
    'The last 3 refreshes failed in a row. Cannot reach example.org port 22 (ECONNREFUSED): check that sshd is running.',
  ],
  [
    'a single failed refresh is not said to be in a row',
    { kind: 'failing', profile: 'prod', failures: 1, message: 'Timed out.' },
    'prod: refreshes failing',
    'The last refresh failed. Timed out.',
  ],
  [
    'a recovery says how many refreshes had failed and that nothing is left to do',
    { kind: 'recovered', profile: 'prod', failures: 4 },
    'prod: refreshes work again',
    'Refreshing works again after 4 failed refreshes in a row; nothing to do.',
  ],
  [
    'stale records ask whether mod_lastlog2 is still loaded',
    { kind: 'stale', profile: 'prod', host: 'example.org', newestEvent: T0 - 14 * HOUR, hours: 14 },
    'prod: no logins on example.org for 14 h',
    'No login or logout on example.org for 14 h (the newest at 2026-11-24 02:00:00 UTC): is mod_lastlog2 still loaded?',
  ],
  [
    'records stale for days are counted in days',
    { kind: 'stale', profile: 'prod', host: 'example.org', newestEvent: T0 - 72 * HOUR, hours: 72 },
    'prod: no logins on example.org for 3 days',
    'No login or logout on example.org for 3 days (the newest at 2026-11-21 16:00:00 UTC): is mod_lastlog2 still loaded?',
  ],
];

for (const [name, alert, title, body] of texts) {
  test(name, () => {
    assert.equal(alertTitle(alert), title);
    assert.equal(alertBody(alert), body);
  });
}

test('the watch line starts with alert: and names the profile', () => {
  assert.equal(
    alertLine(change(120, 80)),
    'alert: prod: DAU 120 → 80 (−33 %) on example.org, against 24 h earlier.',
  );
});

test('the watch line stays on one line when a failure message spans several', () => {
  const line = alertLine({
    kind: 'failing',
    profile: 'prod',
    failures: 3,
    message: 'First line.\n  Second line.\r\nThird.',
  });
  assert.equal(
    line,
    'alert: prod: The last 3 refreshes failed in a row. First line. Second line. Third.',
  );
});

test('every alert reads as a single non-empty line with a title', () => {
  const alertArb: fc.Arbitrary<Alert> = fc.oneof(
    fc.record({
      kind: fc.constant('large-change' as const),
      profile: fc.string({ minLength: 1 }),
      host: fc.oneof(fc.constant(TOTAL_HOST), fc.domain()),
      figure: fc.constantFrom('dau', 'wau', 'mau', 'accounts', 'new1d', 'new7d', 'new30d'),
      from: fc.nat(10_000),
      to: fc.nat(10_000),
      baselineAt: fc.integer({ min: T0 - 90 * 86_400, max: T0 }),
      at: fc.constant(T0),
    }),
    fc.record({
      kind: fc.constant('failing' as const),
      profile: fc.string({ minLength: 1 }),
      failures: fc.integer({ min: 1, max: 100 }),
      message: fc.string(),
    }),
    fc.record({
      kind: fc.constant('recovered' as const),
      profile: fc.string({ minLength: 1 }),
      failures: fc.integer({ min: 1, max: 100 }),
    }),
    fc.record({
      kind: fc.constant('stale' as const),
      profile: fc.string({ minLength: 1 }),
      host: fc.domain(),
      newestEvent: fc.integer({ min: 0, max: T0 }),
      hours: fc.integer({ min: 0, max: 10_000 }),
    }),
  );
  fc.assert(
    fc.property(alertArb, (alert) => {
      const line = alertLine(alert);
      assert.ok(line.startsWith('alert: '));
      assert.ok(!/[\r\n]/.test(line));
      assert.ok(alertTitle(alert).length > 0);
    }),
  );
});

const hostileHosts: Array<[what: string, host: string, shown: string]> = [
  ['a line break', 'a\r\nTOTAL 999', 'a\\r\\nTOTAL 999'],
  ['an escape sequence', 'x\x1b[2J.org', 'x\\x1b[2J.org'],
  ['a bidi override', 'evil\u202egro.elpmaxe', 'evil\\u202egro.elpmaxe'],
];
for (const [what, host, shownHost] of hostileHosts) {
  test(`a host name with ${what} is shown escaped in every alert's title and body`, () => {
    const alerts: Alert[] = [
      { kind: 'stale', profile: 'p', host, newestEvent: 1_795_536_000, hours: 36 },
      { kind: 'module-missing', profile: 'p', host },
      {
        kind: 'large-change',
        profile: 'p',
        host,
        figure: 'dau',
        from: 10,
        to: 20,
        baselineAt: 1_795_536_000,
        at: 1_795_536_000 + 86_400,
      },
    ];
    for (const alert of alerts) {
      assert.ok(alertTitle(alert).includes(shownHost), alertTitle(alert));
      assert.ok(alertBody(alert).includes(shownHost), alertBody(alert));
      assert.ok(!alertBody(alert).includes(host));
    }
  });
}
