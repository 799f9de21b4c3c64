/**
 * An in-process SSH server on loopback for the faults a real sshd cannot be made to produce: a
 * stall during key exchange or authentication, a command that never answers, a connection cut in
 * the middle of a transfer, garbage on the wire. It is ssh2's own `Server` behind a plain TCP
 * listener of ours, so that a test can cut the TCP connection itself, as a network would.
 *
 * It accepts one user with one public key (both made here, with a host key; the client's
 * known_hosts file holds that host key). What a command prints and what the SFTP subsystem serves
 * are up to the test: see FaultServerOptions.
 *
 * Facts about ssh2 1.17's server side this relies on (README "Server", SFTP.md "Server-only"):
 * - Server#injectSocket(socket) runs the SSH protocol on a socket we accepted ourselves; the
 *   'connection' event comes after the client's identification line, with the client's port.
 * - The SFTP subsystem in server mode emits OPEN, FSTAT, STAT, LSTAT, READ, CLOSE … with a request
 *   id; each is answered with handle(), attrs(), data() or status() (EOF when reading past the end).
 * - An unanswered request is simply left pending: that is how a stall is made.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type Server as NetServer, type Socket, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AuthContext,
  type Connection,
  type ParsedKey,
  type SFTPWrapper,
  Server,
  type ServerChannel,
  utils,
} from 'ssh2';

/** SFTP status codes (draft-ietf-secsh-filexfer-02, section 7). */
const STATUS = { OK: 0, EOF: 1, NO_SUCH_FILE: 2, PERMISSION_DENIED: 3, FAILURE: 4 } as const;

export type LoginFault =
  /** A normal login. */
  | 'none'
  /** Sends its identification line, then nothing: the key exchange never starts. */
  | 'stall-key-exchange'
  /** Sends its identification line, then random bytes, then resets the connection. */
  | 'garbage-key-exchange'
  /** Completes the key exchange, then never answers the authentication request. */
  | 'stall-auth';

export interface ExecContext {
  command: string;
  channel: ServerChannel;
  /** Destroys the TCP connection at once, as a network cut would. */
  cut(): void;
}

/** What the server's SFTP subsystem does with a request: answer it, leave it unanswered, or cut. */
export type RequestAction = 'answer' | 'stall' | 'cut';

export type SftpRequestType =
  'STAT' | 'LSTAT' | 'OPEN' | 'FSTAT' | 'READ' | 'CLOSE' | 'OPENDIR' | 'READDIR';

export interface SftpBehaviour {
  /**
   * The files it serves, read-only, by absolute path; the folders above them exist too, and
   * anything else is "no such file".
   */
  files: Map<string, Buffer>;
  /**
   * STAT, LSTAT and FSTAT results for a file (n counts every such request on the server, from 1).
   * By default: the content's size and a fixed modification time.
   */
  attrs?(path: string, n: number): { size: number; mtime: number };
  /** Decides the fate of the n-th request of a type (n from 1); by default all are answered. */
  onRequest?(type: SftpRequestType, n: number): RequestAction;
}

export interface FaultServerOptions {
  login?: LoginFault;
  /** Answers a command; without it, commands are refused. */
  exec?(ctx: ExecContext): void;
  /** Without it, the SFTP subsystem is refused. */
  sftp?: SftpBehaviour;
}

export interface FaultServerStats {
  connections: number;
  commands: string[];
  /** SFTP requests received, by type. */
  requests: Record<SftpRequestType, number>;
}

export interface FaultServer {
  host: '127.0.0.1';
  port: number;
  user: string;
  /** The client's private key (OpenSSH format, no passphrase). */
  identityPath: string;
  /** A known_hosts file holding this server's host key. */
  knownHostsPath: string;
  stats: FaultServerStats;
  /** Errors the server side saw (for diagnostics; a cut makes some). */
  serverErrors: string[];
  /** Resolves true once no client connection is open any more, false after `ms`. */
  waitForNoConnections(ms: number): Promise<boolean>;
  /** Closes every connection and the listener, and removes the key files. */
  close(): Promise<void>;
}

const FILE_MTIME = 1_795_000_000;

/** Key folders still on disk: removed when the process exits, even if close() was never called. */
const leftovers = new Set<string>();
function removeAtExit(dir: string): void {
  if (leftovers.size === 0) {
    process.once('exit', () => {
      for (const d of leftovers) rmSync(d, { recursive: true, force: true });
    });
  }
  leftovers.add(dir);
}

