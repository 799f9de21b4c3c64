import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type AlertState,
  INITIAL_ALERT_STATE,
  evaluateAlerts,
  restoreAlertState,
} from '../../main/core/alert-policy.js';
import { alertBody, alertTitle } from '../../main/core/alert-text.js';
import {
  type Alert,
  DEFAULT_ALERT_SETTINGS,
  type RefreshOutcome,
} from '../../main/core/monitor-types.js';

const T0 = 1_795_536_000;
const HOUR = 3600;

const outcome = (at: number, missing: string[] | undefined): RefreshOutcome => ({
  ok: true,
  profile: 'prod',
  at,
  hosts: {},
  method: 'remote query',
  bytesReceived: 1,
  seconds: 0.1,
  ...(missing === undefined ? {} : { activityModuleMissing: missing }),
});

/** Runs the policy over refreshes an hour apart; the alerts delivered at each. */
function run(steps: Array<string[] | undefined>): Alert[][] {
  let state: AlertState = INITIAL_ALERT_STATE;
  return steps.map((missing, i) => {
    const r = evaluateAlerts({
      settings: DEFAULT_ALERT_SETTINGS,
      now: T0 + i * HOUR,
      localMinuteOfDay: 720,
      outcome: outcome(T0 + i * HOUR, missing),
      baseline: () => null,
      state,
    });
    state = r.state;
    return r.deliver;
  });
}

const kinds = (steps: Alert[][]) =>
  steps.map((s) => s.map((a) => `${a.kind} ${'host' in a ? a.host : ''}`));

const cases: Array<[name: string, steps: Array<string[] | undefined>, want: string[][]]> = [
  ['a host without its activity module alerts once', [['b.test']], [['module-missing b.test']]],
  [
    'a host still without it does not alert again',
    [['b.test'], ['b.test'], ['b.test']],
    [['module-missing b.test'], [], []],
  ],
  [
    'no live view leaves the latch as it was',
    [['b.test'], undefined, ['b.test']],
    [['module-missing b.test'], [], []],
  ],
  [
    'the module loaded again re-arms the alert (after the cooldown)',
    [['b.test'], [], [], [], [], [], [], ['b.test']],
    [['module-missing b.test'], [], [], [], [], [], [], ['module-missing b.test']],
  ],
  ['hosts with the module loaded never alert', [[], []], [[], []]],
];

for (const [name, steps, want] of cases) {
  test(name, () => assert.deepEqual(kinds(run(steps)), want));
}

test('the alert says the figures will stop moving and what to do', () => {
  const alert: Alert = { kind: 'module-missing', profile: 'prod', host: 'b.test' };
  assert.equal(alertTitle(alert), 'prod: mod_lastlog2 not loaded on b.test');
  assert.match(
    alertBody(alert),
    /the figures will stop moving\. Add "lastlog2" to modules_enabled/,
  );
});

test('a stored state keeps its module latch, and a damaged one is dropped', () => {
  assert.deepEqual(restoreAlertState({ moduleLatch: { 'b.test': true, x: 3 } }).moduleLatch, {
    'b.test': true,
  });
  assert.equal(restoreAlertState({}).moduleLatch, undefined);
});
