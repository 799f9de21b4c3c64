/**
 * The CLI's secret store: PROSODY_ACTIVE_USERS_PASSWORD and PROSODY_ACTIVE_USERS_PASSPHRASE, else
 * a question on the terminal when a prompt is given. It writes nothing anywhere: `set` fails and
 * says to use ssh-agent. A prompted answer is remembered in memory for the process's lifetime (watch
 * mode refreshes every hour and must not ask each time) until `delete` forgets it, e.g. after the
 * server refused it.
 *
 * The variables hold one secret for every profile: with several profiles that need different
 * secrets, use ssh-agent.
 */
import { fail, ok, type Result } from '../core/failure.js';
import { DB_PASSWORD_ENV, PASSPHRASE_ENV, PASSWORD_ENV } from '../ssh/ssh-options.js';
import type { SecretKind, SecretStore } from './secret-store.js';

export interface EnvSecretStoreOptions {
  /** The environment (process.env). A variable that is set counts, even when empty. */
  env: Readonly<Record<string, string | undefined>>;
  /** Asks without echo (prompt-hidden.ts); null when it cannot ask (no terminal) or was cancelled. */
  prompt?: (question: string) => Promise<string | null>;
}

const ENV_NAMES: Record<SecretKind, string> = {
  password: PASSWORD_ENV,
  passphrase: PASSPHRASE_ENV,
  'db-password': DB_PASSWORD_ENV,
};

export function createEnvSecretStore(options: EnvSecretStoreOptions): SecretStore {
  const { env, prompt } = options;
  // Answers (and questions still open, so that two refreshes ask once) per profile and kind.
  const answers = new Map<string, Promise<string | null>>();
  const key = (profile: string, kind: SecretKind): string => `${kind}\0${profile}`;

  return {
    get(profile, kind) {
      const fromEnv = env[ENV_NAMES[kind]];
      if (fromEnv !== undefined) return Promise.resolve(fromEnv);
      if (prompt === undefined) return Promise.resolve(null);
      const k = key(profile, kind);
      const known = answers.get(k);
      if (known !== undefined) return known;
      const question =
        kind === 'password'
          ? `Password for profile "${profile}": `
          : `Key passphrase for profile "${profile}": `;
      const asked = prompt(question).then(
        (answer) => {
          // Nothing to remember when no answer came: ask again next time.
          if (answer === null) answers.delete(k);
          return answer;
        },
        () => {
          answers.delete(k);
          return null;
        },
      );
      answers.set(k, asked);
      return asked;
    },

    set(_profile, kind): Promise<Result<void>> {
      const advice =
        kind === 'password'
          ? `use a key loaded into ssh-agent (recommended), or set ${PASSWORD_ENV}`
          : `load the key into ssh-agent (recommended), or set ${PASSPHRASE_ENV}`;
      return Promise.resolve(
        fail({ kind: 'usage', message: `The command line does not store secrets: ${advice}` }),
      );
    },

    delete(profile, kind): Promise<Result<void>> {
      answers.delete(key(profile, kind));
      return Promise.resolve(ok(undefined));
    },
  };
}
