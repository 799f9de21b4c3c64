/** What the benchmark's parts share: statistics, running a process, the table a person reads. */
import { closeSync, openSync, readFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';

export interface Stat {
  median: number;
  min: number;
  max: number;
}

export function stat(values: number[]): Stat {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median =
    s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
  return { median, min: s[0] as number, max: s[s.length - 1] as number };
}

export interface ProcessRun {
  seconds: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command; the time is from spawn to exit, as a person at a shell would see it. */
export function runProcess(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; stdoutToNull?: boolean } = {},
): Promise<ProcessRun> {
  return new Promise((done, failed) => {
    const devNull = options.stdoutToNull ? openSync('/dev/null', 'w') : null;
    const started = process.hrtime.bigint();
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      stdio: ['ignore', devNull ?? 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', failed);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (devNull !== null) closeSync(devNull);
      done({ seconds, code, stdout, stderr });
    });
  });
}

export const GNU_TIME = '/usr/bin/time';

export function hasGnuTime(): boolean {
  return spawnSync(GNU_TIME, ['-f', '%M', 'true'], { encoding: 'utf8' }).status === 0;
}

export function fmtCount(n: number): string {
  if (n >= 1_000_000 && n % 1_000_000 === 0) return `${n / 1_000_000} M`;
  if (n >= 1000 && n % 1000 === 0) return `${n / 1000} k`;
  return String(n);
}

export function fmtMb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(bytes < 10 * 2 ** 20 ? 1 : 0)} MB`;
}

export function fmtStat(s: Stat | undefined, digits: number): string {
  if (!s) return '—';
  return `${s.median.toFixed(digits)} [${s.min.toFixed(digits)}–${s.max.toFixed(digits)}]`;
}

export function table(rows: string[][]): string {
  const widths = (rows[0] ?? []).map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c] as number))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * The server-to-client compression in sshd's DEBUG1 log of one connection
 * (`kex: server->client cipher: … compression: zlib@openssh.com [preauth]`); the last one when
 * the text holds several, undefined when none.
 */
export function negotiatedCompression(log: string): string | undefined {
  let found: string | undefined;
  for (const m of log.matchAll(/kex: server->client cipher: .*? compression: (\S+)/g)) found = m[1];
  return found;
}

/**
 * The OpenSSH client options (ssh and scp alike) of the baselines: only `key`, only the host key
 * in `knownHosts`, no ssh_config and never a prompt.
 */
export function opensshClientOptions(key: string, knownHosts: string): string[] {
  return [
    '-F',
    '/dev/null',
    '-i',
    key,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    `UserKnownHostsFile=${knownHosts}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
  ];
}

/** The whole machine's CPU time from /proc/stat's first line, in clock ticks. */
export interface MachineTicks {
  /** Every state but idle and iowait: user, nice, system, irq, softirq, steal. */
  busy: number;
  /** All of them, idle included: what the cores had. */
  total: number;
}

/**
 * `cpu  user nice system idle iowait irq softirq steal …` (proc(5)). The first-read rows are
 * bound by CPU, and the bench runs the server's part and the client on one machine: the busy
 * share says how much of the cores both took (issue 14).
 */
export function parseMachineTicks(text: string): MachineTicks {
  const m = /^cpu +(\d+(?: +\d+){7,})/.exec(text);
  if (!m) throw new Error('/proc/stat has no cpu line');
  const [user, nice, system, idle, iowait, irq, softirq, steal] = m[1]!.split(/ +/).map(Number);
  const busy = user! + nice! + system! + irq! + softirq! + steal!;
  return { busy, total: busy + idle! + iowait! };
}

export function machineTicks(): MachineTicks {
  return parseMachineTicks(readFileSync('/proc/stat', 'latin1'));
}

/** Clock ticks a second (USER_HZ), as /proc/stat counts them. */
export const TICKS_PER_SECOND = (() => {
  const n = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim());
  return Number.isInteger(n) && n > 0 ? n : 100;
})();
