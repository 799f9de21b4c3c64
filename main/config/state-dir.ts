/**
 * Where the monitor keeps its settings and history: one directory, computed from its inputs only
 * (no process.env, os or cwd reads), so every platform's answer can be tested on any platform.
 *
 * - An override wins: `--state-dir DIR` in the CLI, Electron's `app.getPath('userData')` in the app.
 * - Linux and the BSDs: `$XDG_CONFIG_HOME/prosody-active-users`, or `~/.config/…` when the variable
 *   is unset, empty or relative (the XDG Base Directory spec says relative paths are invalid and
 *   must be ignored). Electron's userData follows the same rule, so on Linux the CLI and an app
 *   named prosody-active-users share the directory.
 * - macOS: `~/Library/Application Support/prosody-active-users`.
 * - Windows: `%APPDATA%\prosody-active-users` (the roaming profile), or `~\AppData\Roaming\…` when
 *   APPDATA is missing. Windows environment names are case-insensitive, so the lookup is too.
 */
import { posix, win32 } from 'node:path';

/** The directory's name under the platform's config folder. */
export const APP_DIR_NAME = 'prosody-active-users';

export interface StateDirInput {
  /** The environment (process.env). */
  env: Readonly<Record<string, string | undefined>>;
  /** process.platform. */
  platform: NodeJS.Platform;
  /** The user's home directory (os.homedir()). */
  home: string;
  /** `--state-dir DIR`, or the app's userData: used as given when non-empty. */
  override?: string;
}

/** The state directory, as a path for `platform`. Not created here. */
export function stateDir(input: StateDirInput): string {
  const { env, platform, home, override } = input;
  if (override !== undefined && override !== '') return override;
  switch (platform) {
    case 'win32': {
      const appData = lookup(env, 'APPDATA', true);
      const base =
        appData !== undefined && appData !== '' ? appData : win32.join(home, 'AppData', 'Roaming');
      return win32.join(base, APP_DIR_NAME);
    }
    case 'darwin':
      return posix.join(home, 'Library', 'Application Support', APP_DIR_NAME);
    default: {
      const xdg = lookup(env, 'XDG_CONFIG_HOME', false);
      const base =
        xdg !== undefined && xdg !== '' && posix.isAbsolute(xdg)
          ? xdg
          : posix.join(home, '.config');
      return posix.join(base, APP_DIR_NAME);
    }
  }
}

function lookup(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  ignoreCase: boolean,
): string | undefined {
  if (!ignoreCase || env[name] !== undefined) return env[name];
  const key = Object.keys(env).find((k) => k.toUpperCase() === name);
  return key === undefined ? undefined : env[key];
}