/** Starts a fault server on a free loopback port. */
export async function startFaultServer(options: FaultServerOptions = {}): Promise<FaultServer> {
  const dir = mkdtempSync(join(tmpdir(), 'pau-fault-server-'));
  removeAtExit(dir);
  const hostKey = usableKeyPair();
  const clientKey = usableKeyPair();
  const identityPath = join(dir, 'id_ed25519');
  writeFileSync(identityPath, clientKey.private, { mode: 0o600 });
  const allowed = clientKey.parsedPublic;
  const hostPublic = hostKey.parsedPublic;

  const user = 'prosody-reader';
  const stats: FaultServerStats = {
    connections: 0,
    commands: [],
    requests: { STAT: 0, LSTAT: 0, OPEN: 0, FSTAT: 0, READ: 0, CLOSE: 0, OPENDIR: 0, READDIR: 0 },
  };
  const serverErrors: string[] = [];
  const sockets = new Map<number, Socket>();
  const login = options.login ?? 'none';

  const ssh = new Server({ hostKeys: [hostKey.private] }, (client: Connection, info) => {
    const socket = sockets.get(info.port);
    const cut = () => socket?.destroy();
    client.on('error', (e: Error) => serverErrors.push(e.message));
    client.on('authentication', (ctx: AuthContext) => {
      if (login === 'stall-auth') return; // never answered
      if (ctx.method !== 'publickey' || ctx.username !== user) return ctx.reject(['publickey']);
      const sameKey = ctx.key.algo === allowed.type && ctx.key.data.equals(allowed.getPublicSSH());
      if (!sameKey) return ctx.reject(['publickey']);
      if (ctx.signature && allowed.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) !== true) {
        return ctx.reject(['publickey']);
      }
      ctx.accept();
    });
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('exec', (accept, reject, { command }) => {
          stats.commands.push(command);
          if (!options.exec) return reject();
          options.exec({ command, channel: accept(), cut });
        });
        session.on('sftp', (accept, reject) => {
          if (!options.sftp) return reject();
          serveSftp(accept(), options.sftp, stats, cut);
        });
      });
    });
  });

  const tcp: NetServer = createServer((socket) => {
    stats.connections++;
    const port = socket.remotePort ?? 0;
    sockets.set(port, socket);
    socket.on('error', (e) => serverErrors.push(e.message));
    socket.once('close', () => sockets.delete(port));
    if (login === 'stall-key-exchange') {
      socket.write('SSH-2.0-OpenSSH_9.2p1 fault-server\r\n');
      socket.resume(); // reads the client's KEXINIT, answers nothing
    } else if (login === 'garbage-key-exchange') {
      socket.write('SSH-2.0-OpenSSH_9.2p1 fault-server\r\n');
      socket.write(Buffer.alloc(4096, 0xff)); // a packet length no SSH peer may send
      setTimeout(() => socket.resetAndDestroy(), 100);
    } else {
      ssh.injectSocket(socket);
    }
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(0, '127.0.0.1', () => resolve());
  });
  const address = tcp.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const knownHostsPath = join(dir, 'known_hosts');
  writeFileSync(
    knownHostsPath,
    `[127.0.0.1]:${port} ${hostPublic.type} ${hostPublic.getPublicSSH().toString('base64')}\n`,
  );

  return {
    host: '127.0.0.1',
    port,
    user,
    identityPath,
    knownHostsPath,
    stats,
    serverErrors,
    async waitForNoConnections(ms) {
      const deadline = Date.now() + ms;
      while (sockets.size > 0) {
        if (Date.now() > deadline) return false;
        await new Promise((r) => setTimeout(r, 20));
      }
      return true;
    },
    async close() {
      for (const socket of sockets.values()) socket.destroy();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
      leftovers.delete(dir);
    },
  };
}

/**
 * An ed25519 pair that ssh2 itself can read back: about 1 in 256 of the pairs generateKeyPairSync
 * makes has a public key with a leading zero byte stripped, which parseKey then refuses
 * (mscdex/ssh2#1390), so such a pair is thrown away and another made.
 */
function usableKeyPair(): { private: string; parsedPublic: ParsedKey } {
  for (;;) {
    const pair = utils.generateKeyPairSync('ed25519');
    const parsedPublic = utils.parseKey(pair.public);
    if (!(parsedPublic instanceof Error) && !(utils.parseKey(pair.private) instanceof Error)) {
      return { private: pair.private, parsedPublic };
    }
  }
}

