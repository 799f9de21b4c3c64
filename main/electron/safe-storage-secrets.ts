/**
 * The app's SecretStore: passwords and key passphrases encrypted with Electron's safeStorage (the
 * macOS Keychain, Windows DPAPI, the Linux secret service or KWallet), kept as base64 blobs in
 * `secrets.json` next to settings.json (mode 0600, written atomically). Runs in the main process.
 *
 * When the only thing safeStorage has is its plain-text fallback (Linux without a keyring:
 * `getSelectedStorageBackend()` is 'basic_text', which Electron's docs name as the way to detect
 * it) or encryption is unavailable, nothing is stored and `set` says so; ssh-agent, which needs no
 * stored secret, keeps working. The asynchronous API is used: Electron deprecated the synchronous
 * one in favour of it.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { SafeStorage } from 'electron';
import { fail, ok, type Result } from '../core/failure.js';
import type { SecretKind, SecretStore } from '../secrets/secret-store.js';

export const SECRETS_FILE_NAME = 'secrets.json';

/** What this store needs of Electron's safeStorage. */
export type SafeStorageLike = Pick<
  SafeStorage,
  | 'isAsyncEncryptionAvailable'
  | 'encryptStringAsync'
  | 'decryptStringAsync'
  | 'getSelectedStorageBackend'
>;

export interface SafeStorageSecretsOptions {
  safeStorage: SafeStorageLike;
  /** The folder of settings.json (the state directory). */
  dir: string;
  platform: NodeJS.Platform;
  /** Unexpected problems (an unreadable file, a blob that no longer decrypts), for the log. */
  onError?(error: unknown): void;
}

/** The file: base64 blobs by profile name and kind. */
interface SecretsFile {
  version: 1;
  secrets: Record<string, Partial<Record<SecretKind, string>>>;
}

const ADVICE = 'Nothing was stored; ssh-agent keeps working without a stored secret';

export class SafeStorageSecretStore implements SecretStore {
  readonly path: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: SafeStorageSecretsOptions) {
    this.path = join(options.dir, SECRETS_FILE_NAME);
  }

  /** Whether secrets can be stored safely here, or the sentence that says why not. */
  async availability(): Promise<Result<void>> {
    const { safeStorage, platform } = this.options;
    if (platform === 'linux') {
      const backend = safeStorage.getSelectedStorageBackend();
      if (backend === 'basic_text') {
        return fail({
          kind: 'settings',
          message: `No system keyring was found (GNOME Keyring, KWallet or another secret service), so a password would be kept in plain text. ${ADVICE}; start a keyring and restart the app to store secrets`,
        });
      }
      if (backend === 'unknown') {
        return fail({
          kind: 'settings',
          message: `The system keyring is not ready yet. ${ADVICE}`,
        });
      }
    }
    let available = false;
    try {
      available = await safeStorage.isAsyncEncryptionAvailable();
    } catch (error) {
      this.options.onError?.(error);
    }
    if (!available) {
      return fail({
        kind: 'settings',
        message: `The system keychain cannot encrypt secrets right now. ${ADVICE}`,
      });
    }
    return ok(undefined);
  }

  get(profile: string, kind: SecretKind): Promise<string | null> {
    return this.serially(async () => {
      const file = await this.read();
      const blob = own(file.secrets, profile)?.[kind];
      if (blob === undefined) return null;
      try {
        const { result, shouldReEncrypt } = await this.options.safeStorage.decryptStringAsync(
          Buffer.from(blob, 'base64'),
        );
        if (shouldReEncrypt) {
          // The key was rotated: store the secret again under the new one (best effort).
          await this.put(file, profile, kind, result).catch((e: unknown) =>
            this.options.onError?.(e),
          );
        }
        return result;
      } catch (error) {
        this.options.onError?.(error);
        return null;
      }
    });
  }

  set(profile: string, kind: SecretKind, value: string): Promise<Result<void>> {
    return this.serially(async () => {
      const available = await this.availability();
      if (!available.ok) return available;
      try {
        await this.put(await this.read(), profile, kind, value);
        return ok(undefined);
      } catch (error) {
        return fail({
          kind: 'settings',
          message: `The secret for "${profile}" could not be stored in ${this.path}: ${(error as Error).message}`,
        });
      }
    });
  }

  delete(profile: string, kind: SecretKind): Promise<Result<void>> {
    return this.serially(async () => {
      const file = await this.read();
      const entry = own(file.secrets, profile);
      if (entry?.[kind] === undefined) return ok(undefined);
      const rest = { ...entry };
      delete rest[kind];
      const secrets = withEntry(file.secrets, profile, rest);
      try {
        await this.write({ version: 1, secrets });
        return ok(undefined);
      } catch (error) {
        return fail({
          kind: 'settings',
          message: `The secret for "${profile}" could not be removed from ${this.path}: ${(error as Error).message}`,
        });
      }
    });
  }

  private async put(file: SecretsFile, profile: string, kind: SecretKind, value: string) {
    const blob = (await this.options.safeStorage.encryptStringAsync(value)).toString('base64');
    const entry = { ...own(file.secrets, profile), [kind]: blob };
    await this.write({ version: 1, secrets: withEntry(file.secrets, profile, entry) });
  }

  /** The file's content; a missing file is no secrets, an unreadable one is logged and ignored. */
  private async read(): Promise<SecretsFile> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.options.onError?.(error);
      return { version: 1, secrets: {} };
    }
    try {
      const json = JSON.parse(text) as unknown;
      if (isSecretsFile(json)) return json;
      throw new Error(`${this.path} does not hold secrets in the expected form`);
    } catch (error) {
      this.options.onError?.(error);
      return { version: 1, secrets: {} };
    }
  }

  /** A temporary file (mode 0600) in the same folder, fsync, rename over the file. */
  private async write(file: SecretsFile): Promise<void> {
    const dir = dirname(this.path);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const temp = join(dir, `.${basename(this.path)}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const handle = await open(temp, 'wx', 0o600);
      try {
        await handle.chmod(0o600);
        await handle.writeFile(`${JSON.stringify(file, null, 2)}\n`, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, this.path);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** The entry of a profile, read safely whatever its name (`__proto__` included). */
function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** A copy of `secrets` with the profile's entry replaced (removed when it holds nothing). */
function withEntry(
  secrets: SecretsFile['secrets'],
  profile: string,
  entry: Partial<Record<SecretKind, string>>,
): SecretsFile['secrets'] {
  const entries = Object.entries(secrets).filter(([name]) => name !== profile);
  if (Object.keys(entry).length > 0) entries.push([profile, entry]);
  // fromEntries defines own properties: a profile named __proto__ stays a plain key.
  return Object.fromEntries(entries);
}

function isSecretsFile(json: unknown): json is SecretsFile {
  if (typeof json !== 'object' || json === null) return false;
  const { version, secrets } = json as { version?: unknown; secrets?: unknown };
  if (version !== 1 || typeof secrets !== 'object' || secrets === null) return false;
  return Object.values(secrets).every(
    (entry) =>
      typeof entry === 'object' &&
      entry !== null &&
      Object.values(entry as object).every((blob) => typeof blob === 'string'),
  );
}
