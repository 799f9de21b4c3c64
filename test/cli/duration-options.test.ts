import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCliOptions } from '../../main/cli/cli-options.js';
import { INTERVAL_RULE, fitsRule } from '../../main/core/number-rules.js';
import { MAX_TIMER_MS } from '../../main/core/scheduler.js';

const usageOf = (argv: string[]) => {
  const r = parseCliOptions(argv);
  return r.ok ? null : r.failure.kind === 'usage' ? r.failure.message : r.failure.kind;
};

for (const timeout of ['268436', '1e9', '601', '0', '-1', 'NaN', 'Infinity', '']) {
  test(`--timeout ${JSON.stringify(timeout)} is a usage error that says the bounds`, () => {
    const message = usageOf(['--ssh', 'h.example', `--timeout=${timeout}`]);
    assert.ok(message !== null, 'accepted');
    assert.match(message, /^--timeout must be a number of seconds above 0 and at most 600, not /);
    assert.equal(message.includes('\n'), false);
  });
}

for (const timeout of ['0.5', '15', '600']) {
  test(`--timeout ${timeout} is accepted and every step's timer fits Node's timer`, () => {
    const r = parseCliOptions(['--ssh', 'h.example', '--timeout', timeout]);
    assert.ok(r.ok);
    assert.equal(r.value.ssh?.connectTimeout, Number(timeout));
    assert.ok((r.value.ssh?.stepTimeout ?? Infinity) * 1000 <= MAX_TIMER_MS);
  });
}

test('an option value that starts with a dash is a usage error of one line', () => {
  const message = usageOf(['--ssh', 'h.example', '--timeout', '-1']);
  assert.match(message ?? '', /--timeout=-XYZ/);
  assert.equal(message?.includes('\n'), false);
});

for (const interval of ['7d 1s', '8d', '604801', '9007199254740991']) {
  test(`--interval ${interval} is refused as settings.json refuses intervalSeconds above 7 days`, () => {
    const message = usageOf(['--watch', '--db', 'x.sqlite', '--interval', interval]);
    assert.ok(message !== null, 'accepted');
    assert.match(message, /^--interval .* must be from 1s to 7d$/);
  });
}

for (const [interval, seconds] of [
  ['1s', 1],
  ['7d', 604800],
  ['604800', 604800],
] as const) {
  test(`--interval ${interval} is accepted, as intervalSeconds ${seconds} is in settings.json`, () => {
    const r = parseCliOptions(['--watch', '--db', 'x.sqlite', '--interval', interval]);
    assert.ok(r.ok);
    assert.equal(r.value.interval, seconds);
    assert.ok(fitsRule(seconds, INTERVAL_RULE));
  });
}
