/**
 * A real desktop notification daemon for tests: a private D-Bus session bus, a virtual X display
 * (Xvfb) and dunst, from Debian's packages (test/setup-system.sh installs them). Throws, with what
 * to install, when a program is missing: a test that needs it fails rather than skips.
 *
 * Facts this relies on, seen here (dbus 1.14, Xvfb 21.1, dunst 1.9, libnotify-bin 0.8.1):
 * - The bus is a dbus-daemon with a config of our own: a socket in a temporary directory and no
 *   service directories. The stock session config would let D-Bus activation start a second dunst
 *   (/usr/share/dbus-1/services/org.knopwob.dunst.service) with the bus's environment; without
 *   activation a call to a missing daemon fails at once ("ServiceUnknown"), which also tells us
 *   when dunst is ready. As root it logs "Failed to set fd limit": harmless.
 * - `Xvfb -displayfd 3` picks a free display number itself and writes it to fd 3 once it accepts
 *   connections: no guessing, no race with parallel test files.
 * - dunst needs DISPLAY (X11; WAYLAND_DISPLAY must not be set) and the bus. `-config FILE` replaces
 *   ~/.config/dunst/dunstrc. notify-send returns once dunst has the notification.
 * - `dunstctl history` lists only closed notifications (JSON, newest first, each field as
 *   {"type", "data"}); `dunstctl close-all` closes the displayed ones. dunst 1.9 has no command to
 *   clear the history: match on something unique to the test.
 * - History keeps the summary and body as received: no markup is removed (what dunst draws is the
 *   body read as markup, the summary as plain text).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

export interface ShownNotification {
  summary: string;
  body: string;
  appname: string;
}

export interface NotificationDaemon {
  /** What a client needs to reach the daemon. */
  env: { DISPLAY: string; DBUS_SESSION_BUS_ADDRESS: string };
  /** Closes every displayed notification, then returns the history, newest first. */
  history(): Promise<ShownNotification[]>;
  /** Polls history() until a notification matches; throws, listing what arrived, after timeoutMs. */
  waitFor(match: (n: ShownNotification) => boolean, timeoutMs?: number): Promise<ShownNotification>;
  /** Stops dunst, Xvfb and the bus, and removes the temporary directory. */
  stop(): Promise<void>;
}

const INSTALL =
  'install the test packages with test/setup-system.sh (xvfb dbus dunst libnotify-bin)';
const START_TIMEOUT_MS = 15_000;

const BUS_CONFIG = (socket: string): string => `<!DOCTYPE busconfig PUBLIC
 "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`;

// markup = full as in Debian's stock /etc/xdg/dunst/dunstrc: the daemon then reads body markup and
// says so (GetCapabilities lists body-markup), as a desktop user's dunst does.
const DUNSTRC = `[global]
    history_length = 1000
    notification_limit = 0
    markup = full
`;

interface Started {
  name: string;
  child: ChildProcess;
  stderr: () => string;
}

const running = new Set<Started>();
process.on('exit', () => {
  for (const p of running) p.child.kill('SIGKILL');
});

export async function startNotificationDaemon(): Promise<NotificationDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'pau-notify-'));
  const started: Started[] = [];
  const stopAll = async (): Promise<void> => {
    for (const p of [...started].reverse()) await stopProcess(p);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const socket = join(dir, 'bus');
    writeFileSync(join(dir, 'bus.conf'), BUS_CONFIG(socket));
    writeFileSync(join(dir, 'dunstrc'), DUNSTRC);

    const bus = launch(
      'dbus-daemon',
      [`--config-file=${join(dir, 'bus.conf')}`, '--nofork', '--print-address'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    started.push(bus);
    const address = await firstLine(bus, bus.child.stdout as Readable, 'its address');

    const xvfb = launch(
      'Xvfb',
      ['-displayfd', '3', '-nolisten', 'tcp', '-screen', '0', '640x480x24'],
      { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] },
    );
    started.push(xvfb);
    const display = `:${await firstLine(xvfb, xvfb.child.stdio[3] as Readable, 'a display number')}`;

    const env = { DISPLAY: display, DBUS_SESSION_BUS_ADDRESS: address };
    const clientEnv = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      XDG_CONFIG_HOME: dir,
      ...env,
    };
    const dunst = launch('dunst', ['-config', join(dir, 'dunstrc')], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: clientEnv,
    });
    started.push(dunst);
    await waitUntilReady(dunst, clientEnv);

    const dunstctl = (...args: string[]): Promise<string> => run('dunstctl', args, clientEnv);
    const history = async (): Promise<ShownNotification[]> => {
      await dunstctl('close-all');
      return parseHistory(await dunstctl('history'));
    };
    return {
      env,
      history,
      async waitFor(match, timeoutMs = 5000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const seen = await history();
          const found = seen.find(match);
          if (found) return found;
          if (Date.now() > deadline) {
            throw new Error(
              `No matching notification within ${timeoutMs} ms; dunst has: ${JSON.stringify(seen)}`,
            );
          }
          await sleep(50);
        }
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function launch(command: string, args: string[], options: Parameters<typeof spawn>[2]): Started {
  const child = spawn(command, args, options);
  let err = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    err = (err + chunk.toString('utf8')).slice(-4000);
  });
  // Spawn errors (ENOENT) are reported by whoever waits on the process; never an uncaught 'error'.
  child.on('error', () => undefined);
  const p: Started = { name: command, child, stderr: () => err.trim() };
  running.add(p);
  child.on('exit', () => running.delete(p));
  return p;
}

