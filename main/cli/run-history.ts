import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describeFailure } from '../core/describe-failure.js';
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
  const opened = deps.openHistory(path);
  if (!opened.ok) {
    deps.stderr(`prosody-active-users: ${showControls(describeFailure(opened.failure))}\n`);
    return 1;
  }
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
  } finally {
    db.close();
  }
}
