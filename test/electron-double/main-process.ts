/**
 * Runs the built main process (dist/main/electron/main.js), unchanged, in a child Node process
 * under the Electron TEST DOUBLE (electron-double.ts, installed by register.ts), and lets a test
 * read and click what the double recorded. Build first (`npm run build`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DoubleState, Message, Reply, Request } from './control.js';

export const PROJECT_DIR = join(__dirname, '..', '..');
export const MAIN_JS = join(PROJECT_DIR, 'dist', 'main', 'electron', 'main.js');
const REGISTER = join(__dirname, 'register.ts');

/** How long a wait for a recorded state lasts before the test fails, saying what it waited for. */
const WAIT_MS = 30_000;

export interface MainProcessOptions {
  /** HOME for the app: its state folder is $XDG_CONFIG_HOME/prosody-active-users. */
  home: string;
  /** XDG_CONFIG_HOME; default HOME/.config. */
  configHome?: string;
  env?: Record<string, string>;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface MainProcess {
  readonly pid: number;
  /** Resolves when the process has ended. */
  readonly exited: Promise<Exit>;
  /** What the process wrote to stdout and stderr so far. */
  output(): string;
  state(): Promise<DoubleState>;
  /** Polls the recorded state until `probe` returns something other than undefined, null, false. */
  waitFor<T>(what: string, probe: (state: DoubleState) => T | undefined | null | false): Promise<T>;
  clickMenuItem(label: string): Promise<void>;
  clickTray(): Promise<void>;
  /** A click on the index-th notification shown. */
  clickNotification(index: number): Promise<void>;
  /** powerMonitor's event; `advanceClockMs` moves the wall clock first, as a sleep does. */
  power(event: 'suspend' | 'resume', advanceClockMs?: number): Promise<void>;
  blurWindow(index?: number): Promise<void>;
  /** Evaluates an expression in the window's page (Chromium). */
  evaluate<T>(expression: string, index?: number): Promise<T>;
  /** Waits until the expression, evaluated in the page, is truthy; returns its value. */
  waitForPage<T>(what: string, expression: string, index?: number): Promise<T>;
  press(key: string, index?: number): Promise<void>;
  /** Ends the process if it still runs (SIGKILL). */
  kill(): Promise<void>;
}

export function startMainProcess(options: MainProcessOptions): MainProcess {
  if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run npm run build first`);
  const configHome = options.configHome ?? join(options.home, '.config');
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', '--import', pathToFileURL(REGISTER).href, MAIN_JS],
    {
      cwd: PROJECT_DIR,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: options.home,
        XDG_CONFIG_HOME: configHome,
        // No desktop bus: notifications have nowhere to go and must not wait for one.
        DBUS_SESSION_BUS_ADDRESS: 'disabled:',
        LANG: 'C.UTF-8',
        TZ: process.env.TZ ?? 'UTC',
        ...options.env,
      },
    },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString('utf8')));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString('utf8')));
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let ended = false;
  void exited.then(() => (ended = true));

  let nextId = 1;
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  child.on('message', (reply: Reply) => {
    const w = waiting.get(reply.id);
    if (w === undefined) return;
    waiting.delete(reply.id);
    if (reply.ok) w.resolve(reply.value);
    else w.reject(new Error(reply.error));
  });
  void exited.then((exit) => {
    for (const w of waiting.values()) {
      w.reject(new Error(`the main process ended (${JSON.stringify(exit)}):\n${output}`));
    }
    waiting.clear();
  });

  const request = <T>(req: Request): Promise<T> => {
    if (ended) return Promise.reject(new Error(`the main process has ended:\n${output}`));
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ id, ...req } satisfies Message);
    });
  };

  const poll = async <T>(what: string, attempt: () => Promise<T | undefined | null | false>) => {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const value = await attempt();
      if (value !== undefined && value !== null && value !== false) return value;
      if (Date.now() > deadline) {
        throw new Error(`waited ${WAIT_MS / 1000} s for ${what}; the app said:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const main: MainProcess = {
    pid: child.pid ?? -1,
    exited,
    output: () => output,
    state: () => request<DoubleState>({ op: 'state' }),
    waitFor: (what, probe) => poll(what, async () => probe(await main.state())),
    clickMenuItem: (label) => request({ op: 'click-menu-item', label }),
    clickTray: () => request({ op: 'click-tray' }),
    clickNotification: (index) => request({ op: 'click-notification', index }),
    power: (event, advanceClockMs) =>
      request({ op: 'power', event, ...(advanceClockMs ? { advanceClockMs } : {}) }),
    blurWindow: (index = 0) => request({ op: 'blur-window', index }),
    evaluate: <T>(expression: string, index = 0) =>
      request<T>({ op: 'page-eval', index, expression }),
    waitForPage: <T>(what: string, expression: string, index = 0) =>
      poll(what, () => main.evaluate<T>(expression, index).catch(() => undefined)),
    press: (key, index = 0) => request({ op: 'page-press', index, key }),
    async kill() {
      if (!ended) child.kill('SIGKILL');
      await exited;
    },
  };
  return main;
}
