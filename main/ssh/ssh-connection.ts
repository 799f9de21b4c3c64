import { type Socket, connect as netConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import { type AuthenticationType, Client, type ConnectConfig, type SFTPWrapper } from 'ssh2';
import { type Failure, type Result, fail, ok } from '../core/failure.js';
import { sha256Fingerprint } from './host-key-fingerprint.js';
import { OrderedAgent } from './ordered-agent.js';
import {
  checkHostKey,
  keyTypeOfBlob,
  knownHostKeyTypes,
  knownHostsLine,
  orderHostKeyAlgorithms,
} from './known-hosts.js';

/** Where to connect, after ~/.ssh/config: what ssh-target.ts resolves. */
export interface ConnectTarget {
  alias: string;
  host: string;
  port: number;
  user: string;
  identityFiles: string[];
  /** Identity files the user named (--identity, IdentityFile): a bad one is an error, not skipped. */
  explicitIdentityFiles?: string[];
  /** ssh_config's IdentitiesOnly: of the agent's keys, offer only the identity files' copies. */
  identitiesOnly?: boolean;
  proxyJump?: ConnectTarget;
}

/** A private key ready for ssh2, or why it cannot be used. */
export type KeyLoad = Result<{ key: unknown; type: string; fingerprint: string }> | null;

export interface KnownHostsStore {
  /** The file's path, for messages. */
  path: string;
  /** The file's text ('' when it does not exist yet). */
  read(): string;
  /** Appends one line (accept-new). */
  append(line: string): void;
}

export interface SshConnectOptions {
  target: ConnectTarget;
  knownHosts: KnownHostsStore;
  acceptNewHostKey: boolean;
  /** ssh-agent's socket (SSH_AUTH_SOCK) or the Windows OpenSSH agent's named pipe. */
  agent?: string;
  /** Loads a key file; null when the file does not exist. */
  loadKey(path: string): Promise<KeyLoad>;
  /**
   * An identity file's public key blob (its .pub beside it), or null: to offer the agent's copy of
   * that key first, as OpenSSH does (ordered-agent.ts).
   */
  publicKeyOf?(path: string): Buffer | null;
  /** A password when the server allows it and one is available (env or prompt), else null. */
  password(target: ConnectTarget): Promise<string | null>;
  /** Connecting, key exchange and authentication together. */
  connectTimeoutSeconds?: number;
  /** Announces each step (connect, host key, authenticate …), for --verbose and the UI. */
  onStep?(step: string): void;
}

/** The defaults ssh2 offers, in its own order, reordered like OpenSSH for known key types. */
export const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
] as const;

/** Compression first: activity data compresses several-fold. */
const COMPRESSION = ['zlib@openssh.com', 'zlib', 'none'] as const;

type SshError = Error & { level?: string; code?: string };

function networkFailure(e: SshError, host: string, port: number): Failure {
  const detail =
    e.code === 'ECONNREFUSED'
      ? 'connection refused'
      : e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN'
        ? 'unknown host name'
        : e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH'
          ? 'no route to host'
          : e.code === 'ECONNRESET'
            ? 'connection reset'
            : (e.code ?? e.message);
  return { kind: 'network', host, port, detail };
}

/** One authenticated SSH connection (through one jump host when configured). */
export class SshConnection {
  private closed = false;
  /** Set once the transport is gone (a cut, or close()): nothing may be sent after that. */
  private gone = false;

  private constructor(
    private readonly client: Client,
    private readonly counter: { bytes: number },
    readonly host: string,
    private readonly jump: SshConnection | null,
    /** The channel through the jump host that carries this connection. */
    private readonly tunnel: Duplex | null,
  ) {
    client.once('close', () => (this.gone = true));
  }

  /**
   * False once the connection is closed or cut. ssh2 throws synchronously when asked to send on a
   * connection whose socket has closed (mscdex/ssh2#1178: "Invalid Zlib instance" with
   * compression), so callers check this before sending anything, a channel close included.
   */
  get isOpen(): boolean {
    return !this.gone && !this.closed;
  }

  /**
   * Runs `work`, which resolves through `settle`, unless the connection closes first: then `lost`.
   * The 'close' listener is removed when the work settles, so that many steps over one connection
   * do not pile listeners up; a synchronous throw from ssh2 counts as the connection lost.
   */
  private unlessClosed<T>(work: (settle: (value: T) => void) => void, lost: () => T): Promise<T> {
    return new Promise<T>((resolve) => {
      if (!this.isOpen) return resolve(lost());
      const onClose = () => resolve(lost());
      this.client.once('close', onClose);
      const settle = (value: T) => {
        this.client.off('close', onClose);
        resolve(value);
      };
      try {
        work(settle);
      } catch {
        settle(lost());
      }
    });
  }

