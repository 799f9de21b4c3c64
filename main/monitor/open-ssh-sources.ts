import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type Result, fail, ok } from '../core/failure.js';
import {
  SpecialFileError,
  readRegularFileSync,
  specialFileFailure,
} from '../config/regular-file.js';
import { adminSocketPaths, adminSocketProbe } from '../ssh/admin-socket-probe.js';
import { publicKeyBlob } from '../ssh/agent-key-order.js';
import { isEncryptedKey, loadPrivateKey } from '../ssh/private-keys.js';
import { sftpStorageFs } from '../ssh/sftp-storage-fs.js';
import { isSafeRemotePath } from '../ssh/remote-query-command.js';
import { remoteSources } from '../ssh/remote-sources.js';
import { type KeyLoad, type KnownHostsStore, SshConnection } from '../ssh/ssh-connection.js';
import { resolveSshTarget } from '../ssh/ssh-target.js';
import { type SqliteAccountCache, openAccountCache } from '../store/account-cache-db.js';
import {
  DB_PASSWORD_ENV,
  PASSPHRASE_ENV,
  PASSWORD_ENV,
  type SshOptions,
} from '../ssh/ssh-options.js';
import type { OpenedSources } from './open-sources.js';

export interface SshEnvironment {
  home: string;
  localUser: string;
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  /** The database password for `sql`, when the environment variable does not give it (the app). */
  dbPassword?: () => Promise<string | null>;
  /** Asks for a secret; null when nobody can be asked. */
  prompt(question: string): Promise<string | null>;
}

/** The largest SQLite file the SFTP copy fetches by default. */
const MAX_COPY_BYTES = 8 * 1024 ** 3;
/** About 100 bytes of JSON per account: room for ten million accounts. */
const MAX_QUERY_BYTES = 1024 ** 3;
/** The live answer: ~60 bytes per online account, room for half a million. */
const MAX_LIVE_BYTES = 32 * 1024 ** 2;
/** Each live step (opening the socket, the answer): short, the records do not wait long for it. */
const LIVE_STEP_SECONDS = 10;

function knownHostsStore(path: string): KnownHostsStore {
  return {
    path,
    read: () => (existsSync(path) ? readRegularFileSync(path).toString('utf8') : ''),
    append(line) {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      const current = existsSync(path) ? readFileSync(path, 'utf8') : '';
      const sep = current === '' || current.endsWith('\n') ? '' : '\n';
      appendFileSync(path, `${sep}${line}\n`, { mode: 0o600 });
    },
  };
}

/** The account cache, or none when it cannot be opened (counting goes on without it). */
function openCache(
  file: string | undefined,
  onStep: (step: string) => void,
): SqliteAccountCache | null {
  if (file === undefined) return null;
  try {
    return openAccountCache(file);
  } catch (e) {
    onStep(`the cache ${file} cannot be used (${e instanceof Error ? e.message : String(e)})`);
    return null;
  }
}

/** The agent OpenSSH users have: SSH_AUTH_SOCK, or on Windows the OpenSSH agent's named pipe. */
function agentSocket(env: SshEnvironment): string | undefined {
  if (env.env.SSH_AUTH_SOCK) return env.env.SSH_AUTH_SOCK;
  return env.platform === 'win32' ? '\\\\.\\pipe\\openssh-ssh-agent' : undefined;
}

