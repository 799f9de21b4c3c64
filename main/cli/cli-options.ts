import { parseArgs } from 'node:util';
import { parseTime } from '../core/parse-time.js';
import { type Result, fail, ok } from '../core/failure.js';
import { DEFAULT_PROSODY_CONFIG } from '../sources/discover-sources.js';

export type OutputFormat = 'table' | 'json' | 'openmetrics';

export interface CliOptions {
  help: boolean;
  version: boolean;
  db?: string;
  dataDir?: string;
  /** Prosody's config, for finding the data when neither --db nor --data-dir is given. */
  config: string;
  /** Counting moment, Unix seconds; undefined means now. */
  at?: number;
  format: OutputFormat;
}

export const HELP = `Usage: prosody-active-users [options]

Counts the daily, weekly and monthly active users (DAU/WAU/MAU) of a Prosody XMPP server from
mod_lastlog2's records (Prosody 13: mod_account_activity), exactly as mod_measure_active_users does.

Where the records are (default: found the way Prosody finds them, from /etc/prosody/prosody.cfg.lua,
else /var/lib/prosody):
  --db FILE          Prosody's SQL storage in a SQLite file (opened read-only)
  --data-dir DIR     Prosody's internal storage (its data_path, e.g. /var/lib/prosody)
  --config FILE      the Prosody config to find the data from (default ${DEFAULT_PROSODY_CONFIG})

Counting:
  --at TIME          count as of TIME: Unix seconds or ISO 8601 (default: now)

Output (default: a table):
  --json             one JSON object: {"at", "hosts": {host: {"dau", "wau", "mau", ...}}, "total", ...}
  --openmetrics      OpenMetrics text with Prosody's own metric names

  -h, --help         show this help
  -V, --version      show the version

Exit status: 0 on success, 1 when the records could not be read, 2 on a usage error.
`;

/** Parses argv (without node and script). Usage errors are failures of kind 'usage'. */
export function parseCliOptions(argv: readonly string[]): Result<CliOptions> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
        db: { type: 'string' },
        'data-dir': { type: 'string' },
        config: { type: 'string' },
        at: { type: 'string' },
        json: { type: 'boolean' },
        openmetrics: { type: 'boolean' },
      },
    }));
  } catch (e) {
    return fail({ kind: 'usage', message: (e as Error).message.replace(/\.$/, '') });
  }
  if (values.db !== undefined && values['data-dir'] !== undefined) {
    return fail({ kind: 'usage', message: '--db and --data-dir cannot be used together' });
  }
  if (values.json && values.openmetrics) {
    return fail({ kind: 'usage', message: '--json and --openmetrics cannot be used together' });
  }
  for (const name of ['db', 'data-dir', 'config'] as const) {
    if (values[name] === '') return fail({ kind: 'usage', message: `--${name} needs a path` });
  }
  let at: number | undefined;
  if (values.at !== undefined) {
    const parsed = parseTime(values.at);
    if (parsed === null) {
      return fail({
        kind: 'usage',
        message: `--at ${JSON.stringify(values.at)} is not Unix seconds or an ISO 8601 time (e.g. 2026-11-24T12:00:00Z)`,
      });
    }
    at = parsed;
  }
  return ok({
    help: values.help ?? false,
    version: values.version ?? false,
    db: values.db,
    dataDir: values['data-dir'],
    config: values.config ?? DEFAULT_PROSODY_CONFIG,
    at,
    format: values.json ? 'json' : values.openmetrics ? 'openmetrics' : 'table',
  });
}