  /** Bytes received from the network so far, SSH framing and all. */
  get bytesReceived(): number {
    return this.jump ? this.jump.bytesReceived : this.counter.bytes;
  }

  static async open(options: SshConnectOptions): Promise<Result<SshConnection>> {
    const { target } = options;
    let jump: SshConnection | null = null;
    let sock: Duplex;
    const counter = { bytes: 0 };
    const timeout = (options.connectTimeoutSeconds ?? 15) * 1000;
    if (target.proxyJump) {
      options.onStep?.(`connecting to the jump host ${target.proxyJump.alias}`);
      const opened = await SshConnection.open({ ...options, target: target.proxyJump });
      if (!opened.ok) return opened;
      jump = opened.value;
      const forwarded = await jump.forward(target.host, target.port, timeout);
      if (!forwarded.ok) {
        jump.close();
        return forwarded;
      }
      sock = forwarded.value;
    } else {
      options.onStep?.(`connecting to ${target.host} port ${target.port}`);
      const socket = await openSocket(target.host, target.port, timeout);
      if (!socket.ok) return socket;
      sock = socket.value;
      sock.on('data', (chunk: Buffer) => (counter.bytes += chunk.length));
    }
    const result = await handshake(options, sock, timeout);
    if (!result.ok) {
      jump?.close();
      sock.destroy();
      return result;
    }
    return ok(new SshConnection(result.value, counter, target.host, jump, jump ? sock : null));
  }

  private forward(host: string, port: number, timeoutMs: number): Promise<Result<Duplex>> {
    return withDeadline(
      this.unlessClosed<Result<Duplex>>(
        (resolve) => {
          this.client.forwardOut('127.0.0.1', 0, host, port, (err, stream) => {
            if (err)
              resolve(
                fail({ kind: 'network', host, port, detail: `via the jump host: ${err.message}` }),
              );
            else resolve(ok(stream));
          });
        },
        () => fail({ kind: 'connection-lost', host: this.host, step: `connecting to ${host}` }),
      ),
      timeoutMs,
      () =>
        fail({
          kind: 'timeout',
          host,
          step: 'connecting through the jump host',
          seconds: timeoutMs / 1000,
        }),
    );
  }

  /**
   * Runs one command and collects its output, up to maxBytes, within a deadline. The command line
   * is built by the caller from constants and checked values only.
   */
  async exec(
    command: string,
    step: string,
    deadlineSeconds: number,
    maxBytes: number,
  ): Promise<Result<{ stdout: Buffer; stderr: string; code: number | null }>> {
    const out: Buffer[] = [];
    const ran = await this.execStreaming(command, step, deadlineSeconds, maxBytes, (chunk) => {
      out.push(chunk);
    });
    return ran.ok ? ok({ ...ran.value, stdout: Buffer.concat(out) }) : ran;
  }

  /**
   * As exec, but hands stdout to `onData` as it arrives instead of holding it: an answer of
   * hundreds of megabytes need never be in memory at once. When `onData` returns false, the
   * channel is closed and the rest of the output ignored.
   */
  execStreaming(
    command: string,
    step: string,
    deadlineSeconds: number,
    maxBytes: number,
    onData: (chunk: Buffer) => boolean | void,
  ): Promise<Result<{ stderr: string; code: number | null }>> {
    const lost = () => fail({ kind: 'connection-lost', host: this.host, step });
    const work = this.unlessClosed<Result<{ stderr: string; code: number | null }>>((resolve) => {
      this.client.exec(command, (err, channel) => {
        if (err) return resolve(lost());
        let outBytes = 0;
        let tooMuch = false;
        let errText = '';
        let code: number | null = null;
        channel.on('data', (chunk: Buffer) => {
          if (tooMuch) return;
          outBytes += chunk.length;
          if (outBytes > maxBytes) {
            tooMuch = true;
            if (this.isOpen) channel.close();
            resolve(
              fail({
                kind: 'remote-protocol',
                host: this.host,
                detail: `more than ${maxBytes} bytes of output`,
              }),
            );
            return;
          }
          // false: the consumer has seen enough (it found garbage), so stop the command.
          if (onData(chunk) === false) {
            tooMuch = true;
            if (this.isOpen) channel.close();
          }
        });
        channel.stderr.on('data', (chunk: Buffer) => {
          if (errText.length < 4096) errText += chunk.toString('utf8');
        });
        channel.on('exit', (c: number | null) => (code = c));
        channel.on('close', () => resolve(ok({ stderr: errText, code })));
      });
    }, lost);
    return withDeadline(work, deadlineSeconds * 1000, () => {
      this.close();
      return fail({ kind: 'timeout', host: this.host, step, seconds: deadlineSeconds });
    });
  }

