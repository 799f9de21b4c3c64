import assert from 'node:assert/strict';
import { test } from 'node:test';
import { channelRefusal } from '../../main/ssh/channel-refusal.js';

const refusal = (reason: unknown, text = 'open failed') =>
  Object.assign(new Error(`(SSH) Channel open failure: ${text}`), { reason });

const cases: Array<[name: string, error: Error, says: RegExp]> = [
  [
    'a channel the server may not open names permitopen and the forwarding settings',
    refusal(1),
    /^the SSH server may not forward there: the key's permitopen .*AllowTcpForwarding.*\(open failed\)$/,
  ],
  [
    'a channel nobody answered says so',
    refusal(2, 'Connection refused'),
    /^nothing answered there on the SSH server's side \(Connection refused\)$/,
  ],
  [
    'any other refusal keeps the server text alone',
    refusal(4, 'resource shortage'),
    /^resource shortage$/,
  ],
  [
    'an error that is no refusal stays as it is',
    new Error('no answer within 5 s'),
    /^no answer within 5 s$/,
  ],
];

for (const [name, error, says] of cases) {
  test(name, () => assert.match(channelRefusal(error), says));
}