/** Just enough of a read-only SFTP server for stat, open, read, close and directory listings. */
function serveSftp(
  sftp: SFTPWrapper,
  behaviour: SftpBehaviour,
  stats: FaultServerStats,
  cut: () => void,
): void {
  const { files } = behaviour;
  /** Open handles: a file's path, or a folder's path and whether it was listed already. */
  const handles = new Map<number, { path: string; dir: boolean; listed: boolean }>();
  let nextHandle = 0;
  let statCount = 0;
  const isDir = (path: string) => [...files.keys()].some((f) => f.startsWith(`${path}/`));
  const attrsOf = (path: string) => {
    statCount++;
    const content = files.get(path);
    if (content === undefined) {
      return isDir(path)
        ? { mode: 0o040755, uid: 0, gid: 0, size: 4096, atime: FILE_MTIME, mtime: FILE_MTIME }
        : null;
    }
    const { size, mtime } = behaviour.attrs?.(path, statCount) ?? {
      size: content.length,
      mtime: FILE_MTIME,
    };
    return { mode: 0o100644, uid: 0, gid: 0, size, atime: mtime, mtime };
  };
  const handleOf = (handle: Buffer) =>
    handle.length === 4 ? handles.get(handle.readUInt32BE(0)) : undefined;
  const newHandle = (path: string, dir: boolean) => {
    const handle = Buffer.alloc(4);
    handle.writeUInt32BE(nextHandle, 0);
    handles.set(nextHandle++, { path, dir, listed: false });
    return handle;
  };

  /** Counts the request and applies the test's fault; true when it is to be answered. */
  const answers = (type: SftpRequestType): boolean => {
    const n = ++stats.requests[type];
    const action = behaviour.onRequest?.(type, n) ?? 'answer';
    if (action === 'cut') cut();
    return action === 'answer';
  };

  const onStat = (type: 'STAT' | 'LSTAT') => (reqid: number, path: string) => {
    if (!answers(type)) return;
    const attrs = attrsOf(path);
    if (attrs) sftp.attrs(reqid, attrs);
    else sftp.status(reqid, STATUS.NO_SUCH_FILE);
  };
  sftp.on('STAT', onStat('STAT'));
  sftp.on('LSTAT', onStat('LSTAT'));
  sftp.on('OPEN', (reqid, filename) => {
    if (!answers('OPEN')) return;
    if (!files.has(filename)) return sftp.status(reqid, STATUS.NO_SUCH_FILE);
    sftp.handle(reqid, newHandle(filename, false));
  });
  sftp.on('FSTAT', (reqid, handle) => {
    if (!answers('FSTAT')) return;
    const open = handleOf(handle);
    const attrs = open === undefined ? null : attrsOf(open.path);
    if (attrs) sftp.attrs(reqid, attrs);
    else sftp.status(reqid, STATUS.FAILURE);
  });
  sftp.on('READ', (reqid, handle, offset, length) => {
    if (!answers('READ')) return;
    const open = handleOf(handle);
    const content = open === undefined ? undefined : files.get(open.path);
    if (content === undefined) return sftp.status(reqid, STATUS.FAILURE);
    if (offset >= content.length) return sftp.status(reqid, STATUS.EOF);
    sftp.data(reqid, content.subarray(offset, Math.min(offset + length, content.length)));
  });
  sftp.on('OPENDIR', (reqid, path) => {
    if (!answers('OPENDIR')) return;
    if (!isDir(path)) return sftp.status(reqid, STATUS.NO_SUCH_FILE);
    sftp.handle(reqid, newHandle(path, true));
  });
  sftp.on('READDIR', (reqid, handle) => {
    if (!answers('READDIR')) return;
    const open = handleOf(handle);
    if (open === undefined || !open.dir) return sftp.status(reqid, STATUS.FAILURE);
    if (open.listed) return sftp.status(reqid, STATUS.EOF);
    open.listed = true;
    const names = new Set<string>();
    for (const f of files.keys()) {
      if (f.startsWith(`${open.path}/`)) names.add(f.slice(open.path.length + 1).split('/')[0]!);
    }
    sftp.name(
      reqid,
      [...names].map((filename) => {
        const attrs = attrsOf(`${open.path}/${filename}`)!;
        return { filename, longname: filename, attrs };
      }),
    );
  });
  sftp.on('CLOSE', (reqid, handle) => {
    if (!answers('CLOSE')) return;
    if (handle.length === 4) handles.delete(handle.readUInt32BE(0));
    sftp.status(reqid, STATUS.OK);
  });
  for (const unsupported of ['REALPATH', 'WRITE', 'REMOVE'] as const) {
    sftp.on(unsupported, (reqid: number) => sftp.status(reqid, STATUS.PERMISSION_DENIED));
  }
}
