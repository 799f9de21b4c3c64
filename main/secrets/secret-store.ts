/**
 * Where passwords and key passphrases live, never in settings.json. The app implements this with
 * Electron's safeStorage (the system keychain); the CLI with environment variables and a prompt
 * (env-secret-store.ts), and stores nothing. ssh-agent, which needs no secret here at all, is the
 * recommended default.
 */
import type { Result } from '../core/failure.js';

/** A login password, the passphrase of the profile's private key, or its database's password. */
export type SecretKind = 'password' | 'passphrase' | 'db-password';

export interface SecretStore {
  /** The secret, or null when there is none (the caller then tries without it, or gives up). */
  get(profile: string, kind: SecretKind): Promise<string | null>;
  /** Keeps the secret for the profile; a store that cannot keep secrets fails with the reason. */
  set(profile: string, kind: SecretKind, value: string): Promise<Result<void>>;
  /** Forgets the secret (a wrong password, a deleted profile); forgetting nothing is fine. */
  delete(profile: string, kind: SecretKind): Promise<Result<void>>;
}
