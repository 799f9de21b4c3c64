import { parseArgs } from 'node:util';
import { type Result, fail, ok } from '../core/failure.js';
import { formatDuration, parseDuration } from '../core/duration.js';
import { CONNECT_TIMEOUT_RULE, INTERVAL_RULE, fitsRule } from '../core/number-rules.js';
import { MAX_EVENT_SECONDS, isUsableTimestamp } from '../core/activity-record.js';
import { parseTime } from '../core/parse-time.js';
import type { SourceSpec } from '../monitor/open-sources.js';
import { DEFAULT_PROSODY_CONFIG } from '../sources/discover-sources.js';
import { type SqlServerTarget, parseSqlUrl } from '../sources/sql-server-target.js';
import { PASSPHRASE_ENV, PASSWORD_ENV, type SshOptions } from '../ssh/ssh-options.js';

export type OutputFormat = 'table' | 'json' | 'openmetrics';

/** The CLI's name for the shared SSH options. */
export type SshCliOptions = SshOptions;

export interface CliOptions {
  /** `history` prints what the monitor recorded; otherwise count (once, or --watch). */
  command: 'count' | 'history';
  help: boolean;
  version: boolean;
  db?: string;
  dataDir?: string;
  /** Prosody's config, for finding the data when neither --db nor --data-dir is given. */
  config: string;
  /** True when --config was given: a config that cannot be read is then an error, not a notice. */
  configGiven?: boolean;
  ssh?: SshCliOptions;
  /** `--sql URL` without --ssh: a database reached from this machine. */
  sql?: Omit<SqlServerTarget, 'password'>;
  /** Prints the least-privilege recipe (SSH key and database role) for --sql, then exits. */
  printDbRecipe: boolean;
  /** Prints the authorized_keys options for a monitoring key, then exits. */
  printForcedCommand: boolean;
  /** Prints how to give the SSH account the live view (the admin socket), then exits. */
  printLiveRecipe: boolean;
  /** Counting moment, Unix seconds; undefined means now. */
  at?: number;
  format: OutputFormat;
  verbose: boolean;
  /** Count at start and every interval, record history, alert. */
  watch: boolean;
  /** Seconds between counts in watch mode (default: the profile's, else 1 hour). */
  interval?: number;
  /** A saved server profile from settings.json. */
  profile?: string;
  /** Everything the monitor keeps (settings, history); default the platform's config folder. */
  stateDir?: string;
  /** history output */
  historyFormat: 'table' | 'json' | 'csv';
}

export { PASSPHRASE_ENV, PASSWORD_ENV };
export { DB_PASSWORD_ENV } from '../ssh/ssh-options.js';

