import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AppSnapshot, ProfileView } from '../../main/core/ipc-contract.js';
import {
  TOOLTIP_MAX_LENGTH,
  type TrayInput,
  type TrayMenuItem,
  type TrayState,
  failureWords,
  pauseUntil,
  sameTrayView,
  trayMenu,
  trayState,
  trayTitle,
  trayTooltip,
  trayView,
} from '../../main/core/tray-state.js';
import { profileView } from '../fixtures/profile-view.js';

const T0 = 1_795_536_000; // 2026-11-24 16:00:00 UTC

/** "HH:MM" in UTC: the tests pin the format the app injects. */
const formatTime = (at: number): string => new Date(at * 1000).toISOString().slice(11, 16);

const profile = profileView;

function input(
  profiles: ProfileView[],
  over: Partial<AppSnapshot> = {},
  showTitle = false,
): TrayInput {
  return {
    snapshot: {
      profiles,
      firstRun: profiles.length === 0,
      alertsPausedUntil: null,
      startAtLogin: false,
      secretsAvailable: true,
      ...over,
    },
    formatTime,
    showTitle,
  };
}

const failing = (name: string, kind = 'network') =>
  profile(name, 'failing', [12, 40, 95], {
    error: { kind, message: 'The server could not be reached.', at: T0 },
  });

const states: Array<[name: string, profiles: ProfileView[], state: TrayState]> = [
  ['every profile fine is ok', [profile('a', 'ok'), profile('b', 'ok')], 'ok'],
  [
    'a large change anywhere is alerting',
    [profile('a', 'ok'), profile('b', 'alerting')],
    'alerting',
  ],
  [
    'a refresh under way is refreshing',
    [profile('a', 'ok'), profile('b', 'refreshing')],
    'refreshing',
  ],
  ['a profile never counted yet is refreshing', [profile('a', 'never', null)], 'refreshing'],
  ['a failing profile is stale-or-failing', [profile('a', 'ok'), failing('b')], 'stale-or-failing'],
  ['a stale profile is stale-or-failing', [profile('a', 'stale')], 'stale-or-failing'],
  [
    'failing wins over alerting and refreshing',
    [profile('a', 'alerting'), profile('b', 'refreshing'), failing('c')],
    'stale-or-failing',
  ],
  [
    'alerting wins over refreshing',
    [profile('a', 'refreshing'), profile('b', 'alerting')],
    'alerting',
  ],
  ['no profile at all is stale-or-failing', [], 'stale-or-failing'],
];

for (const [name, profiles, state] of states) {
  test(`tray state: ${name}`, () => {
    assert.equal(trayState(profiles), state);
  });
}

const tooltips: Array<[name: string, input: TrayInput, text: string]> = [
  [
    'one profile shows its figures and the time of the last good refresh',
    input([profile('home', 'ok')]),
    'home — DAU 12 · WAU 40 · MAU 95\nupdated 15:55',
  ],
  [
    'a failing profile shows the error in a few words and the last good time',
    input([failing('home')]),
    'home — DAU 12 · WAU 40 · MAU 95\nfailing: cannot reach server, last good 15:55',
  ],
  [
    'a stale profile says so',
    input([profile('home', 'stale')]),
    'home — DAU 12 · WAU 40 · MAU 95\nstale, last good 15:55',
  ],
  [
    'a profile waiting for its first count has no figures yet',
    input([profile('home', 'never', null)]),
    'home — no figures yet\nwaiting for the first count',
  ],
  [
    'a refresh under way says refreshing',
    input([profile('home', 'refreshing')]),
    'home — DAU 12 · WAU 40 · MAU 95\nrefreshing…',
  ],
  [
    'paused alerts are mentioned with their end',
    input([profile('home', 'ok')], { alertsPausedUntil: T0 + 3600 }),
    'home — DAU 12 · WAU 40 · MAU 95\nupdated 15:55\nAlerts paused until 17:00',
  ],
  [
    'no profile invites the user to settings',
    input([]),
    'Prosody Active Users — no server yet: open Settings to add one',
  ],
  [
    'an error kind this version does not know reads as failing',
    input([failing('home', 'something-new')]),
    'home — DAU 12 · WAU 40 · MAU 95\nfailing: failing, last good 15:55',
  ],
  [
    'too long for two lines each: one line per profile, problems marked',
    input([profile('alpha', 'ok'), failing('bravo'), profile('charlie', 'stale')]),
    'alpha — DAU 12 · WAU 40 · MAU 95\nbravo — DAU 12 · WAU 40 · MAU 95 (failing)\ncharlie — DAU 12 · WAU 40 · MAU 95 (stale)',
  ],
  [
    'too many profiles: as many as fit, then how many more',
    input(['a1', 'a2', 'a3', 'a4', 'a5', 'a6'].map((n) => profile(n, 'ok'))),
    'a1 — DAU 12 · WAU 40 · MAU 95\na2 — DAU 12 · WAU 40 · MAU 95\na3 — DAU 12 · WAU 40 · MAU 95\na4 — DAU 12 · WAU 40 · MAU 95\n+2 more',
  ],
];

for (const [name, given, text] of tooltips) {
  test(`tooltip: ${name}`, () => {
    assert.equal(trayTooltip(given), text);
  });
}

test('tooltip: never longer than the Windows limit, even with long names and many profiles', () => {
  const long = 'x'.repeat(64);
  for (let n = 1; n <= 12; n++) {
    const profiles = Array.from({ length: n }, (_, i) => profile(`${long.slice(2)}${i}`, 'ok'));
    const text = trayTooltip(input(profiles, { alertsPausedUntil: T0 }));
    assert.ok(text.length <= TOOLTIP_MAX_LENGTH, `${n} profiles: ${text.length} characters`);
    assert.ok(text.length > 0);
  }
});

