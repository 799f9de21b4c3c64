import type { SourcedReport } from './activity-source.js';
import { LIVE_RECIPE_HINT } from './live-recipe.js';

const MODULE_WORD = { true: 'loaded', false: 'NOT loaded' } as const;

/**
 * The live view under the table: per host, the activity modules and Prosody's own gauges next to
 * ours, then every warning; or why there is no live view.
 */
export function liveLines(report: SourcedReport): string[] {
  const live = report.live;
  if (live === undefined) return [];
  if (!live.known) {
    const lines = [
      `Live view: not available (${live.reason ?? 'unknown reason'}). DAU/WAU/MAU are the stored records' figures; users online now with older records are not counted as Prosody counts them.`,
    ];
    if (live.accessRefused) lines.push(LIVE_RECIPE_HINT);
    return lines;
  }
  const lines = [`Live view through Prosody's ${live.via}:`];
  const warnings: string[] = [];
  for (const [name, h] of Object.entries(live.hosts)) {
    const ours = report.hosts[name];
    const activity = h.modules.accountActivity
      ? `mod_account_activity ${MODULE_WORD.true}`
      : `mod_lastlog2 ${MODULE_WORD[String(h.modules.lastlog2) as 'true' | 'false']}`;
    const measure = `mod_measure_active_users ${MODULE_WORD[String(h.modules.measureActiveUsers) as 'true' | 'false']}`;
    let gauges = '';
    if (h.gauges !== null) {
      const theirs = `${h.gauges.d1}/${h.gauges.d7}/${h.gauges.d30}`;
      const mine = ours ? `${ours.dau}/${ours.wau}/${ours.mau}` : '0/0/0';
      const verdict =
        h.comparison === 'equal'
          ? 'equal'
          : h.comparison === 'explained'
            ? 'differs by what its hourly count explains'
            : 'DIFFERS';
      gauges = `; its last count ${theirs}, ours ${mine}: ${verdict}`;
    }
    lines.push(`  ${name}: ${activity}, ${measure}${gauges}.`);
    warnings.push(...h.warnings);
  }
  for (const w of warnings) lines.push(`Warning: ${w}`);
  return lines;
}
