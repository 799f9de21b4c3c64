/**
 * A real OpenSSH sshd on a loopback port for adapter tests, with a config, host keys and throwaway
 * Unix users of its own. Needs root (it runs sshd and useradd); everything it makes is removed by
 * stop(), by stopAllSshd(), or at the latest when the test process exits.
 *
 * Facts about Debian's sshd (OpenSSH 9.2) this relies on, seen here:
 * - `-D -e -f CONFIG` runs it in the foreground, logging to stderr; it only reads CONFIG (no
 *   sshd_config.d), needs /run/sshd, and says "Server listening on 127.0.0.1 port N." when ready.
 * - With `UsePAM no`, an account whose shadow password starts with `!` (useradd's default) is
 *   refused outright ("account is locked"), keys included; `*` allows key logins only.
 * - A session's PATH is sshd's built-in `/usr/local/bin:/usr/bin:/bin:/usr/games`; with
 *   `PermitUserEnvironment PATH`, a `PATH=` line in ~/.ssh/environment replaces it. On merged-/usr
 *   Debian /bin is /usr/bin, so "no sqlite3" needs a directory of links to everything else.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export type KeyType = 'ed25519' | 'ecdsa' | 'rsa';

export interface HostKey {
  /** The key type as in the .pub file and the blob: `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`. */
  type: string;
  /** The SSH wire-format public key, as ssh2's hostVerifier receives it. */
  blob: Buffer;
  /** The .pub file's line: `type base64 comment`. */
  publicLine: string;
}

export interface GeneratedKey {
  privatePath: string;
  privateKey: Buffer;
  publicLine: string;
  /** The first two fields of publicLine, ready for an authorized_keys line. */
  authorizedKey: string;
  blob: Buffer;
  type: string;
}

export interface AddUserOptions {
  /** Set with chpasswd; without one the account takes keys only. */
  password?: string;
  /** authorized_keys lines, options such as `command="…",restrict` included. */
  authorizedKeys?: string[];
  /** Existing groups to add the user to (see SshdInstance.addGroup). */
  groups?: string[];
  /** Sessions get a PATH holding every usual command except sqlite3. */
  pathWithoutSqlite?: boolean;
  /** Sessions get exactly this PATH (wins over pathWithoutSqlite). */
  path?: string;
}

export interface TestUser {
  /** The Unix name: the name asked for plus a random suffix, so parallel test files never clash. */
  name: string;
  uid: number;
  gid: number;
  home: string;
  password: string | undefined;
  setAuthorizedKeys(lines: string[]): void;
  /** Writes a file under the user's home (directories made as needed), owned by the user. */
  writeFile(relativePath: string, content: string | Buffer, mode?: number): string;
}

export interface StartSshdOptions {
  /** `PasswordAuthentication`; default true. */
  passwordAuth?: boolean;
  /** Appended to the config (so `Match` blocks work). */
  extraConfig?: string;
  /** Host keys to make; default ed25519, ecdsa and rsa. */
  hostKeyTypes?: KeyType[];
  /** Where sshd listens; default 127.0.0.1 (the benchmark's host in a network namespace). */
  listenAddress?: string;
  /** Runs sshd through this command, e.g. `ip netns exec NS`. */
  commandPrefix?: string[];
}

export interface SshdInstance {
  /** 127.0.0.1 unless StartSshdOptions.listenAddress said otherwise. */
  host: string;
  port: number;
  /** The instance's temporary directory (config, keys, homes). */
  dir: string;
  hostKeys: HostKey[];
  addUser(name: string, opts?: AddUserOptions): Promise<TestUser>;
  /** Creates a throwaway group (random suffix added) and returns its name. */
  addGroup(name: string): Promise<string>;
  /** One known_hosts line per host key, `[127.0.0.1]:port type base64`, newline-terminated. */
  knownHostsLine(): string;
  /** What sshd has logged so far (LogLevel VERBOSE). */
  log(): string;
  stop(): Promise<void>;
}

const SSHD = '/usr/sbin/sshd';
const OWNER_TAG = 'pau-sshd-test owner=';
const DIR_PREFIX = 'pau-sshd-';
const live = new Set<Instance>();

