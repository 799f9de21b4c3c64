// A real OpenSSH sshd on loopback that one ed25519 key logs in to, and the CLI options that reach
// it: the set-up the SSH tests share.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type GeneratedKey, type SshdInstance, generateKey, startSshd } from '../support/sshd.js';

export interface SshTestHost {
  sshd: SshdInstance;
  key: GeneratedKey;
  /** Holds only this sshd's host key. */
  knownHosts: string;
}

/** sshd with password logins off, a fresh key, and a known_hosts file for it in `work`. */
export async function startSshTestHost(work: string): Promise<SshTestHost> {
  const sshd = await startSshd({ passwordAuth: false });
  const key = await generateKey('ed25519');
  const knownHosts = join(work, 'known_hosts');
  writeFileSync(knownHosts, sshd.knownHostsLine());
  return { sshd, key, knownHosts };
}

/**
 * The CLI's options to log in as `user` on 127.0.0.1:`port` with `identity`, trusting only
 * `knownHosts` and reading no ssh_config (the machine's own must not change the test).
 */
export function sshCliOptions(
  user: string,
  port: number,
  identity: string,
  knownHosts: string,
): string[] {
  return [
    '--ssh',
    `${user}@127.0.0.1:${port}`,
    '--identity',
    identity,
    '--known-hosts',
    knownHosts,
    '--ssh-config',
    '/dev/null',
  ];
}
