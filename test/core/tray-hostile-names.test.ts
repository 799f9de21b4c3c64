import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProfileView } from '../../main/core/ipc-contract.js';
import { TOOLTIP_MAX_LENGTH, trayMenu, trayTooltip } from '../../main/core/tray-state.js';

const T0 = 1_795_536_000;

function profile(name: string): ProfileView {
  const f = (value: number) => ({ value, d24h: null, d7d: null });
  return {
    name,
    status: 'ok',
    total: {
      dau: f(1),
      wau: f(2),
      mau: f(3),
      new1d: 0,
      new7d: 0,
      new30d: 0,
      accounts: 4,
    },
    hosts: [],
    lastSuccessAt: T0 - 300,
    lastAttemptAt: T0 - 300,
    nextRefreshAt: T0 + 3300,
    method: 'query',
    bytesReceived: 1000,
    seconds: 1.5,
    error: null,
  };
}

const input = (profiles: ProfileView[]) => ({
  snapshot: {
    profiles,
    firstRun: false,
    alertsPausedUntil: null,
    startAtLogin: false,
    secretsAvailable: true,
  },
  formatTime: () => '15:55',
  showTitle: false,
});

const names: Array<[what: string, name: string, shown: string]> = [
  ['a right-to-left override', 'evil\u202egro.elpmaxe', 'evil\\u202egro.elpmaxe'],
  ["C1's CSI", 'c1\u009b2J', 'c1\\x9b2J'],
  ['a mark and an isolate', 'lrm\u200e\u2066x', 'lrm\\u200e\\u2066x'],
];
for (const [what, name, shown] of names) {
  test(`a profile name with ${what} shows escaped in the tooltip`, () => {
    assert.equal(
      trayTooltip(input([profile(name)])),
      `${shown} — DAU 1 · WAU 2 · MAU 3\nupdated 15:55`,
    );
  });
  test(`a profile name with ${what} shows escaped in the tray menu`, () => {
    const labels = trayMenu(input([profile(name)])).flatMap((i) => ('label' in i ? [i.label] : []));
    assert.ok(labels.includes(`${shown} — DAU 1 · WAU 2 · MAU 3`), labels.join(' | '));
  });
}

test('a tooltip of many long, escaped names stays within the Windows limit', () => {
  const many = Array.from({ length: 20 }, (_, i) => profile(`${'\u202e'.repeat(60)}${i}`));
  const text = trayTooltip(input(many));
  assert.ok(text.length <= TOOLTIP_MAX_LENGTH, `${text.length}`);
  assert.doesNotMatch(text, /\u202e/);
});
