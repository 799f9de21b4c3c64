import { createHash } from 'node:crypto';

/**
 * The fingerprint OpenSSH shows for a public key (`ssh-keygen -lf`, and ssh's "key fingerprint is"
 * prompt): `SHA256:` and the unpadded base64 of the SHA-256 of the key blob. Showing the same
 * string lets a user compare it with what the server's admin reads off `ssh-keygen -lf`.
 */
export function sha256Fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}
