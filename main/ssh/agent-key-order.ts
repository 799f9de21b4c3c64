/**
 * Which of ssh-agent's keys to offer, in which order, as OpenSSH does (sshconnect2.c,
 * pubkey_prepare): first the agent's copies of the identity files (--identity, IdentityFile, the
 * defaults), in the files' order; then the agent's other keys, unless IdentitiesOnly is set.
 *
 * It matters because sshd closes the connection after MaxAuthTries (6 by default) refused keys:
 * with a crowded agent, the key the user named must come first, and `IdentitiesOnly yes` must keep
 * the other keys out, or the right key is never reached ("Too many authentication failures").
 */
export function orderAgentKeys<K>(
  agentKeys: readonly K[],
  blobOf: (key: K) => Buffer,
  identityBlobs: readonly Buffer[],
  identitiesOnly: boolean,
): K[] {
  const matching: K[] = [];
  const taken = new Set<K>();
  for (const identity of identityBlobs) {
    for (const key of agentKeys) {
      if (!taken.has(key) && blobOf(key).equals(identity)) {
        matching.push(key);
        taken.add(key);
      }
    }
  }
  if (identitiesOnly) return matching;
  return [...matching, ...agentKeys.filter((key) => !taken.has(key))];
}

/**
 * The key blob of an OpenSSH public key line (`type base64 [comment]`, the .pub file beside a
 * private key), or null when the text is not one.
 */
export function publicKeyBlob(line: string): Buffer | null {
  const match = /^\s*([a-z0-9@.-]+)\s+([A-Za-z0-9+/]+={0,2})(?:\s|$)/.exec(line);
  if (match === null) return null;
  const blob = Buffer.from(match[2]!, 'base64');
  // The blob starts with its own type name, length-prefixed: a cheap check that it is one.
  if (blob.length < 4) return null;
  const length = blob.readUInt32BE(0);
  if (blob.length < 4 + length || blob.subarray(4, 4 + length).toString('latin1') !== match[1]) {
    return null;
  }
  return blob;
}
