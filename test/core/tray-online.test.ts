import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProfileView } from '../../main/core/ipc-contract.js';
import { figuresLine } from '../../main/core/tray-state.js';

function view(online: number | null | undefined): ProfileView {
  const f = (value: number) => ({ value, d24h: null, d7d: null });
  return {
    name: 'prod',
    status: 'ok',
    total: {
      dau: f(12),
      wau: f(40),
      mau: f(95),
      new1d: 0,
      new7d: 0,
      new30d: 0,
      accounts: 100,
      ...(online === undefined ? {} : { online }),
    },
    hosts: [],
    lastSuccessAt: null,
    lastAttemptAt: null,
    nextRefreshAt: null,
    method: null,
    bytesReceived: null,
    seconds: null,
    error: null,
  };
}

const cases: Array<[name: string, online: number | null | undefined, line: string]> = [
  [
    'the tooltip line says how many are online when the live view knew it',
    7,
    'prod — DAU 12 · WAU 40 · MAU 95 · online 7',
  ],
  [
    'the tooltip line says nothing of online when it was not known',
    null,
    'prod — DAU 12 · WAU 40 · MAU 95',
  ],
  [
    'the tooltip line of a view without the field is unchanged',
    undefined,
    'prod — DAU 12 · WAU 40 · MAU 95',
  ],
];

for (const [name, online, line] of cases) {
  test(name, () => assert.equal(figuresLine(view(online)), line));
}