export const HELP = `Usage: prosody-active-users [options]
       prosody-active-users --watch [--profile NAME | options] [--interval 1h]
       prosody-active-users history [--json | --csv] [--profile NAME]

Counts the daily, weekly and monthly active users (DAU/WAU/MAU) of a Prosody XMPP server from
mod_lastlog2's records, exactly as mod_measure_active_users does (Prosody 13: only existing, enabled
accounts).

Where the records are (default: found the way Prosody finds them, from /etc/prosody/prosody.cfg.lua,
else /var/lib/prosody):
  --db FILE             Prosody's SQL storage in a SQLite file (opened read-only)
  --data-dir DIR        Prosody's internal storage (its data_path, e.g. /var/lib/prosody)
  --config FILE         the Prosody config to find the data from (default ${DEFAULT_PROSODY_CONFIG});
                        PostgreSQL and MySQL/MariaDB (sql = { driver = … }) are read from it too
  --sql URL             a PostgreSQL or MySQL/MariaDB database: postgres://USER@HOST:PORT/DB,
                        mysql://USER@HOST/DB, or postgres://USER@/DB?socket=/run/postgresql/.s.PGSQL.5432;
                        with --ssh, as the server reaches it. Password: PROSODY_ACTIVE_USERS_DB_PASSWORD
  --print-db-recipe     with --sql: print the least-privilege SSH key line and database role, then exit

On a server over SSH (nothing is installed there):
  --ssh [USER@]HOST[:PORT]  the server, or a Host alias from ~/.ssh/config
  --identity FILE       a private key (tried after ssh-agent; default ~/.ssh/id_ed25519, id_ecdsa, id_rsa)
  --ssh-config FILE     another ssh_config (default ~/.ssh/config): HostName, User, Port, IdentityFile, ProxyJump
  --known-hosts FILE    another known_hosts (default ~/.ssh/known_hosts); host keys are always checked
  --accept-new-host-key trust an unknown host's key and add it to known_hosts (like accept-new)
  --remote-db PATH      the SQLite database on the server
  --remote-data-dir DIR Prosody's internal storage on the server
  --remote-config FILE  Prosody's config on the server, to find the data (default ${DEFAULT_PROSODY_CONFIG})
  --method M            for SQLite: auto (query with the server's sqlite3, else copy), query or copy
  --timeout SECONDS     to connect and log in (default 15, at most 600); each remote step gets 8 times as long
  --print-forced-command  print the authorized_keys options that let a key run only the query
                        for --remote-db PATH, then exit
  --admin-socket PATH   Prosody's admin socket on the server (default: admin_socket from its config,
                        else prosody.sock in its data_path); asked for who is online now and which
                        modules are loaded, where the SSH account may open it
  --no-live             do not ask the live server: the stored records' figures only
  --print-live-recipe   print how to give the SSH account the live view, and its risk, then exit
  Key passphrase: ${PASSPHRASE_ENV}, or asked in a terminal. Password: ${PASSWORD_ENV}, or asked.

Counting:
  --at TIME             count as of TIME: Unix seconds or ISO 8601 (default: now)

Monitoring:
  --profile NAME        a saved server from settings.json in the state folder
  --watch               count at start and every interval, record history, print and notify alerts;
                        Ctrl-C or SIGTERM stops cleanly
  --interval DURATION   between counts in watch mode, e.g. 1h, 30m, 10s (default 1h, at most 7d)
  --state-dir DIR       where settings, history and the account cache live
                        (default $XDG_CONFIG_HOME/prosody-active-users); given to a one-shot count
                        over SSH, the cache there makes the next count fetch only what changed
  history               print the recorded history: a table, --json or --csv

Output (default: a table):
  --json                one JSON object: {"at", "hosts": {host: {"dau", "wau", "mau", ...}}, "total", ...}
  --openmetrics         OpenMetrics text with Prosody's own metric names
  -v, --verbose         say each step, and the method, bytes received and time taken, on stderr

  -h, --help            show this help
  -V, --version         show the version

Exit status: 0 on success, 1 when the records could not be read, 2 on a usage error, 141 when
stdout was closed early (| head), as for a program ended by SIGPIPE.
`;

const usage = (message: string) => fail<CliOptions>({ kind: 'usage', message });

