/**
 * "Trust this key": OpenSSH's accept-new for one host, after the user saw its fingerprint. The key
 * is fetched again (key exchange only: no credential is sent) and added to known_hosts only when
 * its fingerprint is the one the user was shown and the host is still unknown; a changed or
 * revoked key is never replaced from here.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { HOST_KEY_ALGORITHMS } from '../ssh/ssh-connection.js';
import { Client } from 'ssh2';
import { sha256Fingerprint } from '../ssh/host-key-fingerprint.js';
import {
  checkHostKey,
  keyTypeOfBlob,
  knownHostKeyTypes,
  knownHostsLine,
  orderHostKeyAlgorithms,
} from '../ssh/known-hosts.js';

export type TrustResult =
  { ok: true; added: boolean; message: string } | { ok: false; message: string };

export interface TrustRequest {
  host: string;
  port: number;
  /** The `SHA256:…` fingerprint the user was shown and accepted. */
  fingerprint: string;
  knownHostsPath: string;
  timeoutSeconds?: number;
}

/** The server's host key blob, from a key exchange cut short before authentication. */
function fetchHostKey(
  host: string,
  port: number,
  knownText: string,
  timeoutMs: number,
): Promise<{ blob: Buffer } | { error: string }> {
  return new Promise((resolve) => {
    const client = new Client();
    let settled = false;
    const settle = (value: { blob: Buffer } | { error: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.destroy();
      resolve(value);
    };
    const timer = setTimeout(
      () => settle({ error: `${host} did not answer within ${timeoutMs / 1000} s` }),
      timeoutMs,
    );
    client.on('error', (e: Error & { code?: string }) =>
      settle({ error: `Cannot reach ${host} port ${port} (${e.code ?? e.message})` }),
    );
    client.connect({
      host,
      port,
      username: 'prosody-active-users',
      readyTimeout: timeoutMs,
      algorithms: {
        serverHostKey: orderHostKeyAlgorithms(
          [...HOST_KEY_ALGORITHMS],
          knownHostKeyTypes(knownText, host, port),
        ),
      },
      hostVerifier: (blob: Buffer) => {
        settle({ blob: Buffer.from(blob) });
        return false; // nothing more: no authentication
      },
    });
  });
}

export async function trustHostKey(request: TrustRequest): Promise<TrustResult> {
  const { host, port, fingerprint, knownHostsPath } = request;
  if (!/^SHA256:[A-Za-z0-9+/]{43}$/.test(fingerprint)) {
    return { ok: false, message: `${JSON.stringify(fingerprint)} is not a SHA256 fingerprint` };
  }
  const read = () => (existsSync(knownHostsPath) ? readFileSync(knownHostsPath, 'utf8') : '');
  let knownText: string;
  try {
    knownText = read();
  } catch (e) {
    return { ok: false, message: `Cannot read ${knownHostsPath}: ${(e as Error).message}` };
  }
  const fetched = await fetchHostKey(host, port, knownText, (request.timeoutSeconds ?? 15) * 1000);
  if ('error' in fetched) return { ok: false, message: `${fetched.error}: nothing was trusted.` };
  const presented = sha256Fingerprint(fetched.blob);
  const keyType = keyTypeOfBlob(fetched.blob) ?? 'unknown';
  if (presented !== fingerprint) {
    return {
      ok: false,
      message: `${host} now offers the ${keyType} key ${presented}, not the ${fingerprint} you were shown: nothing was trusted. Press Test connection again and compare the new fingerprint with the server's.`,
    };
  }
  // Read again: the file may have changed while we connected.
  const check = checkHostKey(read(), host, port, { blob: fetched.blob });
  switch (check.status) {
    case 'match':
      return { ok: true, added: false, message: `${host}'s key ${presented} was already trusted.` };
    case 'revoked':
      return {
        ok: false,
        message: `${host}'s key ${presented} is marked @revoked in ${knownHostsPath}: it cannot be trusted from here.`,
      };
    case 'changed':
      return {
        ok: false,
        message: `${knownHostsPath} line ${check.line} holds another key for ${host}: a changed key is never replaced from here. If the server was reinstalled, check the new key with its operator, then remove the old line.`,
      };
    case 'unknown':
      break;
  }
  try {
    mkdirSync(dirname(knownHostsPath), { recursive: true, mode: 0o700 });
    const current = read();
    const separator = current === '' || current.endsWith('\n') ? '' : '\n';
    const line = knownHostsLine(host, port, { blob: fetched.blob });
    appendFileSync(knownHostsPath, `${separator}${line}\n`, { mode: 0o600 });
  } catch (e) {
    return { ok: false, message: `Cannot write ${knownHostsPath}: ${(e as Error).message}` };
  }
  return {
    ok: true,
    added: true,
    message: `Added ${host}'s ${keyType} key ${presented} to ${knownHostsPath}.`,
  };
}