/** Starts sshd on a free loopback port; call stop() in an `after` hook. */
export async function startSshd(opts: StartSshdOptions = {}): Promise<SshdInstance> {
  if (process.getuid?.() !== 0) throw new Error('startSshd needs root (sshd, useradd)');
  hookProcessExit();
  sweepStaleUsers();
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  const dir = mkdtempSync(join(tmpdir(), DIR_PREFIX));
  chmodSync(dir, 0o755); // the users' homes and authorized_keys live below it
  const instance = new Instance(dir, opts);
  live.add(instance);
  try {
    for (const sub of ['keys', 'authorized_keys', 'home'])
      mkdirSync(join(dir, sub), { mode: 0o755 });
    const types = opts.hostKeyTypes ?? ['ed25519', 'ecdsa', 'rsa'];
    const keys = await Promise.all(
      types.map((t) =>
        makeKey(join(dir, 'keys', `ssh_host_${t}_key`), t, { comment: 'sshd-test-host' }),
      ),
    );
    instance.hostKeys = keys.map((k) => ({ type: k.type, blob: k.blob, publicLine: k.publicLine }));
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const config = sshdConfig(
        dir,
        port,
        keys.map((k) => k.privatePath),
        opts,
      );
      writeFileSync(join(dir, 'sshd_config'), config);
      try {
        await instance.launch(port);
        return instance;
      } catch (e) {
        if (attempt >= 5 || !instance.log().includes('Address already in use')) throw e;
      }
    }
  } catch (e) {
    await instance.stop();
    throw e;
  }
}

/** Generates a client key pair with ssh-keygen in a temporary directory removed at exit. */
export async function generateKey(
  type: KeyType,
  opts: { passphrase?: string; format?: 'openssh' | 'pem'; comment?: string } = {},
): Promise<GeneratedKey> {
  hookProcessExit();
  keysDir ??= mkdtempSync(join(tmpdir(), 'pau-keys-'));
  const path = join(keysDir, `id_${type}_${randomBytes(4).toString('hex')}`);
  return makeKey(path, type, opts);
}

/** Stops every sshd this process started and removes its users and files; safe to call twice. */
export async function stopAllSshd(): Promise<void> {
  await Promise.all([...live].map((i) => i.stop()));
}

// ---------------------------------------------------------------------------------------------

let keysDir: string | undefined;
let hooked = false;

class Instance implements SshdInstance {
  readonly host: string;
  port = 0;
  hostKeys: HostKey[] = [];
  private child: ChildProcess | undefined;
  private watchdog: ChildProcess | undefined;
  private output = '';
  private users: string[] = [];
  private groups: string[] = [];
  private stopped = false;

  constructor(
    readonly dir: string,
    private readonly opts: StartSshdOptions = {},
  ) {
    this.host = opts.listenAddress ?? '127.0.0.1';
  }