/** Parses argv (without node and script). Usage errors are failures of kind 'usage'. */
export function parseCliOptions(argv: readonly string[]): Result<CliOptions> {
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: true,
      options: {
        watch: { type: 'boolean' },
        interval: { type: 'string' },
        profile: { type: 'string' },
        'state-dir': { type: 'string' },
        csv: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
        verbose: { type: 'boolean', short: 'v' },
        db: { type: 'string' },
        'data-dir': { type: 'string' },
        config: { type: 'string' },
        ssh: { type: 'string' },
        identity: { type: 'string' },
        'ssh-config': { type: 'string' },
        'known-hosts': { type: 'string' },
        'accept-new-host-key': { type: 'boolean' },
        'remote-db': { type: 'string' },
        'remote-data-dir': { type: 'string' },
        'remote-config': { type: 'string' },
        method: { type: 'string' },
        timeout: { type: 'string' },
        'print-forced-command': { type: 'boolean' },
        'admin-socket': { type: 'string' },
        'no-live': { type: 'boolean' },
        'print-live-recipe': { type: 'boolean' },
        sql: { type: 'string' },
        'print-db-recipe': { type: 'boolean' },
        at: { type: 'string' },
        json: { type: 'boolean' },
        openmetrics: { type: 'boolean' },
      },
    }));
  } catch (e) {
    // Node's own text spans lines (a hint follows); a usage error is one line.
    return usage(
      (e as Error).message
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '')
        .map((l) => (/[.?!]$/.test(l) ? l : `${l}.`))
        .join(' ')
        .replace(/\.$/, ''),
    );
  }
  const [command = 'count', ...extra] = positionals;
  if (command !== 'count' && command !== 'history') {
    return usage(`unknown command ${JSON.stringify(command)} (the only command is history)`);
  }
  if (extra.length > 0) return usage(`unexpected argument ${JSON.stringify(extra[0])}`);
  if (values.csv && command !== 'history') return usage('--csv is for the history command');
  if (command === 'history' && (values.watch || values.openmetrics)) {
    return usage('history takes --json or --csv');
  }
  let interval: number | undefined;
  if (values.interval !== undefined) {
    const parsed = parseDuration(values.interval);
    if (parsed === null) {
      return usage(
        `--interval ${JSON.stringify(values.interval)} is not a duration such as 1h, 30m or 10s`,
      );
    }
    // The same rule as intervalSeconds in settings.json.
    if (!fitsRule(parsed, INTERVAL_RULE)) {
      return usage(
        `--interval ${JSON.stringify(values.interval)} must be from ${formatDuration(INTERVAL_RULE.min)} to ${formatDuration(INTERVAL_RULE.max)}`,
      );
    }
    interval = parsed;
  }
  if (interval !== undefined && !values.watch) return usage('--interval needs --watch');
  if (values.watch && values.at !== undefined) return usage('--at cannot be used with --watch');
  let sql: Omit<SqlServerTarget, 'password'> | undefined;
  if (values.sql !== undefined) {
    const parsed = parseSqlUrl(values.sql);
    if (!parsed.ok) return parsed as Result<never>;
    sql = parsed.value;
  }
  if (values['print-db-recipe'] && sql === undefined)
    return usage('--print-db-recipe needs --sql URL');
  if (
    sql !== undefined &&
    (values['remote-db'] !== undefined || values['remote-data-dir'] !== undefined)
  ) {
    return usage('--sql cannot be used with --remote-db or --remote-data-dir');
  }
  const sources = ['db', 'data-dir', 'profile'].filter((k) => values[k as 'db'] !== undefined);
  if (values.ssh !== undefined) sources.push('ssh');
  else if (values.sql !== undefined) sources.push('sql');
  if (sources.length > 1) {
    return usage(`${sources.map((s) => `--${s}`).join(' and ')} cannot be used together`);
  }
  if (values.json && values.openmetrics) {
    return usage('--json and --openmetrics cannot be used together');
  }
  for (const name of [
    'db',
    'data-dir',
    'config',
    'ssh',
    'identity',
    'ssh-config',
    'known-hosts',
    'remote-db',
    'remote-data-dir',
    'remote-config',
    'admin-socket',
  ] as const) {
    if (values[name] === '') return usage(`--${name} needs a value`);
  }
  const sshOnly = [
    'identity',
    'ssh-config',
    'known-hosts',
    'accept-new-host-key',
    'remote-db',
    'remote-data-dir',
    'remote-config',
    'method',
    'timeout',
    'admin-socket',
    'no-live',
  ] as const;
  const strayed = sshOnly.find((k) => values[k] !== undefined);
  if (
    strayed &&
    values.ssh === undefined &&
    !(values['print-forced-command'] && strayed === 'remote-db')
  ) {
    return usage(`--${strayed} needs --ssh`);
  }
  if (values['admin-socket'] !== undefined && !values['admin-socket'].startsWith('/')) {
    return usage('--admin-socket must be an absolute path');
  }
  if (values['admin-socket'] !== undefined && values['no-live']) {
    return usage('--admin-socket and --no-live cannot be used together');
  }
  if (values['remote-db'] !== undefined && values['remote-data-dir'] !== undefined) {
    return usage('--remote-db and --remote-data-dir cannot be used together');
  }
  if (values['print-forced-command'] && values['remote-db'] === undefined) {
    return usage('--print-forced-command needs --remote-db PATH');
  }
  const method = values.method ?? 'auto';
  if (method !== 'auto' && method !== 'query' && method !== 'copy') {
    return usage(`--method must be auto, query or copy, not ${JSON.stringify(method)}`);
  }
  let connectTimeout = 15;
  if (values.timeout !== undefined) {
    connectTimeout = Number(values.timeout);
    if (values.timeout.trim() === '' || !fitsRule(connectTimeout, CONNECT_TIMEOUT_RULE)) {
      return usage(
        `--timeout must be ${CONNECT_TIMEOUT_RULE.what}, not ${JSON.stringify(values.timeout)}`,
      );
    }
  }
  let at: number | undefined;
  if (values.at !== undefined) {
    const parsed = parseTime(values.at);
    if (parsed === null) {
      return usage(
        `--at ${JSON.stringify(values.at)} is not Unix seconds or an ISO 8601 time (e.g. 2026-11-24T12:00:00Z)`,
      );
    }
    if (!isUsableTimestamp(parsed)) {
      return usage(
        `--at ${JSON.stringify(values.at)} is beyond what a date can be (at most ${MAX_EVENT_SECONDS} seconds either side of 1970, about the year 275760)`,
      );
    }
    at = parsed;
  }
  return ok({
    command,
    watch: values.watch ?? false,
    interval,
    profile: values.profile,
    stateDir: values['state-dir'],
    historyFormat: values.json ? 'json' : values.csv ? 'csv' : 'table',
    help: values.help ?? false,
    version: values.version ?? false,
    verbose: values.verbose ?? false,
    db: values.db,
    dataDir: values['data-dir'],
    config: values.config ?? DEFAULT_PROSODY_CONFIG,
    configGiven: values.config !== undefined,
    printForcedCommand: values['print-forced-command'] ?? false,
    printLiveRecipe: values['print-live-recipe'] ?? false,
    printDbRecipe: values['print-db-recipe'] ?? false,
    sql: values.ssh === undefined ? sql : undefined,
    ssh:
      values.ssh === undefined && !values['print-forced-command']
        ? undefined
        : {
            target: values.ssh ?? '',
            identity: values.identity,
            sshConfig: values['ssh-config'],
            knownHosts: values['known-hosts'],
            acceptNewHostKey: values['accept-new-host-key'] ?? false,
            remoteDb: values['remote-db'],
            remoteDataDir: values['remote-data-dir'],
            remoteConfig: values['remote-config'] ?? DEFAULT_PROSODY_CONFIG,
            method,
            connectTimeout,
            stepTimeout: connectTimeout * 8,
            live: !(values['no-live'] ?? false) && at === undefined,
            adminSocket: values['admin-socket'],
            sql,
          },
    at,
    format: values.json ? 'json' : values.openmetrics ? 'openmetrics' : 'table',
  });
}

/** Where the one-shot options say to read. */
export function sourceSpecOf(options: CliOptions): SourceSpec {
  if (options.ssh !== undefined) return { kind: 'ssh', ssh: options.ssh };
  if (options.sql !== undefined) return { kind: 'sql', sql: options.sql };
  if (options.db !== undefined) return { kind: 'db', path: options.db };
  if (options.dataDir !== undefined) return { kind: 'data-dir', path: options.dataDir };
  return { kind: 'discover', config: options.config, configGiven: options.configGiven ?? false };
}
