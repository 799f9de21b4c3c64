import { type Result, fail, ok } from '../core/failure.js';
import { DEFAULT_ALERT_SETTINGS } from '../core/monitor-types.js';
import { DEFAULT_INTERVAL_SECONDS, type Settings } from '../core/profile-validation.js';
import type { MonitorProfile } from '../monitor/monitor.js';
import { monitorProfileFor } from '../monitor/profile-to-monitor.js';
import { type CliOptions, sourceSpecOf } from './cli-options.js';
import { type SqlServerTarget, describeTarget } from '../sources/sql-server-target.js';

/**
 * The profile watch mode runs: a saved one by name (`--profile`), or one made of the one-shot
 * options, named after its target.
 */
export function monitorProfileOf(
  options: CliOptions,
  settings: Settings,
  settingsPath: string,
): Result<MonitorProfile> {
  if (options.profile === undefined) {
    const spec = sourceSpecOf(options);
    const name =
      spec.kind === 'ssh'
        ? spec.ssh.target
        : spec.kind === 'discover'
          ? 'local'
          : spec.kind === 'sql'
            ? describeTarget(spec.sql as SqlServerTarget)
            : spec.path;
    return ok({
      name,
      spec,
      alerts: { ...DEFAULT_ALERT_SETTINGS },
      intervalSeconds: options.interval ?? DEFAULT_INTERVAL_SECONDS,
    });
  }
  const wanted = options.profile.toLowerCase();
  const found = settings.profiles.find((p) => p.name.toLowerCase() === wanted);
  if (!found) {
    const names = settings.profiles.map((p) => p.name);
    return fail({
      kind: 'usage',
      message: `no profile named ${JSON.stringify(options.profile)} in ${settingsPath} (${
        names.length > 0 ? `it has ${names.join(', ')}` : 'it has none yet'
      })`,
    });
  }
  const profile = monitorProfileFor(found);
  return ok({ ...profile, intervalSeconds: options.interval ?? profile.intervalSeconds });
}