/** Connects as the options say and lists the sources to read over that connection. */
export async function openSshSources(
  options: SshOptions,
  onStep: (step: string) => void,
  onProgress: (text: string) => void,
  env: SshEnvironment,
): Promise<Result<OpenedSources>> {
  // A path the remote query cannot take is a usage error: say so before connecting, so that
  // nobody is asked for a passphrase or password and nothing reaches the server.
  if (
    options.remoteDb !== undefined &&
    options.method !== 'copy' &&
    !isSafeRemotePath(options.remoteDb)
  ) {
    return fail({
      kind: 'usage',
      message: `the remote database path ${JSON.stringify(options.remoteDb)} must be absolute and use only letters, digits and ._/+@,=-`,
    });
  }
  const configPath = options.sshConfig ?? join(env.home, '.ssh', 'config');
  let configText: string | null = null;
  if (existsSync(configPath)) {
    const special = specialFileFailure(configPath, 'SSH config');
    if (special) return fail(special);
    configText = readRegularFileSync(configPath).toString('utf8');
  } else if (options.sshConfig !== undefined) {
    return fail({ kind: 'ssh-config', path: configPath, detail: 'no such file' });
  }
  const resolved = resolveSshTarget(options.target, {
    configText,
    configPath,
    localUser: env.localUser,
    home: env.home,
    identityOverride: options.identity,
  });
  if (!resolved.ok) return resolved;
  const target = resolved.value;
  const explicit = options.identity === undefined ? [] : [target.identityFiles[0]!];

  const loadKey = async (path: string): Promise<KeyLoad> => {
    if (!existsSync(path)) {
      return explicit.includes(path)
        ? fail({ kind: 'not-found', path, what: 'private key' })
        : null;
    }
    let data: Buffer;
    try {
      data = readRegularFileSync(path);
    } catch (e) {
      if (e instanceof SpecialFileError) return fail(e.failure('private key'));
      throw e;
    }
    let passphrase = env.env[PASSPHRASE_ENV];
    if (passphrase === undefined && isEncryptedKey(data)) {
      passphrase = (await env.prompt(`Passphrase for ${path}: `)) ?? undefined;
    }
    const loaded = loadPrivateKey(path, data, passphrase, PASSPHRASE_ENV);
    if (!loaded.ok) return loaded;
    return ok({
      key: loaded.value.key,
      type: loaded.value.type,
      fingerprint: loaded.value.fingerprint,
    });
  };

  // A FIFO or device in place of a file would block the read: refused before connecting.
  for (const [path, what] of [
    [options.knownHosts ?? join(env.home, '.ssh', 'known_hosts'), 'known_hosts file'],
    ...explicit.map((p) => [p, 'private key']),
  ] as const) {
    const special = specialFileFailure(path, what);
    if (special) return fail(special);
  }
  const knownHosts = knownHostsStore(options.knownHosts ?? join(env.home, '.ssh', 'known_hosts'));
  const opened = await SshConnection.open({
    target: { ...target, explicitIdentityFiles: explicit },
    knownHosts,
    acceptNewHostKey: options.acceptNewHostKey,
    agent: agentSocket(env),
    loadKey,
    publicKeyOf: (path) => {
      const pub = `${path}.pub`;
      return existsSync(pub) ? publicKeyBlob(readFileSync(pub, 'utf8')) : null;
    },
    password: async (t) =>
      env.env[PASSWORD_ENV] ?? (await env.prompt(`${t.user}@${t.host}'s password: `)),
    connectTimeoutSeconds: options.connectTimeout,
    onStep,
  });
  if (!opened.ok) return opened;
  const conn = opened.value;
  onStep(`logged in to ${conn.host}`);
  const cache = openCache(options.cacheFile, onStep);
  const dbPassword =
    options.sql === undefined
      ? null
      : (env.env[DB_PASSWORD_ENV] ?? (await env.dbPassword?.()) ?? null);
  const where = `${target.user}@${target.host}:${target.port}`;
  let lastShown = 0;
  const found = await remoteSources(conn, {
    remoteDb: options.remoteDb,
    remoteDataDir: options.remoteDataDir,
    remoteConfig: options.remoteConfig,
    sql:
      options.sql === undefined
        ? undefined
        : { ...options.sql, ...(dbPassword === null ? {} : { password: dbPassword }) },
    method: options.method,
    stepSeconds: options.stepTimeout,
    maxCopyBytes: MAX_COPY_BYTES,
    maxQueryBytes: MAX_QUERY_BYTES,
    onStep,
    cache:
      cache === null
        ? undefined
        : { store: cache, where, clock: () => Math.floor(Date.now() / 1000) },
    onProgress: (received, total) => {
      // Progress on long copies: every 5 % is plenty.
      const percent = Math.floor((received / Math.max(total, 1)) * 100);
      if (percent >= lastShown + 5 || received === total) {
        lastShown = percent;
        onProgress(`copied ${received} of ${total} bytes (${percent} %)`);
      }
    },
  });
  const close = () => {
    conn.close();
    cache?.close();
  };
  if (!found.ok) {
    close();
    return found;
  }
  const live =
    options.live === false
      ? undefined
      : adminSocketProbe(conn, {
          paths: async () => {
            if (options.adminSocket !== undefined) return [options.adminSocket];
            // A forced-command account has no SFTP: the defaults are tried.
            const sftp =
              options.remoteDb === undefined ? await conn.sftp(options.stepTimeout) : null;
            const fs = sftp?.ok
              ? sftpStorageFs(
                  sftp.value,
                  conn.host,
                  Math.min(LIVE_STEP_SECONDS, options.stepTimeout),
                )
              : null;
            return adminSocketPaths(fs, options.remoteConfig, options.remoteDataDir);
          },
          deadlineSeconds: Math.min(LIVE_STEP_SECONDS, options.stepTimeout),
          maxBytes: MAX_LIVE_BYTES,
          onStep,
        });
  return ok({ sources: found.value, live, close });
}