  async launch(port: number): Promise<void> {
    this.port = port;
    this.output = '';
    const [command = SSHD, ...prefixArgs] = [...(this.opts.commandPrefix ?? []), SSHD];
    const args = [...prefixArgs, '-D', '-e', '-f', join(this.dir, 'sshd_config')];
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => (this.output += chunk));
      (stream as Socket | null)?.unref(); // a forgotten stop() must not keep the test process alive
    }
    child.unref();
    await new Promise<void>((resolve, reject) => {
      const ready = `Server listening on ${this.host} port ${port}.`;
      const timer = setTimeout(
        () => finish(new Error(`sshd did not start:\n${this.output}`)),
        10_000,
      );
      const onData = () => this.output.includes(ready) && finish();
      const onExit = (code: number | null) =>
        finish(new Error(`sshd exited (${code}) before listening:\n${this.output}`));
      const finish = (error?: Error) => {
        clearTimeout(timer);
        child.stderr?.off('data', onData);
        child.off('exit', onExit);
        if (error) reject(error);
        else resolve();
      };
      child.stderr?.on('data', onData);
      child.once('exit', onExit);
      child.once('error', (e) => finish(e));
    });
    // If this process dies without running its exit hook (SIGKILL), the watchdog's stdin closes
    // and it takes sshd down with it.
    const watchdog = spawn('/bin/sh', ['-c', `read _; kill -TERM ${child.pid} 2>/dev/null`], {
      stdio: ['pipe', 'ignore', 'ignore'],
      detached: true,
    });
    (watchdog.stdin as unknown as Socket | null)?.unref();
    watchdog.unref();
    this.watchdog = watchdog;
  }

  async addUser(name: string, opts: AddUserOptions = {}): Promise<TestUser> {
    const unixName = uniqueName(name);
    const home = join(this.dir, 'home', unixName);
    const args = ['-M', '-U', '-d', home, '-s', '/bin/bash', '-c', `${OWNER_TAG}${process.pid}`];
    if (opts.groups?.length) args.push('-G', opts.groups.join(','));
    await retryLocked(() => run('useradd', [...args, unixName]));
    this.users.push(unixName);
    const uid = Number((await run('id', ['-u', unixName])).trim());
    const gid = Number((await run('id', ['-g', unixName])).trim());
    if (opts.password !== undefined) {
      await retryLocked(() => run('chpasswd', [], `${unixName}:${opts.password}\n`));
    } else {
      await retryLocked(() => run('usermod', ['-p', '*', unixName])); // '!' would lock out keys too
    }
    mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
    chmodSync(home, 0o755);
    chownSync(home, uid, gid);
    chownSync(join(home, '.ssh'), uid, gid);

    const authorizedKeysPath = join(this.dir, 'authorized_keys', unixName);
    const setAuthorizedKeys = (lines: string[]) =>
      writeFileSync(authorizedKeysPath, lines.map((l) => `${l}\n`).join(''), { mode: 0o644 });
    setAuthorizedKeys(opts.authorizedKeys ?? []);

    const writeFile = (relativePath: string, content: string | Buffer, mode = 0o644) => {
      const path = join(home, relativePath);
      const parts = relativePath.split('/').slice(0, -1);
      for (let i = 1; i <= parts.length; i++) {
        const d = join(home, ...parts.slice(0, i));
        if (!existsSync(d)) {
          mkdirSync(d, { mode: 0o755 });
          chownSync(d, uid, gid);
        }
      }
      writeFileSync(path, content);
      chmodSync(path, mode);
      chownSync(path, uid, gid);
      return path;
    };

    const path = opts.path ?? (opts.pathWithoutSqlite ? this.pathWithoutSqlite() : undefined);
    if (path !== undefined) writeFile('.ssh/environment', `PATH=${path}\n`, 0o600);

    return {
      name: unixName,
      uid,
      gid,
      home,
      password: opts.password,
      setAuthorizedKeys,
      writeFile,
    };
  }

  async addGroup(name: string): Promise<string> {
    const group = uniqueName(name);
    await retryLocked(() => run('groupadd', [group]));
    this.groups.push(group);
    return group;
  }

  knownHostsLine(): string {
    return this.hostKeys
      .map((k) => `[${this.host}]:${this.port} ${k.type} ${k.blob.toString('base64')}\n`)
      .join('');
  }

  log(): string {
    return this.output;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const child = this.child;
    const doomed = this.processesToEnd();
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      signal(child.pid, 'SIGTERM');
      await Promise.race([exited, delay(3000)]);
    }
    for (const pid of doomed) signal(pid, 'SIGTERM');
    await delay(doomed.length > 0 ? 100 : 0);
    for (const pid of [...this.processesToEnd(), ...doomed]) signal(pid, 'SIGKILL');
    signal(this.watchdog?.pid, 'SIGKILL');
    for (const user of this.users)
      await retryLocked(() => run('userdel', ['-f', user])).catch(warn);
    for (const group of this.groups) await retryLocked(() => run('groupdel', [group])).catch(warn);
    rmSync(this.dir, { recursive: true, force: true });
    live.delete(this);
  }

  /** The exit hook's version of stop(): no waiting, so everything gets SIGKILL. */
  stopSync(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const pid of [this.child?.pid, ...this.processesToEnd(), this.watchdog?.pid]) {
      signal(pid, 'SIGKILL');
    }
    for (const user of this.users) runSync('userdel', ['-f', user]);
    for (const group of this.groups) runSync('groupdel', [group]);
    rmSync(this.dir, { recursive: true, force: true });
    live.delete(this);
  }

  private farm: string | undefined;

  /** A directory of links to every command on the default PATH except sqlite3. */
  private pathWithoutSqlite(): string {
    if (this.farm) return this.farm;
    const farm = join(this.dir, 'bin-without-sqlite');
    mkdirSync(farm, { mode: 0o755 });
    const seen = new Set<string>();
    for (const dir of ['/usr/local/bin', '/usr/bin', '/bin', '/usr/games']) {
      if (!existsSync(dir) || seen.has(realpathSync(dir))) continue;
      seen.add(realpathSync(dir));
      for (const name of readdirSync(dir)) {
        if (name === 'sqlite3' || existsSync(join(farm, name))) continue;
        symlinkSync(join(dir, name), join(farm, name));
      }
    }
    this.farm = farm;
    return farm;
  }

  /** The sshd's descendants (connection handlers, sessions) and anything our users still run. */
  private processesToEnd(): number[] {
    const procs = listProcesses();
    const uids = new Set(this.users.map((u) => procs.uidOf.get(u)).filter((u) => u !== undefined));
    const root = this.child?.pid;
    const result: number[] = [];
    for (const p of procs.all) {
      if (p.pid === root) continue;
      let ancestor: number | undefined = p.ppid;
      let descends = false;
      for (let hops = 0; ancestor !== undefined && ancestor > 1 && hops < 64; hops++) {
        if (ancestor === root) {
          descends = true;
          break;
        }
        ancestor = procs.parent.get(ancestor);
      }
      if (descends || uids.has(p.uid)) result.push(p.pid);
    }
    return result;
  }
}

