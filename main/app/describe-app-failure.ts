/**
 * The window's sentence for a failure: the CLI's (describe-failure.ts) wherever that fits, and the
 * app's own next step wherever the CLI's names a command-line option or an environment variable the
 * app user never sees.
 */
import { dbLoginRules, describeFailure, describeStateFile } from '../core/describe-failure.js';
import type { Failure } from '../core/failure.js';

export function describeAppFailure(f: Failure): string {
  switch (f.kind) {
    case 'usage':
      return `${f.message}.`;
    case 'not-found':
      return f.what === 'private key'
        ? `No private key at ${f.path}: check the identity file in Settings.`
        : describeFailure(f);
    case 'no-prosody-data':
      return `No Prosody data found (looked in ${f.looked.join(', ')}): in Settings, give the SQLite database or the data folder instead of finding them from Prosody's config.`;
    case 'unsupported-storage':
      return `${f.detail}: in Settings, point this server at a SQLite database or at Prosody's data folder.`;
    case 'host-key-unknown':
      return `${f.host} is not in known_hosts; its ${f.keyType} key is ${f.fingerprint}. Open Settings and press Test connection: if that is the server's key, trust it there.`;
    case 'auth':
      if (f.tooManyKeys) {
        return `${f.host} hung up after too many refused keys as ${f.user} (tried ${f.tried.join(', ')}; its MaxAuthTries): set the identity file in Settings and load that key into ssh-agent, or set "IdentitiesOnly yes" for this host in ~/.ssh/config.`;
      }
      return `${f.host} refused authentication as ${f.user} (tried ${f.tried.length > 0 ? f.tried.join(', ') : 'no method'}): check the user name, load the key into ssh-agent, or set the identity file or password in Settings.`;
    case 'key-passphrase':
      return f.wrong
        ? `The passphrase for ${f.path} is wrong: correct it in Settings, or load the key into ssh-agent.`
        : `The key ${f.path} is protected by a passphrase: enter it in Settings, or load the key into ssh-agent.`;
    case 'db-auth':
      return `${f.where} refused the login as ${f.user} (${f.detail}): check the database password in Settings, and ${dbLoginRules(f.engine)}.`;
    case 'db-permission':
      return `${f.where} does not let ${f.user} read the prosody table (${f.detail}): GRANT SELECT ON prosody TO ${f.user} on the database.`;
    case 'db-missing':
      return f.what === 'database'
        ? `${f.where} has no database ${f.name}: check sql = { database = … } in Prosody's config, or the database URL in Settings.`
        : describeFailure(f);
    case 'db-unreachable':
      return `Cannot reach ${f.where} (${f.detail}): check the database's host and port in Prosody's config or in the database URL in Settings, and that it is running.`;
    case 'sql-config':
      return `${f.detail}: fix Prosody's sql = { … } setting, or give the database URL in Settings.`;
    case 'ssh-config':
      return `Cannot use the SSH config ${f.path} (${f.detail}): fix it, then refresh.`;
    case 'state-file':
      return describeStateFile(f, "move the app's data folder");
    default:
      return describeFailure(f);
  }
}
