import { DEFAULT_PROSODY_CONFIG } from '../sources/discover-sources.js';
import { type Profile, withDefaults } from '../core/profile-validation.js';
import type { MonitorProfile } from './monitor.js';
import { type SqlServerTarget, parseSqlUrl } from '../core/sql-url.js';

const DEFAULT_CONNECT_TIMEOUT = 15;

/** A profile's database URL as a target (validated with the settings, so it parses). */
function sqlOf(url: string | undefined): { sql?: Omit<SqlServerTarget, 'password'> } {
  if (url === undefined) return {};
  const parsed = parseSqlUrl(url);
  return parsed.ok ? { sql: parsed.value } : {};
}

/**
 * What the monitor runs for a saved profile, in the app and for the CLI's `--profile`. An unknown
 * host key is never accepted on the fly (the window asks first, through Test connection; the CLI
 * has --accept-new-host-key for one-shot runs). `defaultKnownHosts` is the app's file; the CLI
 * leaves it to ~/.ssh/known_hosts.
 */
export function monitorProfileFor(profile: Profile, defaultKnownHosts?: string): MonitorProfile {
  const p = withDefaults(profile);
  const common = {
    name: p.name,
    filter: p.hosts,
    alerts: p.alerts,
    intervalSeconds: p.intervalSeconds,
  };
  if (p.ssh) {
    const connectTimeout = p.ssh.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT;
    return {
      ...common,
      spec: {
        kind: 'ssh',
        ssh: {
          target: p.ssh.target,
          identity: p.ssh.identity,
          sshConfig: p.ssh.sshConfig,
          knownHosts: p.ssh.knownHosts ?? defaultKnownHosts,
          acceptNewHostKey: false,
          remoteDb: p.ssh.remoteDb,
          remoteDataDir: p.ssh.remoteDataDir,
          remoteConfig: p.ssh.remoteConfig ?? DEFAULT_PROSODY_CONFIG,
          method: p.ssh.method ?? 'auto',
          connectTimeout,
          stepTimeout: connectTimeout * 8,
          ...sqlOf(p.ssh.sql),
        },
      },
    };
  }
  const local = p.local ?? {};
  return {
    ...common,
    spec:
      local.sql !== undefined && sqlOf(local.sql).sql !== undefined
        ? { kind: 'sql', sql: sqlOf(local.sql).sql! }
        : local.db !== undefined
          ? { kind: 'db', path: local.db }
          : local.dataDir !== undefined
            ? { kind: 'data-dir', path: local.dataDir }
            : { kind: 'discover', config: local.config ?? DEFAULT_PROSODY_CONFIG },
  };
}
