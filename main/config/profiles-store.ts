/**
 * The profiles on disk: `settings.json` in the state directory (see state-dir.ts).
 *
 * - Read: parsed and validated (profile-validation.ts); a problem names the file and the field.
 *   A missing file is no profiles yet.
 * - Written atomically: a temporary file in the same directory (mode 0600), fsync, rename over
 *   settings.json, fsync the directory. A crash leaves the old file or the new one, never half of
 *   one; the temporary file is removed when a step fails.
 * - Never overwritten silently: while settings.json was written by a newer version, or does not
 *   parse or validate, `save` refuses and changes nothing (and `load` reports the problem). With
 *   `{ replaceBroken: true }` the old file is first kept as `settings.json.broken-<UTC time>`,
 *   then replaced.
 * - Secrets never reach the file: validation refuses password, passphrase and secret keys, on
 *   write as on read.
 *
 * Failures: problems with the file's content are of kind 'usage' (the message names the file and
 * what is wrong, and says that nothing was changed); an unreadable file is 'permission-denied'.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fail, ok, type Failure, type Result } from '../core/failure.js';
import { fileTypeWords } from './regular-file.js';
import {
  SETTINGS_VERSION,
  emptySettings,
  newerSettingsVersion,
  validateSettings,
  type Settings,
} from '../core/profile-validation.js';

export const SETTINGS_FILE_NAME = 'settings.json';

/** Larger than any settings file a person would write: read no further. */
const MAX_SETTINGS_BYTES = 4 * 1024 * 1024;

/** What is on disk now. */
export type SettingsFileState =
  | { state: 'missing' }
  | { state: 'valid'; settings: Settings }
  /** Written by a newer version: never read, never overwritten without replaceBroken. */
  | { state: 'newer'; version: number }
  /** Not JSON, or not valid settings: `detail` names the bad field (`profiles[0].name: …`). */
  | { state: 'broken'; detail: string };

export interface SaveOptions {
  /**
   * Replace a file that is broken or from a newer version, after keeping it as
   * `settings.json.broken-<UTC time>`. Only on the user's explicit request.
   */
  replaceBroken?: boolean;
}

export interface SaveReport {
  /** The settings file written. */
  path: string;
  /** Where the file that was replaced was kept, when it was broken or newer. */
  keptBrokenAs?: string;
}

export interface ProfilesStore {
  /** The settings file's path. */
  readonly path: string;
  /** The file's state, for a caller that offers to replace a broken file. */
  inspect(): Promise<Result<SettingsFileState>>;
  /** The settings; no profiles when the file does not exist. */
  load(): Promise<Result<Settings>>;
  /** Validates and writes atomically; refuses over a broken or newer file (see SaveOptions). */
  save(settings: Settings, options?: SaveOptions): Promise<Result<SaveReport>>;
}

export interface ProfilesStoreOptions {
  /** The clock, for the kept copy's name. */
  now?: () => Date;
}

/** The store for `settings.json` in `stateDir` (created, mode 0700, on the first save). */
export function openProfilesStore(
  stateDir: string,
  options: ProfilesStoreOptions = {},
): ProfilesStore {
  const path = join(stateDir, SETTINGS_FILE_NAME);
  const now = options.now ?? (() => new Date());
  // Saves from this process run one after another, so each sees the file the previous one wrote.
  let queue: Promise<unknown> = Promise.resolve();

  const inspect = (): Promise<Result<SettingsFileState>> => inspectFile(path);

  const load = async (): Promise<Result<Settings>> => {
    const found = await inspect();
    if (!found.ok) return found;
    const s = found.value;
    switch (s.state) {
      case 'missing':
        return ok(emptySettings());
      case 'valid':
        return ok(s.settings);
      case 'newer':
        return fail(newerFailure(path, s.version, 'It was not read'));
      case 'broken':
        return fail({ kind: 'settings', message: `${path}: ${s.detail}` });
    }
  };

  const saveNow = async (
    settings: Settings,
    saveOptions: SaveOptions,
  ): Promise<Result<SaveReport>> => {
    const valid = validateSettings(settings);
    if (!valid.ok) {
      const detail = valid.failure.kind === 'usage' ? valid.failure.message : valid.failure.kind;
      return fail({ kind: 'settings', message: `Not saved to ${path}: ${detail}` });
    }
    const found = await inspect();
    if (!found.ok) return found;
    const s = found.value;
    let keptBrokenAs: string | undefined;
    if (s.state === 'newer' || s.state === 'broken') {
      if (!saveOptions.replaceBroken) {
        return fail(
          s.state === 'newer'
            ? newerFailure(path, s.version, 'Nothing was saved')
            : {
                kind: 'settings',
                message: `Not saved: ${path} is broken (${s.detail}) and was left untouched. Fix it, or replace it (it will be kept as ${SETTINGS_FILE_NAME}.broken-<time>)`,
              },
        );
      }
      const kept = await keepCopy(path, now());
      if (!kept.ok) return kept;
      keptBrokenAs = kept.value;
    } else {
      await mkdir(stateDir, { recursive: true, mode: 0o700 }).catch(() => undefined);
    }
    const written = await writeAtomically(path, `${JSON.stringify(valid.value, null, 2)}\n`);
    if (!written.ok) return written;
    return ok(keptBrokenAs === undefined ? { path } : { path, keptBrokenAs });
  };

  const save = (settings: Settings, saveOptions: SaveOptions = {}): Promise<Result<SaveReport>> => {
    const run = queue.then(() => saveNow(settings, saveOptions));
    queue = run.catch(() => undefined);
    return run;
  };

  return { path, inspect, load, save };
}