function sshdConfig(dir: string, port: number, hostKeys: string[], opts: StartSshdOptions): string {
  return [
    `Port ${port}`,
    `ListenAddress ${opts.listenAddress ?? '127.0.0.1'}`,
    'AddressFamily inet',
    ...hostKeys.map((k) => `HostKey ${k}`),
    `PidFile ${join(dir, 'sshd.pid')}`,
    'UsePAM no',
    'StrictModes no',
    'Subsystem sftp internal-sftp',
    `AuthorizedKeysFile ${join(dir, 'authorized_keys', '%u')}`,
    `PasswordAuthentication ${opts.passwordAuth === false ? 'no' : 'yes'}`,
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    'PermitRootLogin no',
    'PermitUserEnvironment PATH',
    'PrintMotd no',
    'UseDNS no',
    'X11Forwarding no',
    'MaxStartups 100',
    'LogLevel VERBOSE',
    opts.extraConfig ?? '',
    '',
  ].join('\n');
}

async function makeKey(
  path: string,
  type: KeyType,
  opts: { passphrase?: string; format?: 'openssh' | 'pem'; comment?: string },
): Promise<GeneratedKey> {
  const args = [
    '-q',
    '-t',
    type,
    '-N',
    opts.passphrase ?? '',
    '-C',
    opts.comment ?? 'sshd-test',
    '-f',
    path,
  ];
  if (type === 'rsa') args.push('-b', '2048'); // test keys: fast to make, still accepted
  if (opts.format === 'pem') args.push('-m', 'PEM');
  await run('ssh-keygen', args);
  const publicLine = readFileSync(`${path}.pub`, 'utf8').trim();
  const [keyType = '', base64 = ''] = publicLine.split(' ');
  return {
    privatePath: path,
    privateKey: readFileSync(path),
    publicLine,
    authorizedKey: `${keyType} ${base64}`,
    blob: Buffer.from(base64, 'base64'),
    type: keyType,
  };
}

function uniqueName(name: string): string {
  if (!/^[a-z][a-z0-9_-]{0,19}$/.test(name)) {
    throw new RangeError(`Test user/group names are [a-z][a-z0-9_-]{0,19}: ${name}`);
  }
  return `${name}-${randomBytes(3).toString('hex')}`;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

function run(command: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')}: ${stderr || error.message}`));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

function runSync(command: string, args: string[]): void {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
  } catch {
    // best effort while exiting
  }
}

/** useradd and friends fail rather than wait when another test file holds /etc/passwd's lock. */
async function retryLocked<T>(action: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await action();
    } catch (e) {
      if (attempt >= 20 || !/lock|try again/i.test(String(e))) throw e;
      await delay(50 + Math.random() * 100);
    }
  }
}

function signal(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function warn(e: unknown): void {
  process.emitWarning(`sshd test helper cleanup: ${String(e)}`);
}

interface ProcessTable {
  all: Array<{ pid: number; ppid: number; uid: number }>;
  parent: Map<number, number>;
  uidOf: Map<string, number>;
}

function listProcesses(): ProcessTable {
  const all: ProcessTable['all'] = [];
  const parent = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
      all.push({ pid: Number(entry), ppid, uid });
      parent.set(Number(entry), ppid);
    } catch {
      // the process ended while we looked
    }
  }
  const uidOf = new Map<string, number>();
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const [name, , uid] = line.split(':');
    if (name && uid) uidOf.set(name, Number(uid));
  }
  return { all, parent, uidOf };
}

/** Users left behind by a test process that was killed outright: remove them and their files. */
function sweepStaleUsers(): void {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const [name, , , , gecos, home] = line.split(':');
    if (!name || !gecos?.startsWith(OWNER_TAG)) continue;
    const owner = Number(gecos.slice(OWNER_TAG.length));
    if (isAlive(owner)) continue;
    runSync('userdel', ['-f', name]);
    const dir = home?.replace(/\/home\/[^/]+$/, '');
    if (dir && dir.startsWith(join(tmpdir(), DIR_PREFIX)))
      rmSync(dir, { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function cleanupSync(): void {
  for (const instance of [...live]) instance.stopSync();
  if (keysDir) rmSync(keysDir, { recursive: true, force: true });
  keysDir = undefined;
}

function hookProcessExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', cleanupSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      cleanupSync();
      process.kill(process.pid, sig); // our listener is gone now: the default action ends us
    });
  }
}
