import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProfileView } from '../../main/core/ipc-contract.js';
import { TOOLTIP_MAX_LENGTH, trayMenu, trayTooltip } from '../../main/core/tray-state.js';
import { profileView } from '../fixtures/profile-view.js';

const profile = (name: string): ProfileView => profileView(name, 'ok', [1, 2, 3], {}, 4);

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
