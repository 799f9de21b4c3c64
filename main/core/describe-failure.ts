import type { Failure } from './failure.js';

/** One sentence: what went wrong, then what to do about it. */
export function describeFailure(f: Failure): string {
  switch (f.kind) {
    case 'usage':
      return `${f.message}. Run with --help to see the options.`;
    case 'not-found':
      return `No ${f.what} at ${f.path}: check the path (Prosody's data_path, or the database named in sql = { database = … }).`;
    case 'permission-denied':
      return `Permission denied reading the ${f.what} at ${f.path}: run as a user in the prosody group, or grant read access to it.`;
    case 'symlink-loop':
      return `${f.path} is a loop of symbolic links: point the path at the ${f.what} itself.`;
    case 'corrupt':
      return `${f.path} could not be read (${f.detail}): check that it is Prosody's data, not a partial copy.`;
    case 'too-large':
      return `${f.path} is ${f.size} bytes, above the ${f.limit}-byte limit for activity data: check that the path points at Prosody's data.`;
    case 'settings':
    case 'notify':
      return `${f.message}.`;
    case 'busy':
      return `${f.path} is locked by a writer: try again in a moment (WAL mode, sqlite_tune = "normal" on Prosody 13, avoids this).`;
    case 'wal-read-only':
      return `${f.path} is a WAL-mode database in a folder this user cannot write to, and its -shm index file is missing (Prosody is stopped), so SQLite cannot read it here: run as a user who may write to that folder (Prosody's own), start Prosody (it creates the -shm file), or copy the file with its -wal elsewhere and pass the copy to --db.`;
    case 'kept-changing':
      return f.method === 'copy'
        ? `${f.path} changed during each of ${f.attempts} copies (Prosody kept writing to it), so no copy could be counted: try again in a moment, or install sqlite3 on the server so that the remote query reads it in place (--method query).`
        : `${f.path} changed during each of ${f.attempts} reads (Prosody kept writing to it), so no read could be counted: try again in a moment.`;
    case 'no-activity-records':
      return `No activity records in ${f.source}: enable mod_lastlog2 (from prosody-modules; Prosody 13's mod_measure_active_users reads it too, not mod_account_activity) in modules_enabled, then wait for users to log in.`;
    case 'unsupported-storage':
      return `${f.detail}: point --db at a SQLite file or --data-dir at Prosody's internal storage.`;
    case 'no-prosody-data':
      return `No Prosody data found (looked in ${f.looked.join(', ')}): pass --db FILE or --data-dir DIR (over SSH: --remote-db or --remote-data-dir).`;
    case 'network':
      return `Cannot reach ${f.host} port ${f.port} (${f.detail}): check the host name, the port and that sshd is running.`;
    case 'timeout':
      return `${f.host} did not answer within ${f.seconds} s while ${f.step}: check the network, or try again later.`;
    case 'host-key-unknown':
      return `${f.host} is not in known_hosts; its ${f.keyType} key is ${f.fingerprint}. If that is the server's key, connect again with --accept-new-host-key.`;
    case 'host-key-changed':
      return `WARNING: the host key of ${f.host} has changed (it now offers ${f.keyType} ${f.fingerprint}; ${f.knownHostsFile} line ${f.line} holds another): someone may be intercepting the connection. Nothing was sent. If the server was reinstalled, check the new key with its operator, then remove the old line.`;
    case 'host-key-revoked':
      return `The host key of ${f.host} (${f.fingerprint}) is marked @revoked in known_hosts: refusing to connect. Ask the server's operator for its current key.`;
    case 'auth':
      if (f.tooManyKeys) {
        return `${f.host} hung up after too many refused keys as ${f.user} (tried ${f.tried.join(', ')}; its MaxAuthTries): name the right key with --identity and load it into ssh-agent, or set "IdentitiesOnly yes" for this host in ~/.ssh/config.`;
      }
      return `${f.host} refused authentication as ${f.user} (tried ${f.tried.length > 0 ? f.tried.join(', ') : 'no method'}): check the user name, load the key into ssh-agent or pass --identity FILE.`;
    case 'key-format':
      return `The key ${f.path} is in ${f.format} format, which cannot be used: convert it to an OpenSSH key (ssh-keygen -p -f FILE, or puttygen FILE -O private-openssh -o NEW) or load it into ssh-agent.`;
    case 'key-passphrase':
      return f.wrong
        ? `The passphrase for ${f.path} is wrong: check ${f.envVar}, or load the key into ssh-agent.`
        : `The key ${f.path} is protected by a passphrase: set ${f.envVar}, run in a terminal to be asked, or load the key into ssh-agent.`;
    case 'ssh-config':
      return `Cannot use the SSH config ${f.path} (${f.detail}): fix it or pass --ssh-config FILE.`;
    case 'connection-lost':
      return `The connection to ${f.host} was lost while ${f.step}: nothing partial was used; try again.`;
    case 'remote-protocol':
      return `${f.host} answered with something other than activity data (${f.detail}): check that the account's forced command (if any) is the one from the README.`;
    case 'db-auth':
      return `${f.where} refused the login as ${f.user} (${f.detail}): check the password (Prosody's sql = { password = … }, or PROSODY_ACTIVE_USERS_DB_PASSWORD) and ${dbLoginRules(f.engine)}.`;
    case 'db-missing':
      return f.what === 'database'
        ? `${f.where} has no database ${f.name}: check sql = { database = … } in Prosody's config, or the database in --sql.`
        : `${f.where} has no ${f.name} table: check that this is the database Prosody uses, and that Prosody has run with storage = "sql".`;
    case 'db-permission':
      return `${f.where} does not let ${f.user} read the prosody table (${f.detail}): GRANT SELECT ON prosody TO ${f.user} (--print-db-recipe prints the whole setup).`;
    case 'db-unreachable':
      return `Cannot reach ${f.where} (${f.detail}): check the database's host and port in Prosody's config or --sql, and that it is running.`;
    case 'db-error':
      return `${f.where} failed (${f.detail}): check the database server's log.`;
    case 'special-file':
      return `The ${f.what} ${f.path} is ${f.type}, not a regular file: point at the file itself.`;
    case 'prosody-config':
      return `Cannot read Prosody's config ${f.path} (${f.detail}): fix it, or pass --db FILE or --data-dir DIR instead.`;
    case 'sql-config':
      return `${f.detail}: fix Prosody's sql = { … } setting, or pass --sql URL.`;
    case 'state-file':
      return describeStateFile(f, 'use --state-dir DIR');
    case 'unexpected':
      return `Unexpected error (${f.detail}): it was logged; please report it. The next refresh tries again.`;
  }
}

/** The state-file sentence; `elsewhere` says how to point the monitor at another folder. */
export function describeStateFile(
  f: Extract<Failure, { kind: 'state-file' }>,
  elsewhere: string,
): string {
  switch (f.problem) {
    case 'disk-full':
      return `The disk holding the ${f.what} ${f.path} is full, so nothing was recorded: free some space there, or ${elsewhere}.`;
    case 'io-error':
      return `The ${f.what} ${f.path} could not be read or written (${f.detail}): check the disk (its free space and the system log), or ${elsewhere}.`;
    case 'unusable':
      return `${f.path} is not a usable ${f.what} (${f.detail}): move it aside (a new one is started in its place), or ${elsewhere}.`;
  }
}

/** Where a database server decides who may log in from where: the second thing to check. */
export function dbLoginRules(engine: 'postgres' | 'mysql'): string {
  return engine === 'postgres'
    ? "the server's pg_hba.conf (a socket login without a password needs peer for a role named like the SSH account)"
    : "that the user exists for the address it logs in from ('user'@'127.0.0.1' through a TCP forward; IDENTIFIED VIA unix_socket, named like the SSH account, through the socket)";
}
