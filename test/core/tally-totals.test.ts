import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AccountStatus } from '../../main/core/account-rule.js';
import { ActivityTally } from '../../main/core/count-active.js';
import { DAY } from '../../main/core/windows.js';

const NOW = 1_795_536_000;

const CASES: { name: string; status: AccountStatus; accounts: [number | null, number | null][] }[] =
  [
    {
      name: 'enabled',
      status: 'enabled',
      accounts: [
        [NOW - 60, null],
        [NOW - 8 * DAY, NOW - 100],
      ],
    },
    {
      name: 'disabled',
      status: 'disabled',
      accounts: [
        [NOW - DAY, null],
        [null, NOW - 2 * DAY],
      ],
    },
    { name: 'missing', status: 'missing', accounts: [[NOW - 30 * DAY - 10, null]] },
    { name: 'unknown', status: 'unknown', accounts: [[NOW - 3600, NOW - 3600]] },
  ];

for (const c of CASES) {
  test(`totals of ${c.name} accounts count as the same accounts added one by one`, () => {
    const one = new ActivityTally(NOW);
    for (const [last, registered] of c.accounts)
      one.addActivity('a.test', last, registered, c.status);
    const summed = new ActivityTally(NOW);
    const r = one.report();
    const h = r.hosts['a.test']!;
    const s = r.slack!['a.test']!;
    summed.addTotals('a.test', c.status, {
      accounts: c.accounts.length,
      dau: c.accounts.filter(([l]) => l !== null && NOW - l < DAY).length,
      wau: c.accounts.filter(([l]) => l !== null && NOW - l < 7 * DAY).length,
      mau: c.accounts.filter(([l]) => l !== null && NOW - l < 30 * DAY).length,
      new1d: c.accounts.filter(([, g]) => g !== null && NOW - g < DAY).length,
      new7d: c.accounts.filter(([, g]) => g !== null && NOW - g < 7 * DAY).length,
      new30d: c.accounts.filter(([, g]) => g !== null && NOW - g < 30 * DAY).length,
      newestEvent: Math.max(...c.accounts.map(([l]) => l ?? -Infinity)),
      recent: s.recent,
      leftSince: { ...s.leftSince },
    });
    assert.deepEqual(summed.report().hosts['a.test'], h);
    assert.deepEqual(summed.report().slack!['a.test'], s);
  });
}