  /**
   * Runs one command with `input` on its stdin and hands its output over chunk by chunk, as it
   * comes (nothing is held here). `onData` returns an error message to stop at once: the channel
   * is closed and that becomes a remote-protocol failure; or a promise, to take nothing more until
   * it settles (ssh's window then holds the server back). The deadline is for silence: it restarts
   * with every chunk, so a long stream that keeps coming is not cut, and it does not run while the
   * caller holds the stream back.
   */
  execStream(
    command: string,
    input: string,
    step: string,
    idleSeconds: number,
    onData: (chunk: Buffer) => string | null | Promise<void>,
  ): Promise<Result<{ code: number | null; refused: boolean }>> {
    const lost = () => fail({ kind: 'connection-lost', host: this.host, step });
    let timer: NodeJS.Timeout | undefined;
    let expire: () => void = () => undefined;
    const work = this.unlessClosed<Result<{ code: number | null; refused: boolean }>>((resolve) => {
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(expire, idleSeconds * 1000);
      };
      expire = () => {
        this.close();
        resolve(fail({ kind: 'timeout', host: this.host, step, seconds: idleSeconds }));
      };
      arm();
      this.client.exec(command, (err, channel) => {
        // The server would not run it (no session or exec allowed): the caller's other way.
        if (err) return resolve(this.isOpen ? ok({ code: null, refused: true }) : lost());
        let code: number | null = null;
        let stopped = false;
        channel.on('data', (chunk: Buffer) => {
          if (stopped) return;
          arm();
          const said = onData(chunk);
          if (typeof said === 'string') {
            stopped = true;
            if (this.isOpen) channel.close();
            resolve(fail({ kind: 'remote-protocol', host: this.host, detail: said }));
          } else if (said !== null) {
            channel.pause();
            clearTimeout(timer);
            void said.then(() => {
              if (stopped) return;
              arm();
              channel.resume();
            });
          }
        });
        channel.stderr.on('data', () => arm());
        channel.on('exit', (c: number | null) => (code = c));
        channel.on('close', () => resolve(ok({ code, refused: false })));
        channel.end(input);
      });
    }, lost);
    return work.finally(() => clearTimeout(timer));
  }

  /**
   * Opens a channel to a Unix socket on the server (OpenSSH's direct-streamlocal), running no
   * command. Unlike exec and sftp, a timeout fails this step alone and leaves the connection open:
   * the live view is optional, the records still have to come over the same connection.
   */
  openUnixSocket(path: string, step: string, deadlineSeconds: number): Promise<Result<Duplex>> {
    let timedOut = false;
    const work = this.unlessClosed<Result<Duplex>>(
      (resolve) => {
        this.client.openssh_forwardOutStreamLocal(path, (err, stream) => {
          if (timedOut) {
            if (!err && this.isOpen) stream.destroy();
            return;
          }
          if (err) resolve(fail({ kind: 'remote-protocol', host: this.host, detail: err.message }));
          else resolve(ok(stream));
        });
      },
      () => fail({ kind: 'connection-lost', host: this.host, step }),
    );
    return withDeadline(work, deadlineSeconds * 1000, () => {
      timedOut = true;
      return fail({ kind: 'timeout', host: this.host, step, seconds: deadlineSeconds });
    });
  }

  /** Opens the SFTP subsystem. */
  sftp(deadlineSeconds: number): Promise<Result<SFTPWrapper>> {
    const step = 'opening SFTP';
    return withDeadline(
      this.unlessClosed<Result<SFTPWrapper>>(
        (resolve) => {
          this.client.sftp((err, sftp) => {
            if (err) {
              resolve(
                fail({
                  kind: 'remote-protocol',
                  host: this.host,
                  detail: `SFTP is not available: ${err.message}`,
                }),
              );
            } else resolve(ok(sftp));
          });
        },
        () => fail({ kind: 'connection-lost', host: this.host, step }),
      ),
      deadlineSeconds * 1000,
      () => {
        this.close();
        return fail({ kind: 'timeout', host: this.host, step, seconds: deadlineSeconds });
      },
    );
  }

  /**
   * A channel to a TCP port or a Unix socket as the server itself reaches it (what `ssh -L` does):
   * a database that listens only on the server's loopback or socket, with nothing installed there.
   * An Error says why the server would not open it (its sshd refused, or nothing listens there).
   */
  channelTo(
    endpoint: { tcp: { host: string; port: number } } | { socket: string },
    deadlineSeconds: number,
  ): Promise<Duplex | Error> {
    const lost = () => new Error('the SSH connection was lost');
    return withDeadline(
      this.unlessClosed<Duplex | Error>((resolve) => {
        const done = (err: Error | undefined, stream: Duplex) => resolve(err ? err : stream);
        if ('tcp' in endpoint) {
          this.client.forwardOut('127.0.0.1', 0, endpoint.tcp.host, endpoint.tcp.port, done);
        } else {
          this.client.openssh_forwardOutStreamLocal(endpoint.socket, done);
        }
      }, lost),
      deadlineSeconds * 1000,
      () => new Error(`no answer within ${deadlineSeconds} s`),
    );
  }

  /** Resolves when the connection closes (for callers that must notice a cut). */
  onClose(listener: () => void): void {
    this.client.once('close', listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.end();
    this.client.destroy();
    // Close the forwarded channel while the jump connection can still carry the close message:
    // ssh2 would otherwise send it later through the jump's already freed compressor.
    this.tunnel?.destroy();
    this.jump?.close();
  }
}

