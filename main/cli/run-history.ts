import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describeFailure } from '../core/describe-failure.js';
import { FailureError } from '../core/failure.js';
import { historyCsv, historyJson } from '../core/history-export.js';
import { TOTAL_HOST } from '../core/monitor-types.js';
import { formatTime } from '../core/parse-time.js';
import { showControls } from '../core/terminal-text.js';
import type { CliOptions } from './cli-options.js';
import type { CliDeps } from './run-cli.js';
import { HISTORY_FILE } from '../config/state-files.js';
import type { MonitorCliDeps } from './run-watch.js';

/** `history`: what the monitor recorded, as a table, --json or --csv. */
export async function runHistory(
  options: CliOptions,
  deps: CliDeps & MonitorCliDeps,
  /** stdout without escaping, for --json and --csv. */
  exact: (text: string) => void,
): Promise<number> {
  const path = join(deps.stateDir(options.stateDir), HISTORY_FILE);
  if (!existsSync(path)) {
    deps.stderr(
      `prosody-active-users: no history at ${path} yet: run with --watch first (or pass --state-dir DIR).\n`,
    );
    return 1;
  }
  const opened = deps.readHistory(path);
  if (!opened.ok) {
    deps.stderr(`prosody-active-users: ${showControls(describeFailure(opened.failure))}\n`);
    return 1;
  }
  const exposed = deps.stateFolderWarning(deps.stateDir(options.stateDir));
  if (exposed) deps.stderr(`prosody-active-users: warning: ${exposed}\n`);
  const db = opened.value;
  try {
    const rows = [...db.exportRows(options.profile)];
    if (options.historyFormat === 'csv') exact(historyCsv(rows));
    else if (options.historyFormat === 'json') exact(historyJson(rows));
    else {
      for (const r of rows) {
        const what = r.ok
          ? `${r.host === TOTAL_HOST ? 'TOTAL' : r.host}  DAU ${r.figures?.dau} · WAU ${r.figures?.wau} · MAU ${r.figures?.mau}`
          : `failed (${r.errorKind}): ${r.errorMessage}`;
        deps.stdout(`${showControls(`${formatTime(r.at)}  ${r.profile}  ${what}`)}\n`);
      }
      if (rows.length === 0) deps.stdout('No refreshes recorded yet.\n');
    }
    return 0;
  } catch (e) {
    // A damaged page found while reading, a disk error: one line, as at opening.
    if (!(e instanceof FailureError)) throw e;
    deps.stderr(`prosody-active-users: ${describeFailure(e.failure)}\n`);
    return 1;
  } finally {
    db.close();
  }
}