test('tooltip: a cut never splits an emoji in half', () => {
  const name = `${'x'.repeat(94)}😀😀😀😀😀😀😀😀`; // the cut falls inside the emoji
  const text = trayTooltip(input([profile(name.slice(0, 64), 'ok'), profile(name, 'ok')]));
  assert.ok(text.length <= TOOLTIP_MAX_LENGTH);
  assert.equal(Buffer.from(text, 'utf8').toString('utf8'), text, 'well-formed UTF-16');
  assert.ok(!/[\ud800-\udbff](?![\udc00-\udfff])/.test(text), 'no lone high surrogate');
});

const titles: Array<[name: string, input: TrayInput, title: string]> = [
  ['off unless asked for', input([profile('a', 'ok')]), ''],
  ['the DAU of one profile', input([profile('a', 'ok')], {}, true), '12'],
  [
    'the DAU of each profile with figures, at most three',
    input(
      [
        profile('a', 'ok', [1, 2, 3]),
        profile('b', 'never', null),
        profile('c', 'ok', [4, 5, 6]),
        profile('d', 'ok', [7, 8, 9]),
        profile('e', 'ok', [10, 11, 12]),
      ],
      {},
      true,
    ),
    '1 · 4 · 7',
  ],
  ['nothing before the first figures', input([profile('a', 'never', null)], {}, true), ''],
];

for (const [name, given, title] of titles) {
  test(`macOS title: ${name}`, () => {
    assert.equal(trayTitle(given), title);
  });
}

const labels = (items: TrayMenuItem[]) =>
  items.map((i) => {
    switch (i.type) {
      case 'separator':
        return '---';
      case 'info':
        return `(${i.label})`;
      case 'checkbox':
        return `[${i.checked ? 'x' : ' '}] ${i.label}`;
      case 'command':
        return i.enabled ? i.label : `${i.label} (disabled)`;
    }
  });

test('menu: open, refresh, each profile as a disabled line, pauses, settings, start at login, quit', () => {
  assert.deepEqual(labels(trayMenu(input([profile('home', 'ok'), failing('work')]))), [
    'Open Prosody Active Users',
    'Refresh now',
    '---',
    '(home — DAU 12 · WAU 40 · MAU 95)',
    '(work — DAU 12 · WAU 40 · MAU 95 (failing: cannot reach server, last good 15:55))',
    '---',
    'Pause alerts for 1 hour',
    'Pause alerts until tomorrow',
    '---',
    'Settings…',
    '[ ] Start at login',
    '---',
    'Quit',
  ]);
});

test('menu: paused alerts show their end and a way to resume', () => {
  const menu = labels(trayMenu(input([profile('home', 'ok')], { alertsPausedUntil: T0 + 7200 })));
  assert.deepEqual(menu.slice(5, 9), [
    '(Alerts paused until 18:00)',
    'Resume alerts',
    'Pause alerts for 1 hour',
    'Pause alerts until tomorrow',
  ]);
});

test('menu: start at login is checked when it is on', () => {
  const menu = trayMenu(input([profile('home', 'ok')], { startAtLogin: true }));
  const item = menu.find((i) => i.type === 'checkbox');
  assert.deepEqual(item, {
    type: 'checkbox',
    command: 'toggle-start-at-login',
    label: 'Start at login',
    checked: true,
  });
});

test('menu: refresh is disabled while a refresh runs and when there is no server', () => {
  assert.ok(
    labels(trayMenu(input([profile('a', 'refreshing')]))).includes('Refreshing… (disabled)'),
  );
  const empty = labels(trayMenu(input([])));
  assert.ok(empty.includes('Refresh now (disabled)'));
  assert.ok(empty.includes('(No server yet)'));
});

test('menu: every item that does something names its command', () => {
  const commands = trayMenu(input([profile('home', 'ok')], { alertsPausedUntil: T0 }))
    .flatMap((i) => (i.type === 'command' || i.type === 'checkbox' ? [i.command] : []))
    .sort();
  assert.deepEqual(commands, [
    'open',
    'pause-1h',
    'pause-until-tomorrow',
    'quit',
    'refresh-now',
    'resume-alerts',
    'settings',
    'toggle-start-at-login',
  ]);
});

const pauses: Array<
  [name: string, command: Parameters<typeof pauseUntil>[0], until: number | null]
> = [
  ['one hour is 3600 seconds from now', 'pause-1h', T0 + 3600],
  ['until tomorrow is the next local midnight', 'pause-until-tomorrow', T0 + 8 * 3600],
  ['resume clears the pause', 'resume-alerts', null],
];

for (const [name, command, until] of pauses) {
  test(`pause: ${name}`, () => {
    const midnight = (now: number) => {
      assert.equal(now, T0);
      return T0 + 8 * 3600;
    };
    assert.equal(pauseUntil(command, T0, midnight), until);
  });
}

test('the same snapshot gives the same view; a new figure gives another', () => {
  const a = trayView(input([profile('home', 'ok')]));
  const b = trayView(input([profile('home', 'ok')]));
  const c = trayView(input([profile('home', 'ok', [13, 40, 95])]));
  assert.equal(sameTrayView(a, b), true);
  assert.equal(sameTrayView(a, c), false);
  assert.equal(sameTrayView(null, a), false);
});

test('failure words cover a known kind and fall back for an unknown one', () => {
  assert.equal(failureWords('auth'), 'login refused');
  assert.equal(failureWords('__proto__'), 'failing');
});