/** Races a promise against a timer; the timer's result wins when it fires first. */
export function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout()), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/**
 * ssh2 writes each packet on its own, and without Nagle each becomes a system call and a TCP
 * segment. Corked until the end of the tick, the packets one burst of work sends (thirty-two SFTP
 * requests answered in one read) leave in one writev, with no waiting added.
 */
function batchWritesPerTick(socket: Socket): void {
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  let corked = false;
  socket.write = ((...args: unknown[]) => {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(() => {
        corked = false;
        socket.uncork();
      });
    }
    return write(...args);
  }) as Socket['write'];
}

function openSocket(host: string, port: number, timeoutMs: number): Promise<Result<Socket>> {
  return new Promise((resolve) => {
    // No Nagle: SFTP sends many small requests and waits on each answer, and Nagle holding a
    // request back until the previous one is acknowledged (delayed ACK: 40 ms) made reading
    // internal storage twenty times slower. OpenSSH sets TCP_NODELAY too.
    const socket = netConnect({ host, port, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(fail({ kind: 'timeout', host, step: 'connecting', seconds: timeoutMs / 1000 }));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      batchWritesPerTick(socket);
      resolve(ok(socket));
    });
    socket.once('error', (e: SshError) => {
      clearTimeout(timer);
      resolve(fail(networkFailure(e, host, port)));
    });
  });
}

