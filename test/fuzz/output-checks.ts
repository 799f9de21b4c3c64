/**
 * What every run must show, whatever the input: one line on failure, valid JSON and OpenMetrics,
 * and no control character a terminal would act on in the table.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { PROJECT_DIR, cliArgv } from '../fixtures/run-built-cli.js';

/** The host every fuzzed input also holds, with one login a minute before NOW: always counted. */
export const CONTROL_HOST = 'control.test';
export const NOW = 1_795_536_000;

// eslint-disable-next-line no-control-regex -- control characters are what it finds
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

export interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI; a run that has not ended after `ms` is killed (a hang fails the check). */
export function runCli(args: string[], ms = 20_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, cliArgv(args), {
      cwd: PROJECT_DIR,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: ms,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}

/** A small OpenMetrics text-format check: families, samples, label escaping, values, # EOF. */
export function assertOpenMetrics(text: string): void {
  assert.ok(text.endsWith('# EOF\n'), 'ends with # EOF');
  const lines = text.slice(0, -1).split('\n');
  const name = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const labelValue = '"(?:[^"\\\\\\n]|\\\\["\\\\n])*"';
  const labels = `\\{(?:[a-zA-Z_][a-zA-Z0-9_]*=${labelValue}(?:,[a-zA-Z_][a-zA-Z0-9_]*=${labelValue})*)?\\}`;
  const value = '(?:[-+]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?Inf|NaN)';
  const sample = new RegExp(`^${name}(?:${labels})? ${value}$`);
  const meta = new RegExp(
    `^# (?:TYPE ${name} (?:gauge|counter|unknown)|UNIT ${name} \\S+|HELP ${name} .*)$`,
  );
  lines.forEach((line, i) => {
    if (i === lines.length - 1) return assert.equal(line, '# EOF');
    assert.ok(
      sample.test(line) || meta.test(line),
      `line ${i + 1} is not OpenMetrics: ${JSON.stringify(line)}`,
    );
  });
}

/** Exit 0 or 1, never a signal or a hang; exit 1 with exactly one line on stderr. */
export function assertEnded(run: Run, what: string): void {
  assert.ok(
    run.status === 0 || run.status === 1,
    `${what}: status ${run.status}, signal ${run.signal}\n${run.stderr.slice(0, 2000)}`,
  );
  assert.doesNotMatch(run.stderr, /unexpected error|\n {4}at /, `${what}: ${run.stderr}`);
  if (run.status === 1) {
    assert.match(run.stderr, /^prosody-active-users: [^\n]*\n$/, `${what}: ${run.stderr}`);
    assert.equal(run.stdout, '', what);
  }
}

/**
 * Runs the CLI with `args` in the three output formats and checks each; on success the control
 * host must be counted (the rest of the data still counts). Returns the statuses.
 */
export async function checkEveryFormat(args: string[], what: string): Promise<number[]> {
  const [table, json, om] = await Promise.all([
    runCli([...args, '--at', String(NOW)]),
    runCli([...args, '--at', String(NOW), '--json']),
    runCli([...args, '--at', String(NOW), '--openmetrics']),
  ]);
  assertEnded(table!, `${what} (table)`);
  assertEnded(json!, `${what} (--json)`);
  assertEnded(om!, `${what} (--openmetrics)`);
  assert.doesNotMatch(table!.stdout, RAW_CONTROL, `${what}: raw control in the table`);
  assert.doesNotMatch(table!.stderr, RAW_CONTROL, `${what}: raw control on stderr`);
  if (json!.status === 0) {
    const out = JSON.parse(json!.stdout) as { hosts: Record<string, { dau: number }> };
    assert.equal(Object.getOwnPropertyDescriptor(out.hosts, CONTROL_HOST)?.value?.dau, 1, what);
  }
  if (om!.status === 0) {
    assertOpenMetrics(om!.stdout);
    assert.ok(
      om!.stdout.includes(
        `prosody_mod_measure_active_users__active_users_1d{host="${CONTROL_HOST}"} 1\n`,
      ),
      what,
    );
  }
  return [table!.status!, json!.status!, om!.status!];
}