/** The first line `p` writes on `stream`; rejects if it fails to start, exits or takes too long. */
function firstLine(p: Started, stream: Readable, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(
      () =>
        done(
          new Error(`${p.name} did not print ${what} within ${START_TIMEOUT_MS} ms: ${p.stderr()}`),
        ),
      START_TIMEOUT_MS,
    );
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('utf8');
      const nl = text.indexOf('\n');
      if (nl >= 0) done(undefined, text.slice(0, nl).trim());
    };
    const onError = (error: NodeJS.ErrnoException): void =>
      done(
        new Error(
          error.code === 'ENOENT'
            ? `${p.name} is not installed: ${INSTALL}`
            : `${p.name}: ${error.message}`,
        ),
      );
    const onExit = (code: number | null, signal: string | null): void =>
      done(
        new Error(`${p.name} exited (${code ?? signal}) before printing ${what}: ${p.stderr()}`),
      );
    const done = (error: Error | undefined, line?: string): void => {
      clearTimeout(timer);
      stream.off('data', onData);
      p.child.off('error', onError);
      p.child.off('exit', onExit);
      if (error) reject(error);
      else resolve(line ?? '');
    };
    stream.on('data', onData);
    p.child.on('error', onError);
    p.child.on('exit', onExit);
  });
}

/** Until dunst owns org.freedesktop.Notifications (dunstctl fails fast before: no activation). */
async function waitUntilReady(dunst: Started, env: NodeJS.ProcessEnv): Promise<void> {
  let failure: Error | undefined;
  dunst.child.once('error', (error: NodeJS.ErrnoException) => {
    failure ??= new Error(
      error.code === 'ENOENT' ? `dunst is not installed: ${INSTALL}` : `dunst: ${error.message}`,
    );
  });
  dunst.child.once('exit', (code, signal) => {
    failure ??= new Error(`dunst exited (${code ?? signal}) while starting: ${dunst.stderr()}`);
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  let last = '';
  for (;;) {
    if (failure) throw failure;
    try {
      await run('dunstctl', ['count'], env);
      return;
    } catch (error) {
      last = (error as Error).message;
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new Error(`dunstctl is not installed: ${INSTALL}`);
      }
    }
    if (Date.now() > deadline) {
      throw new Error(
        `dunst did not answer within ${START_TIMEOUT_MS} ms: ${last} ${dunst.stderr()}`,
      );
    }
    await sleep(50);
  }
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env, timeout: 10_000 }, (error, stdout, stderr) => {
      if (error) {
        const e = new Error(`${command} ${args.join(' ')}: ${stderr.trim() || error.message}`);
        (e as NodeJS.ErrnoException).code = (error as NodeJS.ErrnoException).code as string;
        reject(e);
      } else resolve(stdout);
    });
  });
}

/** `dunstctl history`: {"type": "aa{sv}", "data": [[{field: {"type", "data"}}, …]]}. */
function parseHistory(json: string): ShownNotification[] {
  const parsed = JSON.parse(json) as { data: Array<Array<Record<string, { data: unknown }>>> };
  const field = (n: Record<string, { data: unknown }>, name: string): string =>
    String(n[name]?.data ?? '');
  return (parsed.data[0] ?? []).map((n) => ({
    summary: field(n, 'summary'),
    body: field(n, 'body'),
    appname: field(n, 'appname'),
  }));
}

async function stopProcess(p: Started): Promise<void> {
  const { child } = p;
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