/** Key exchange, host key verification, then authentication in OpenSSH's order. */
function handshake(
  options: SshConnectOptions,
  sock: Duplex,
  timeoutMs: number,
): Promise<Result<Client>> {
  const { target, knownHosts } = options;
  const client = new Client();
  let failure: Failure | null = null;
  const tried: string[] = [];
  const knownText = knownHosts.read();

  const hostVerifier = (blob: Buffer): boolean => {
    options.onStep?.('checking the host key');
    const keyType = keyTypeOfBlob(blob) ?? 'unknown';
    const fingerprint = sha256Fingerprint(blob);
    const check = checkHostKey(knownText, target.host, target.port, { blob });
    const where = { host: target.host, port: target.port };
    switch (check.status) {
      case 'match':
        return true;
      case 'revoked':
        failure = { kind: 'host-key-revoked', ...where, fingerprint };
        return false;
      case 'changed':
        failure = {
          kind: 'host-key-changed',
          ...where,
          keyType,
          fingerprint,
          knownHostsFile: knownHosts.path,
          line: check.line,
        };
        return false;
      case 'unknown':
        if (!options.acceptNewHostKey) {
          failure = { kind: 'host-key-unknown', ...where, keyType, fingerprint };
          return false;
        }
        knownHosts.append(knownHostsLine(target.host, target.port, { blob }));
        options.onStep?.(
          `added ${target.host}'s ${keyType} key ${fingerprint} to ${knownHosts.path}`,
        );
        return true;
    }
  };

  type Auth =
    | { type: 'agent'; username: string; agent: OrderedAgent }
    | { type: 'publickey'; username: string; key: never }
    | { type: 'password'; username: string; password: string };
  type Attempt = () => Promise<Auth | 'skip' | 'stop'>;
  const attempts: Attempt[] = [];
  const username = target.user;
  const publicKeys = new Map<string, Buffer>();
  for (const path of target.identityFiles) {
    const blob = options.publicKeyOf?.(path) ?? null;
    if (blob !== null) publicKeys.set(path, blob);
  }
  let agent: OrderedAgent | null = null;
  if (options.agent) {
    agent = new OrderedAgent(
      options.agent,
      [...publicKeys.values()],
      target.identitiesOnly ?? false,
    );
    const offered = agent;
    attempts.push(async () => {
      tried.push('ssh-agent');
      return { type: 'agent' as const, username, agent: offered };
    });
  }
  for (const path of target.identityFiles) {
    attempts.push(async () => {
      // The agent already offered this very key (OpenSSH drops it from the files the same way).
      const blob = publicKeys.get(path);
      if (agent !== null && blob !== undefined && agent.holds(blob)) return 'skip';
      const loaded = await options.loadKey(path);
      if (loaded === null) return 'skip';
      if (!loaded.ok) {
        // A key the user named must work; a default one that does not is passed over, as ssh does.
        if (target.explicitIdentityFiles?.includes(path)) {
          failure = loaded.failure;
          return 'stop';
        }
        return 'skip';
      }
      tried.push(`key ${path}`);
      return { type: 'publickey' as const, username, key: loaded.value.key as never };
    });
  }
  attempts.push(async () => {
    const password = await options.password(target);
    if (password === null) return 'skip';
    tried.push('password');
    return { type: 'password' as const, username, password };
  });

  const methodOf = (a: Auth): string => (a.type === 'agent' ? 'publickey' : a.type);

  const authHandler = (
    methodsLeft: string[] | null,
    _partial: boolean | null,
    callback: (next: AuthenticationType | false) => void,
  ): void => {
    if (tried.length === 0 && attempts.length > 0) options.onStep?.('authenticating');
    const next = async (): Promise<Auth | false> => {
      while (attempts.length > 0) {
        const attempt = attempts.shift()!;
        const result = await attempt();
        if (result === 'stop') return false;
        if (result === 'skip') continue;
        if (methodsLeft && !methodsLeft.includes(methodOf(result))) {
          tried.pop();
          continue;
        }
        return result;
      }
      return false;
    };
    void next().then((auth) => callback(auth as AuthenticationType | false));
  };

  const knownTypes = knownHostKeyTypes(knownText, target.host, target.port);
  const config: ConnectConfig = {
    sock: sock as ConnectConfig['sock'],
    username,
    readyTimeout: timeoutMs,
    keepaliveInterval: 10_000,
    keepaliveCountMax: 3,
    hostVerifier,
    authHandler: authHandler as ConnectConfig['authHandler'],
    algorithms: {
      serverHostKey: orderHostKeyAlgorithms([...HOST_KEY_ALGORITHMS], knownTypes),
      compress: [...COMPRESSION],
    },
  };

  return new Promise((resolve) => {
    client.once('ready', () => {
      client.removeAllListeners('error');
      // Later errors (a cut, keepalive timeouts) surface as 'close' on the pending step.
      client.on('error', () => undefined);
      resolve(ok(client));
    });
    let failed = false;
    // Not once: destroying a client mid-handshake (after a timeout) makes it emit a second error,
    // "Connection lost before handshake", which would otherwise end the process.
    client.on('error', (e: SshError) => {
      if (failed) return;
      failed = true;
      client.destroy();
      if (failure) return resolve(fail(failure));
      if (e.level === 'client-authentication') {
        return resolve(fail({ kind: 'auth', host: target.host, user: username, tried }));
      }
      // sshd's MaxAuthTries: it disconnects ("Too many authentication failures") instead of
      // refusing the next key, typically after a crowded ssh-agent offered all its keys.
      if (/too many authentication failures/i.test(e.message)) {
        return resolve(
          fail({ kind: 'auth', host: target.host, user: username, tried, tooManyKeys: true }),
        );
      }
      if (e.level === 'client-timeout') {
        return resolve(
          fail({
            kind: 'timeout',
            host: target.host,
            step: 'logging in',
            seconds: timeoutMs / 1000,
          }),
        );
      }
      if (e.level === 'client-socket') {
        return resolve(fail(networkFailure(e, target.host, target.port)));
      }
      resolve(fail({ kind: 'remote-protocol', host: target.host, detail: e.message }));
    });
    client.connect(config);
  });
}
