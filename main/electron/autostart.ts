/**
 * Start at login. Runs in the main process.
 *
 * - macOS and Windows: Electron's app.setLoginItemSettings (a login item; the Run key).
 * - Linux: an XDG autostart entry, `$XDG_CONFIG_HOME/autostart/prosody-active-users.desktop`
 *   (`~/.config/autostart/…` when the variable is unset, empty or relative), which GNOME, KDE,
 *   Xfce and the others start at login (freedesktop Desktop Application Autostart spec). Electron's
 *   login item API does nothing on Linux.
 *
 * What gets started: the AppImage itself when running from one (`$APPIMAGE`: the executable inside
 * it lives in a temporary mount that changes each run), else the executable; in development
 * (`npm start`) the Electron binary with the project folder.
 */
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, posix } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { App } from 'electron';
import { fail, ok, type Result } from '../core/failure.js';
import { APP_DIR_NAME } from '../config/state-dir.js';

export const AUTOSTART_FILE_NAME = `${APP_DIR_NAME}.desktop`;

export interface Autostart {
  isEnabled(): Promise<boolean>;
  setEnabled(enabled: boolean): Promise<Result<void>>;
}

export interface LaunchCommandInput {
  execPath: string;
  /** app.isPackaged. */
  packaged: boolean;
  /** app.getAppPath(): the project folder in development. */
  appPath: string;
  env: Readonly<Record<string, string | undefined>>;
}

/** The program and arguments that start this app again. */
export function launchCommand(input: LaunchCommandInput): string[] {
  const appImage = input.env.APPIMAGE;
  if (appImage !== undefined && appImage !== '' && posix.isAbsolute(appImage)) return [appImage];
  return input.packaged ? [input.execPath] : [input.execPath, input.appPath];
}

/** `$XDG_CONFIG_HOME/autostart`, or `~/.config/autostart` (same rules as state-dir.ts). */
export function autostartDir(
  env: Readonly<Record<string, string | undefined>>,
  home: string,
): string {
  const xdg = env.XDG_CONFIG_HOME;
  const base =
    xdg !== undefined && xdg !== '' && posix.isAbsolute(xdg) ? xdg : posix.join(home, '.config');
  return posix.join(base, 'autostart');
}

/**
 * One argument of an Exec line (Desktop Entry spec, "The Exec key"): `%` doubled (a field code
 * otherwise); the argument always quoted, with `"`, `` ` ``, `$` and `\` escaped by a backslash;
 * then the string escapes of the file format (`\\`, `\n`, `\t`, `\r`) applied on top, so a literal
 * backslash is written as four.
 */
export function execArgument(arg: string): string {
  const quoted = `"${arg.replaceAll('%', '%%').replace(/["`$\\]/g, (c) => `\\${c}`)}"`;
  return quoted.replace(/[\\\n\t\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\t' ? '\\t' : '\\r',
  );
}

/** The autostart entry that runs `command`. */
export function desktopEntry(command: readonly string[]): Result<string> {
  const [program] = command;
  if (program === undefined) return fail({ kind: 'usage', message: 'nothing to start' });
  // The spec: "The name or path of the executable program may not contain the equal sign"; and
  // GLib looks the program up before expanding `%%`, so a `%` in it cannot be written either.
  const bad = /[=%]/.exec(program)?.[0];
  if (bad !== undefined) {
    return fail({
      kind: 'settings',
      message: `Start at login cannot be set up: the path ${program} contains "${bad}", which an autostart entry cannot name. Move the app to a folder without "${bad}" in its path`,
    });
  }
  return ok(
    [
      '[Desktop Entry]',
      'Type=Application',
      'Name=Prosody Active Users',
      'Comment=Daily, weekly and monthly active users of your Prosody server',
      `Exec=${command.map(execArgument).join(' ')}`,
      'Terminal=false',
      'X-GNOME-Autostart-enabled=true',
      '',
    ].join('\n'),
  );
}

/** More than any autostart entry holds: a longer file is read only this far. */
const MAX_ENTRY_BYTES = 64 * 1024;

/**
 * Whether an autostart entry starts the program at login. A desktop that turns an entry off keeps
 * the file and marks it: `Hidden=true` (the Desktop Application Autostart spec: "the .desktop file
 * … MUST be treated as if it does not exist"), or `X-GNOME-Autostart-enabled=false` (GNOME's
 * Startup Applications and Tweaks). Only the [Desktop Entry] group counts; spaces around `=` are
 * allowed (Desktop Entry spec, "Entries").
 */