async function inspectFile(path: string): Promise<Result<SettingsFileState>> {
  let bytes: Buffer;
  try {
    // O_NONBLOCK: a FIFO in its place opens at once (and is then refused) instead of waiting.
    const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) {
        return fail({
          kind: 'special-file',
          path,
          what: 'settings file',
          type: fileTypeWords(stats),
        });
      }
      const { size } = stats;
      if (size > MAX_SETTINGS_BYTES) {
        return ok({
          state: 'broken',
          detail: `it is ${size} bytes, far more than a settings file holds`,
        });
      }
      bytes = await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return ok({ state: 'missing' });
    return fail(ioFailure(path, 'reading', error));
  }
  let json: unknown;
  try {
    // A byte order mark (some Windows editors write one) is not part of the JSON.
    json = JSON.parse(bytes.toString('utf8').replace(/^\uFEFF/, ''));
  } catch (error) {
    const reason = bytes.length === 0 ? 'it is empty' : (error as Error).message;
    return ok({ state: 'broken', detail: `not valid JSON (${reason})` });
  }
  const newer = newerSettingsVersion(json);
  if (newer !== undefined) return ok({ state: 'newer', version: newer });
  const valid = validateSettings(json);
  if (!valid.ok) {
    const detail = valid.failure.kind === 'usage' ? valid.failure.message : valid.failure.kind;
    return ok({ state: 'broken', detail });
  }
  return ok({ state: 'valid', settings: valid.value });
}

function newerFailure(path: string, version: number, what: string): Failure {
  return {
    kind: 'settings',
    message: `${path} was written by a newer version of prosody-active-users (settings version ${version}; this one knows version ${SETTINGS_VERSION}). ${what}, and the file was left untouched: update prosody-active-users`,
  };
}

function ioFailure(path: string, doing: string, error: unknown): Failure {
  const e = error as NodeJS.ErrnoException;
  if (e.code === 'EACCES' || e.code === 'EPERM') {
    return { kind: 'permission-denied', path, what: 'settings file' };
  }
  return { kind: 'settings', message: `Failed ${doing} ${path}: ${e.message}` };
}

/** `20260124T120000Z`: sorts by time, and has no ':' (not allowed in Windows file names). */
function compactUtc(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/[-:]/g, '');
}

/** Copies the file to `settings.json.broken-<time>[-n]`, never over an existing file. */
async function keepCopy(path: string, at: Date): Promise<Result<string>> {
  const base = `${path}.broken-${compactUtc(at)}`;
  for (let n = 1; n < 1000; n++) {
    const target = n === 1 ? base : `${base}-${n}`;
    try {
      await copyFile(path, target, constants.COPYFILE_EXCL);
      return ok(target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      return fail(ioFailure(target, 'keeping a copy of the old settings as', error));
    }
  }
  return fail({ kind: 'settings', message: `Too many copies named ${basename(base)}-N already` });
}

/** Temporary file, fsync, rename, fsync the directory. */
async function writeAtomically(path: string, text: string): Promise<Result<void>> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      // The creation mode is reduced by the umask; set it outright.
      await handle.chmod(0o600);
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    return fail(ioFailure(path, 'writing', error));
  }
  await syncDirectory(dir);
  return ok(undefined);
}

/** Makes the rename durable. Windows cannot open a directory for fsync; there rename is enough. */
async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some file systems refuse fsync on a directory; the data itself is already synced.
  }
}
