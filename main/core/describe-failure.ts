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
    case 'corrupt':
      return `${f.path} could not be read (${f.detail}): check that it is Prosody's data, not a partial copy.`;
    case 'too-large':
      return `${f.path} is ${f.size} bytes, above the ${f.limit}-byte limit for activity data: check that the path points at Prosody's data.`;
    case 'busy':
      return `${f.path} is locked by a writer: try again in a moment (WAL mode, sqlite_tune = "normal" on Prosody 13, avoids this).`;
    case 'no-activity-records':
      return `No activity records in ${f.source}: enable mod_lastlog2 (Prosody 0.12, from prosody-modules) or mod_account_activity (Prosody 13) in modules_enabled, then wait for users to log in.`;
    case 'unsupported-storage':
      return `${f.detail}: point --db at a SQLite file or --data-dir at Prosody's internal storage.`;
    case 'no-prosody-data':
      return `No Prosody data found (looked in ${f.looked.join(', ')}): pass --db FILE or --data-dir DIR.`;
  }
}
