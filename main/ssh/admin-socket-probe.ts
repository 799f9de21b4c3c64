import { posix } from 'node:path';
import type { Duplex } from 'node:stream';
import {
  LIVE_QUERY,
  ReplScanner,
  adminShellRequest,
  parseLiveAnswer,
  printableDetail,
} from '../core/admin-shell-answer.js';
import type { LiveProbe, LiveSnapshot } from '../core/live-snapshot.js';
import { DEFAULT_DATA_PATH } from '../sources/discover-sources.js';
import { parseProsodyConfig } from '../sources/prosody-config-parser.js';
import type { StorageFs } from '../sources/storage-fs.js';
import type { SshConnection } from './ssh-connection.js';

export interface AdminSocketProbeOptions {
  /** Where the admin socket may be, tried in order (found when asked: it may read the config). */
  paths(): Promise<readonly string[]>;
  /** For opening the channel and for the whole answer, each. */
  deadlineSeconds: number;
  /** The most the answer may hold (a name is at most 3 KB of hex; 32 MB is ~100 000 online). */
  maxBytes: number;
  onStep?(step: string): void;
}

/** A file of the server's that says where the admin socket is, read over SFTP. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * Where Prosody's admin socket is: `admin_socket` from the config (relative to data_path, as
 * Prosody's get_option_path takes it), else `prosody.sock` in data_path; then the Debian default.
 * Only a plain string literal in the global section is understood; anything else falls back.
 */
export async function adminSocketPaths(
  fs: StorageFs | null,
  configPath: string,
  dataDir: string | undefined,
): Promise<string[]> {
  let dataPath = dataDir ?? DEFAULT_DATA_PATH;
  let configured: string | undefined;
  if (fs !== null) {
    try {
      const file = await fs.readCapped(configPath, MAX_CONFIG_BYTES);
      if (file && 'text' in file) {
        const facts = parseProsodyConfig(file.text);
        if (dataDir === undefined && facts.dataPath !== undefined)
          dataPath = posix.resolve(posix.dirname(configPath), facts.dataPath);
        const beforeHosts = file.text.split(/^\s*(?:VirtualHost|Component)\b/m)[0] ?? '';
        configured = /^[ \t]*admin_socket[ \t]*=[ \t]*"([^"\\\n]+)"[ \t]*;?[ \t]*(?:--.*)?$/m.exec(
          beforeHosts,
        )?.[1];
      }
    } catch {
      // The config is not ours to read: the defaults are tried.
    }
  }
  const paths = [
    configured === undefined
      ? posix.join(dataPath, 'prosody.sock')
      : posix.resolve(dataPath, configured),
    posix.join(DEFAULT_DATA_PATH, 'prosody.sock'),
  ];
  return [...new Set(paths)];
}

function exchange(
  channel: Duplex,
  options: AdminSocketProbeOptions,
): Promise<{ ok: true; error: boolean; text: string } | { ok: false; detail: string }> {
  return new Promise((resolve) => {
    const scanner = new ReplScanner();
    let bytes = 0;
    const decoder = new TextDecoder('utf-8', { fatal: false });
    const finish = (
      r: { ok: true; error: boolean; text: string } | { ok: false; detail: string },
    ) => {
      clearTimeout(timer);
      channel.removeAllListeners('data');
      channel.on('error', () => undefined);
      channel.destroy();
      resolve(r);
    };
    const timer = setTimeout(
      () => finish({ ok: false, detail: `no answer within ${options.deadlineSeconds} s` }),
      options.deadlineSeconds * 1000,
    );
    channel.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > options.maxBytes) {
        finish({ ok: false, detail: `more than ${options.maxBytes} bytes in the answer` });
        return;
      }
      const frame = scanner.push(decoder.decode(chunk, { stream: true }));
      if (frame.state === 'result') finish({ ok: true, error: frame.error, text: frame.text });
      else if (frame.state === 'closed') finish({ ok: false, detail: frame.detail });
    });
    channel.on('error', (e: Error) => finish({ ok: false, detail: e.message }));
    channel.on('close', () => finish({ ok: false, detail: 'the socket closed before answering' }));
    channel.write(adminShellRequest(LIVE_QUERY));
  });
}

/**
 * Prosody's admin socket, reached through the SSH connection's streamlocal forwarding: no command
 * runs on the server and nothing is installed there. Whoever may open that socket is a Prosody
 * administrator, so it works only where the SSH account was given that access.
 */
export function adminSocketProbe(conn: SshConnection, options: AdminSocketProbeOptions): LiveProbe {
  return {
    async probe(): Promise<LiveSnapshot> {
      const reasons: string[] = [];
      let refused = true;
      for (const path of await options.paths()) {
        options.onStep?.(`asking Prosody's admin socket ${path}`);
        const opened = await conn.openUnixSocket(
          path,
          `opening the admin socket ${path}`,
          options.deadlineSeconds,
        );
        if (!opened.ok) {
          const f = opened.failure;
          if (f.kind === 'remote-protocol' && /prohibited/i.test(f.detail)) {
            return {
              known: false,
              accessRefused: true,
              reason: `the SSH server or this key's options forbid forwarding to a socket (${printableDetail(f.detail)})`,
            };
          }
          if (f.kind === 'timeout' || f.kind === 'connection-lost') refused = false;
          reasons.push(
            `${path}: ${f.kind === 'remote-protocol' ? printableDetail(f.detail) : f.kind}`,
          );
          continue;
        }
        const answer = await exchange(opened.value, options);
        if (!answer.ok) {
          return {
            known: false,
            accessRefused: false,
            reason: `Prosody's admin socket ${path} did not answer as expected (${printableDetail(answer.detail)})`,
          };
        }
        const text = answer.text.replace(/^Result: /, '');
        if (answer.error) {
          return {
            known: false,
            accessRefused: false,
            reason: `Prosody's admin shell refused the question (${printableDetail(answer.text)}); is mod_admin_shell loaded?`,
          };
        }
        const parsed = parseLiveAnswer(text);
        if (!parsed.ok) {
          return {
            known: false,
            accessRefused: false,
            reason: `Prosody's admin socket ${path} answered something unexpected (${parsed.detail})`,
          };
        }
        return { known: true, via: `admin socket ${path}`, hosts: parsed.hosts };
      }
      return {
        known: false,
        accessRefused: refused,
        // OpenSSH answers "open failed" alike for a missing socket, one this account may not
        // open, and forwarding forbidden to the key or by sshd_config: all three are named.
        reason: `Prosody's admin socket could not be opened (${reasons.join('; ')}): it is missing, this account may not connect to it, or this key or sshd forbids forwarding to sockets (restrict or no-port-forwarding in authorized_keys, AllowStreamLocalForwarding in sshd_config)`,
      };
    },
  };
}
