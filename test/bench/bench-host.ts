/**
 * A test host of the benchmark's own: a network namespace joined to this one by a veth pair, with
 * each direction shaped to 100 Mbit/s by tbf, so that SSH runs over a link that behaves like a
 * real one rather than loopback, and the bytes that cross it can be read off the interface.
 * Needs root and iproute2 (`ip`, `tc`). Always taken down again, on failure and on Ctrl-C too.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface BenchHost {
  namespace: string;
  /** The server's address inside the namespace. */
  serverAddress: string;
  /** Bytes this side has received and sent over the link so far (IP headers and all). */
  counters(): { rx: number; tx: number };
  /** The command prefix that runs something inside the namespace. */
  inside: string[];
  destroy(): void;
}

export const LINK_RATE = '100mbit';

function sh(args: string[]): void {
  execFileSync(args[0] as string, args.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** tbf as the root qdisc: the rate limit, with a queue of at most 50 ms. */
function shape(prefix: string[], device: string): void {
  sh([
    ...prefix,
    'tc',
    'qdisc',
    'add',
    'dev',
    device,
    'root',
    'tbf',
    'rate',
    LINK_RATE,
    'burst',
    '32kbit',
    'latency',
    '50ms',
  ]);
}

/** A counter file's text (`12345\n`) as a number; anything else is an error, not NaN. */
export function parseCounter(text: string, what: string): number {
  const t = text.trim();
  if (!/^\d+$/.test(t)) throw new Error(`${what}: not a byte count: ${JSON.stringify(text)}`);
  return Number(t);
}

/** Reads one of the kernel's interface counters. */
export function readCounter(device: string, name: 'rx_bytes' | 'tx_bytes'): number {
  const path = `/sys/class/net/${device}/statistics/${name}`;
  return parseCounter(readFileSync(path, 'utf8'), path);
}

const NAMESPACE_PREFIX = 'pau-bench-';

/**
 * The benchmark namespaces in `ip netns list`'s output (`NAME` or `NAME (id: N)` a line) whose
 * benchmark process is gone: what a run killed outright (SIGKILL) leaves behind.
 */
export function abandonedNamespaces(list: string, alive: (pid: number) => boolean): number[] {
  const pids: number[] = [];
  for (const line of list.split('\n')) {
    const m = new RegExp(`^${NAMESPACE_PREFIX}(\\d+)(?:\\s|$)`).exec(line.trim());
    if (m && !alive(Number(m[1]))) pids.push(Number(m[1]));
  }
  return pids;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the namespace and veth pair of benchmark runs that were killed before cleaning up. */
function removeAbandoned(): void {
  let list = '';
  try {
    list = execFileSync('ip', ['netns', 'list'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return; // no ip: createBenchHost says so below
  }
  for (const pid of abandonedNamespaces(list, isAlive)) {
    for (const args of [
      ['ip', 'netns', 'del', `${NAMESPACE_PREFIX}${pid}`],
      ['ip', 'link', 'del', `pauh${pid}`],
    ]) {
      try {
        sh(args);
      } catch {
        // Already gone.
      }
    }
  }
}

/** The third bytes of the 10.201.x.0/30 networks already on an interface of this namespace. */
function subnetsInUse(): Set<number> {
  const text = execFileSync('ip', ['-o', '-4', 'addr', 'show'], { encoding: 'utf8' });
  return new Set([...text.matchAll(/inet 10\.201\.(\d+)\./g)].map((m) => Number(m[1])));
}

/**
 * `subnet` picks 10.201.<subnet>.0/30 (default 0, the benchmark's). 'auto', for tests, takes one
 * from 1 to 255 that no interface uses yet: tests run two at a time, each with a host of its own,
 * and two hosts on one network would take each other's packets.
 */
export function createBenchHost(options: { subnet?: number | 'auto' } = {}): BenchHost {
  if (options.subnet === 'auto') {
    const used = subnetsInUse();
    // Spread by pid, so that two tests starting at once rarely try the same one first.
    for (let i = 0; i < 255; i++) {
      const subnet = 1 + ((process.pid + i) % 255);
      if (used.has(subnet)) continue;
      const host = createBenchHost({ subnet });
      // Another process may have taken the same one meanwhile: then try the next.
      const twice = execFileSync('ip', ['-o', '-4', 'addr', 'show'], { encoding: 'utf8' }).split(
        `inet 10.201.${subnet}.1/`,
      ).length;
      if (twice === 2) return host;
      host.destroy();
      used.add(subnet);
    }
    throw new Error('no free 10.201.x.0/30 network for a test host');
  }
  const subnet = options.subnet ?? 0;
  if (!Number.isInteger(subnet) || subnet < 0 || subnet > 255) throw new RangeError('subnet');
  const hostAddress = `10.201.${subnet}.1`;
  const serverAddress = `10.201.${subnet}.2`;
  if (process.getuid?.() !== 0) {
    throw new Error(
      'the SSH benchmark needs root: it makes a network namespace (ip netns) with a rate-limited veth link',
    );
  }
  removeAbandoned();
  const id = process.pid; // pid_max is at most 2^22: pauh4194304 fits IFNAMSIZ
  const namespace = `${NAMESPACE_PREFIX}${id}`;
  const hostSide = `pauh${id}`;
  const serverSide = `paus${id}`;
  const inside = ['ip', 'netns', 'exec', namespace];
  let destroyed = false;
  const destroy = () => {
    if (destroyed) return;
    destroyed = true;
    // Deleting the namespace deletes its end of the pair, and with it ours.
    try {
      sh(['ip', 'netns', 'del', namespace]);
    } catch {
      // Never made, or already gone.
    }
    try {
      sh(['ip', 'link', 'del', hostSide]);
    } catch {
      // Gone with the namespace.
    }
    process.off('exit', destroy);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  const onSignal = () => {
    destroy();
    process.exit(130);
  };
  process.on('exit', destroy);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    sh(['ip', 'netns', 'add', namespace]);
    sh(['ip', 'link', 'add', hostSide, 'type', 'veth', 'peer', 'name', serverSide]);
    sh(['ip', 'link', 'set', serverSide, 'netns', namespace]);
    sh(['ip', 'addr', 'add', `${hostAddress}/30`, 'dev', hostSide]);
    sh(['ip', 'link', 'set', hostSide, 'up']);
    sh([...inside, 'ip', 'addr', 'add', `${serverAddress}/30`, 'dev', serverSide]);
    sh([...inside, 'ip', 'link', 'set', serverSide, 'up']);
    sh([...inside, 'ip', 'link', 'set', 'lo', 'up']);
    shape([], hostSide);
    shape(inside, serverSide);
  } catch (e) {
    destroy();
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(
      `could not make the benchmark's network namespace (${stderr || String(e)}): it needs root and iproute2 (apt package iproute2)`,
    );
  }
  return {
    namespace,
    serverAddress,
    inside,
    counters: () => ({
      rx: readCounter(hostSide, 'rx_bytes'),
      tx: readCounter(hostSide, 'tx_bytes'),
    }),
    destroy,
  };
}