export function entryStartsAtLogin(text: string): boolean {
  let group = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('[')) {
      group = line;
      continue;
    }
    if (group !== '[Desktop Entry]') continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (key === 'Hidden' && value === 'true') return false;
    if (key === 'X-GNOME-Autostart-enabled' && value === 'false') return false;
  }
  return true;
}

export interface LinuxAutostartInput {
  env: Readonly<Record<string, string | undefined>>;
  home: string;
  command: readonly string[];
}

/** Linux: the XDG autostart file, written atomically, removed to disable. */
export function linuxAutostart(input: LinuxAutostartInput): Autostart {
  const path = posix.join(autostartDir(input.env, input.home), AUTOSTART_FILE_NAME);
  const failure = (doing: string, error: unknown) =>
    fail<void>({
      kind: 'settings',
      message: `Start at login could not be ${doing} (${path}): ${(error as Error).message}`,
    });
  return {
    async isEnabled() {
      try {
        const handle = await open(path, 'r');
        try {
          const buffer = Buffer.alloc(MAX_ENTRY_BYTES);
          const { bytesRead } = await handle.read(buffer, 0, MAX_ENTRY_BYTES, 0);
          return entryStartsAtLogin(buffer.subarray(0, bytesRead).toString('utf8'));
        } finally {
          await handle.close();
        }
      } catch {
        return false;
      }
    },
    async setEnabled(enabled) {
      if (!enabled) {
        try {
          await unlink(path);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
            return failure('turned off', error);
        }
        return ok(undefined);
      }
      const entry = desktopEntry(input.command);
      if (!entry.ok) return entry;
      const temp = posix.join(
        dirname(path),
        `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`,
      );
      try {
        await mkdir(dirname(path), { recursive: true, mode: 0o700 });
        const handle = await open(temp, 'wx', 0o644);
        try {
          await handle.writeFile(entry.value, 'utf8');
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(temp, path);
        return ok(undefined);
      } catch (error) {
        await unlink(temp).catch(() => undefined);
        return failure('turned on', error);
      }
    },
  };
}

export interface LoginItemAutostartInput {
  app: Pick<App, 'getLoginItemSettings' | 'setLoginItemSettings'>;
  platform: 'darwin' | 'win32';
  command: readonly string[];
}

/**
 * macOS and Windows: Electron's login item. On Windows the same path and arguments must be given
 * when reading it back (Electron's docs for getLoginItemSettings), and arguments are joined into
 * a command line, so a path among them is quoted.
 */
export function loginItemAutostart(input: LoginItemAutostartInput): Autostart {
  const { app, platform } = input;
  const [path = '', ...rest] = input.command;
  const where =
    platform === 'win32' ? { path, args: rest.map((a) => (/[\s"]/.test(a) ? `"${a}"` : a)) } : {};
  return {
    isEnabled: () => Promise.resolve(app.getLoginItemSettings(where).openAtLogin),
    setEnabled(enabled) {
      try {
        app.setLoginItemSettings({ openAtLogin: enabled, ...where });
      } catch (error) {
        return Promise.resolve(
          fail({
            kind: 'settings',
            message: `Start at login could not be changed: ${(error as Error).message}`,
          }),
        );
      }
      const now = app.getLoginItemSettings(where);
      if (enabled && platform === 'darwin' && now.status === 'requires-approval') {
        return Promise.resolve(
          fail({
            kind: 'settings',
            message:
              'macOS asks you to allow it: open System Settings → General → Login Items and switch Prosody Active Users on',
          }),
        );
      }
      return Promise.resolve(ok(undefined));
    },
  };
}

export interface AutostartInput {
  platform: NodeJS.Platform;
  app: Pick<App, 'getLoginItemSettings' | 'setLoginItemSettings'>;
  env: Readonly<Record<string, string | undefined>>;
  home: string;
  command: readonly string[];
}

/** The platform's way. */
export function createAutostart(input: AutostartInput): Autostart {
  if (input.platform === 'darwin' || input.platform === 'win32') {
    return loginItemAutostart({ app: input.app, platform: input.platform, command: input.command });
  }
  return linuxAutostart(input);
}
