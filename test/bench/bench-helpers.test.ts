import assert from 'node:assert/strict';
import { test } from 'node:test';
import { abandonedNamespaces, parseCounter } from './bench-host.js';
import { machineTicks, negotiatedCompression, parseMachineTicks, stat } from './bench-util.js';

test('an interface counter is read as a whole number of bytes', () => {
  assert.equal(parseCounter('123456789\n', 'rx_bytes'), 123456789);
  assert.equal(parseCounter('0', 'rx_bytes'), 0);
  assert.equal(parseCounter('9007199254740991\n', 'rx_bytes'), Number.MAX_SAFE_INTEGER);
});

test('a counter file that is not a number is an error, never NaN', () => {
  for (const text of ['', '\n', '-1', '12 kB', 'abc']) {
    assert.throws(() => parseCounter(text, '/sys/class/net/x/statistics/rx_bytes'), /not a byte/);
  }
});

test('only the benchmark namespaces of processes that are gone are abandoned', () => {
  const list = [
    'pau-bench-4242 (id: 3)',
    'pau-bench-77',
    'pau-bench-99 (id: 1)',
    'pau-bench-x1',
    'pau-probe-12',
    'other',
    '',
  ].join('\n');
  const alive = (pid: number) => pid === 99;
  assert.deepEqual(abandonedNamespaces(list, alive), [4242, 77]);
  assert.deepEqual(abandonedNamespaces('', alive), []);
});

test('median, lowest and highest of the runs', () => {
  assert.deepEqual(stat([3, 1, 2]), { median: 2, min: 1, max: 3 });
  assert.deepEqual(stat([4, 1, 2, 3]), { median: 2.5, min: 1, max: 4 });
  assert.deepEqual(stat([5]), { median: 5, min: 5, max: 5 });
});

test("the compression a connection negotiated is read off sshd's DEBUG1 log", () => {
  const log = [
    'debug1: kex: algorithm: sntrup761x25519-sha512@openssh.com [preauth]',
    'debug1: kex: client->server cipher: aes128-gcm@openssh.com MAC: <implicit> compression: none [preauth]',
    'debug1: kex: server->client cipher: aes128-gcm@openssh.com MAC: <implicit> compression: zlib@openssh.com [preauth]',
    'Accepted publickey for bench-1a2b3c from 10.201.0.1 port 35228 ssh2: ED25519 SHA256:x',
  ].join('\n');
  assert.equal(negotiatedCompression(log), 'zlib@openssh.com');
  assert.equal(negotiatedCompression('Accepted publickey for x'), undefined);
});

test("the machine's busy and total CPU ticks are read off /proc/stat's first line", () => {
  const text = [
    'cpu  100 2 30 800 40 5 6 7 0 0',
    'cpu0 50 1 15 400 20 2 3 3 0 0',
    'intr 12345',
  ].join('\n');
  assert.deepEqual(parseMachineTicks(text), { busy: 150, total: 990 });
  // A kernel before steal (2.6.11) had seven fields; fewer is not the line this reads.
  assert.throws(() => parseMachineTicks('cpu  1 2 3 4\n'), /no cpu line/);
  assert.throws(() => parseMachineTicks('intr 1 2 3 4 5 6 7 8\n'), /no cpu line/);
});

test('this machine has /proc/stat, and its ticks only grow', () => {
  const a = machineTicks();
  const b = machineTicks();
  assert.ok(a.total > 0 && a.busy > 0 && a.busy <= a.total);
  assert.ok(b.total >= a.total && b.busy >= a.busy);
});
