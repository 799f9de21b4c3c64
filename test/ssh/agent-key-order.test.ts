import assert from 'node:assert/strict';
import { test } from 'node:test';
import { orderAgentKeys, publicKeyBlob } from '../../main/ssh/agent-key-order.js';

const blob = (name: string) => Buffer.from(name);
const order = (agent: string[], identities: string[], only: boolean) =>
  orderAgentKeys(agent, blob, identities.map(blob), only);

const ORDERS: Array<[string, string[], string[], boolean, string[]]> = [
  ['no identity files: the agent order', ['a', 'b', 'c'], [], false, ['a', 'b', 'c']],
  ['an identity file the agent holds comes first', ['a', 'b', 'c'], ['c'], false, ['c', 'a', 'b']],
  ["several, in the files' order", ['a', 'b', 'c'], ['c', 'b'], false, ['c', 'b', 'a']],
  ['an identity file the agent lacks changes nothing', ['a', 'b'], ['z'], false, ['a', 'b']],
  ["IdentitiesOnly: only the files' copies", ['a', 'b', 'c'], ['b'], true, ['b']],
  ['IdentitiesOnly with no copy in the agent: none', ['a', 'b'], ['z'], true, []],
  ['a file named twice is offered once', ['a', 'b'], ['b', 'b'], false, ['b', 'a']],
];

for (const [name, agent, identities, only, expected] of ORDERS) {
  test(`agent keys: ${name}`, () => {
    assert.deepEqual(order(agent, identities, only), expected);
  });
}

// ssh-ed25519, its blob: string "ssh-ed25519" then 32 bytes of key.
const ED_BLOB = Buffer.concat([
  Buffer.from([0, 0, 0, 11]),
  Buffer.from('ssh-ed25519'),
  Buffer.from([0, 0, 0, 32]),
  Buffer.alloc(32, 7),
]);
const ED_LINE = `ssh-ed25519 ${ED_BLOB.toString('base64')} me@host\n`;

const LINES: Array<[string, string, Buffer | null]> = [
  ['a .pub line', ED_LINE, ED_BLOB],
  ['a .pub line without a comment', `ssh-ed25519 ${ED_BLOB.toString('base64')}`, ED_BLOB],
  ['a type that does not match the blob', `ssh-rsa ${ED_BLOB.toString('base64')}`, null],
  ['not base64', 'ssh-ed25519 !!!!', null],
  ['a private key', '-----BEGIN OPENSSH PRIVATE KEY-----\n', null],
  ['empty', '', null],
  ['a truncated blob', `ssh-ed25519 ${ED_BLOB.subarray(0, 8).toString('base64')}`, null],
];

for (const [name, line, expected] of LINES) {
  test(`public key line: ${name}`, () => {
    assert.deepEqual(publicKeyBlob(line), expected);
  });
}
