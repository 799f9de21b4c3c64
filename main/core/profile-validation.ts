/**
 * The settings file's shape (`settings.json` in the state directory) and its validation. Pure: the
 * store reads the file and passes the parsed JSON in.
 *
 * Every problem names the bad field by its path in the document (`profiles[1].ssh.target`), so a
 * person editing the file by hand can find it. Validation problems are returned as failures of kind
 * 'usage' whose message is `path: problem` (several joined by `; `); `findSettingsProblems` gives
 * them one by one as `SettingsProblem` values for a caller that shows a list.
 *
 * Rules worth knowing:
 * - Unknown keys are rejected (a typo such as `intervalSecs` would otherwise be ignored silently).
 * - Secrets never belong in this file: a key whose name contains password, passphrase or secret is
 *   rejected wherever it appears, even inside an unknown key. Secrets go through the SecretStore.
 * - A profile reads either over SSH (`ssh`) or on this machine (`local`): exactly one of them.
 * - Profile names are unique ignoring case: they name the profile on the command line and in the
 *   secret store, where "Home" and "home" would be easy to mix up.
 * - A `version` above SETTINGS_VERSION means a newer program wrote the file: the store refuses to
 *   touch it (see newerSettingsVersion), and validation says so instead of listing other problems.
 */
import { fail, ok, type Result } from './failure.js';
import { CONNECT_TIMEOUT_RULE, INTERVAL_RULE, type NumberRule, fitsRule } from './number-rules.js';
import { parseSqlUrl } from './sql-url.js';
import {
  DEFAULT_ALERT_SETTINGS,
  FIGURE_NAMES,
  type AlertSettings,
  type FigureName,
} from './monitor-types.js';

/** The settings format this code reads and writes. */
export const SETTINGS_VERSION = 1;

/** How often a profile is refreshed when it does not say (1 hour). */
export const DEFAULT_INTERVAL_SECONDS = 3600;

export type SshMethod = 'auto' | 'query' | 'copy';

/** A server read over SSH: the same choices as the CLI's SSH options. */
export interface SshProfile {
  /** `[user@]host[:port]` or a Host alias from ssh_config. */
  target: string;
  identity?: string;
  sshConfig?: string;
  knownHosts?: string;
  remoteDb?: string;
  remoteDataDir?: string;
  remoteConfig?: string;
  method?: SshMethod;
  /** Seconds to connect and log in. */
  connectTimeout?: number;
  /**
   * A PostgreSQL or MySQL/MariaDB database as the server reaches it (`--sql`'s URL, no password:
   * that is the profile's 'db-password' secret).
   */
  sql?: string;
}

/** Prosody's data on this machine; all optional (found from Prosody's config when not given). */
export interface LocalProfile {
  db?: string;
  dataDir?: string;
  config?: string;
  /** A PostgreSQL or MySQL/MariaDB database reached from this machine (`--sql`'s URL). */
  sql?: string;
}

/** Hosts to show only, or to hide. */
export interface HostFilter {
  show?: string[];
  hide?: string[];
}

interface ProfileCommon {
  /** Unique (ignoring case) and non-empty. */
  name: string;
  hosts?: HostFilter;
  alerts?: Partial<AlertSettings>;
  intervalSeconds?: number;
}

/** One server to watch: over SSH or local, never both. */
export type Profile = ProfileCommon &
  ({ ssh: SshProfile; local?: undefined } | { local: LocalProfile; ssh?: undefined });

export interface Settings {
  version: typeof SETTINGS_VERSION;
  profiles: Profile[];
}

/** A profile with every alert setting and the interval filled in. */
export type ResolvedProfile = Profile & { alerts: AlertSettings; intervalSeconds: number };

/** One thing wrong with a settings document: where (`profiles[1].ssh.target`) and what. */
export interface SettingsProblem {
  /** The JSON path of the bad field; '' for the document itself. */
  path: string;
  problem: string;
}

/** `profiles[1].ssh.target: must be …`. */
export function formatSettingsProblem(p: SettingsProblem): string {
  return `${p.path === '' ? '(the whole file)' : p.path}: ${p.problem}`;
}

/** Settings with no profiles: what a missing file means. */
export function emptySettings(): Settings {
  return { version: SETTINGS_VERSION, profiles: [] };
}

/**
 * The version of a document written by a newer program (a whole number above SETTINGS_VERSION),
 * else undefined. Such a file is neither read nor overwritten.
 */
export function newerSettingsVersion(json: unknown): number | undefined {
  if (!isObject(json)) return undefined;
  const v = json.version;
  return typeof v === 'number' && Number.isInteger(v) && v > SETTINGS_VERSION ? v : undefined;
}

/** At most this many problems go into a failure's message; findSettingsProblems gives them all. */
const PROBLEMS_IN_MESSAGE = 5;

/**
 * The settings in `json` (already parsed), or a failure of kind 'usage' whose message names each
 * bad field: `profiles[0].alerts.relativeThreshold: must be a number between 0 and 10, not 20`.
 * The value returned is a fresh copy holding only known keys.
 */
export function validateSettings(json: unknown): Result<Settings> {
  const { settings, problems } = check(json);
  if (settings === undefined || problems.length > 0) {
    const shown = problems.slice(0, PROBLEMS_IN_MESSAGE).map(formatSettingsProblem);
    const more = problems.length - shown.length;
    if (more > 0) shown.push(`and ${more} more problem${more === 1 ? '' : 's'}`);
    return fail({ kind: 'usage', message: shown.join('; ') });
  }
  return ok(settings);
}

/** Every problem in `json`, in document order (secrets first); empty when it is valid. */
export function findSettingsProblems(json: unknown): SettingsProblem[] {
  return check(json).problems;
}

/** The profile with DEFAULT_ALERT_SETTINGS under its own alert settings, and the default interval. */
export function withDefaults(profile: Profile): ResolvedProfile {
  const own: Partial<AlertSettings> = {};
  for (const [key, value] of Object.entries(profile.alerts ?? {})) {
    if (value !== undefined) (own as Record<string, unknown>)[key] = value;
  }
  const alerts: AlertSettings = { ...DEFAULT_ALERT_SETTINGS, ...own };
  alerts.figures = [...alerts.figures];
  if (alerts.quietHours) alerts.quietHours = { ...alerts.quietHours };
  if (alerts.perFigure) {
    alerts.perFigure = Object.fromEntries(
      Object.entries(alerts.perFigure).map(([figure, t]) => [figure, { ...t }]),
    );
  }
  return {
    ...profile,
    alerts,
    intervalSeconds: profile.intervalSeconds ?? DEFAULT_INTERVAL_SECONDS,
  };
}

// ---------------------------------------------------------------------------------------------

type Obj = Record<string, unknown>;

const SECRET_KEY = /pass(word|phrase|wd)|secret/i;
const SECRET_PROBLEM =
  'secrets are never kept in the settings file: use ssh-agent, or the secret store ' +
  "(the app's system keychain; an environment variable or a prompt for the command line)";

const DAY = 86400;
const MAX_NAME_LENGTH = 64;

const SETTINGS_KEYS = ['version', 'profiles'] as const;
const PROFILE_KEYS = ['name', 'ssh', 'local', 'hosts', 'alerts', 'intervalSeconds'] as const;
const SSH_KEYS = [
  'target',
  'identity',
  'sshConfig',
  'knownHosts',
  'remoteDb',
  'remoteDataDir',
  'remoteConfig',
  'method',
  'connectTimeout',
  'sql',
] as const;
const LOCAL_KEYS = ['db', 'dataDir', 'config', 'sql'] as const;
const HOSTS_KEYS = ['show', 'hide'] as const;
const ALERT_KEYS = [
  'relativeThreshold',
  'absoluteMinimum',
  'perFigure',
  'figures',
  'baselineSeconds',
  'failuresBeforeAlert',
  'staleSeconds',
  'cooldownSeconds',
  'quietHours',
  'pausedUntil',
] as const satisfies readonly (keyof AlertSettings)[];
const THRESHOLD_KEYS = ['relativeThreshold', 'absoluteMinimum'] as const;
const QUIET_KEYS = ['from', 'to'] as const;
const METHODS: readonly SshMethod[] = ['auto', 'query', 'copy'];

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value as a message shows it: `"abc"`, `20`, `a list`, `an object`. */
function shown(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function child(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  if (!IDENTIFIER.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path === '' ? key : `${path}.${key}`;
}

/**
 * `[user@]host[:port]`, `[user@][ipv6]:port`, a bare IPv6 address, `ssh://…`, or a Host alias (which
 * has the same shape as a host name). The same rules as ssh-target.ts's parseTargetSpec, kept here
 * because the core imports nobody; the characters OpenSSH 9.6+ refuses in host names are refused.
 */
export function isSshTarget(spec: string): boolean {
  // eslint-disable-next-line no-control-regex
  if (spec === '' || spec.startsWith('-') || /[\s\x00-\x1f\x7f]/.test(spec)) return false;
  let rest = spec;
  if (/^ssh:\/\//i.test(rest)) rest = rest.slice('ssh://'.length).replace(/\/$/, '');
  const at = rest.lastIndexOf('@');
  if (at === 0) return false;
  if (at > 0 && rest.startsWith('-')) return false;
  const hostPort = rest.slice(at + 1);
  let host: string;
  let port: string | undefined;
  if (hostPort.startsWith('[')) {
    const m = /^\[([^[\]\s'"`$;&<>|(){},\\/@]+)\](?::(.*))?$/.exec(hostPort);
    if (!m) return false;
    host = m[1] ?? '';
    port = m[2];
  } else if ((hostPort.match(/:/g) ?? []).length >= 2) {
    return /^[0-9A-Fa-f:.]+(%[\w.-]+)?$/.test(hostPort);
  } else {
    const colon = hostPort.indexOf(':');
    host = colon >= 0 ? hostPort.slice(0, colon) : hostPort;
    if (colon >= 0) port = hostPort.slice(colon + 1);
    if (!/^[^'"`$;&<>|(){},\\/[\]@]+$/.test(host)) return false;
  }
  if (host === '' || host.startsWith('-')) return false;
  if (port !== undefined) {
    if (!/^\d{1,5}$/.test(port)) return false;
    const n = Number(port);
    if (n < 1 || n > 65535) return false;
  }
  return true;
}

/** `HH:MM`, 00:00 to 23:59. */
function isClockTime(text: string): boolean {
  return /^([01]\d|2[0-3]):[0-5]\d$/.test(text);
}

/** Reports every secret-named key anywhere in the document (iteratively: no depth limit). */
function findSecrets(json: unknown, problems: SettingsProblem[]): void {
  const stack: Array<[value: unknown, path: string]> = [[json, '']];
  const found: SettingsProblem[] = [];
  while (stack.length > 0) {
    const [value, path] = stack.pop() as [unknown, string];
    if (Array.isArray(value)) {
      value.forEach((item, i) => stack.push([item, child(path, i)]));
    } else if (isObject(value)) {
      for (const [key, item] of Object.entries(value)) {
        const p = child(path, key);
        if (SECRET_KEY.test(key)) found.push({ path: p, problem: SECRET_PROBLEM });
        else stack.push([item, p]);
      }
    }
  }
  found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  problems.push(...found);
}

/** Reads one document, collecting problems and building a clean copy as it goes. */
function check(json: unknown): { settings?: Settings; problems: SettingsProblem[] } {
  const problems: SettingsProblem[] = [];
  const report = (path: string, problem: string): void => {
    problems.push({ path, problem });
  };

  const newer = newerSettingsVersion(json);
  if (newer !== undefined) {
    report(
      'version',
      `${newer} means a newer version of prosody-active-users wrote this file (this one reads version ${SETTINGS_VERSION}): update prosody-active-users`,
    );
    return { problems };
  }
  if (!isObject(json)) {
    report('', `must be a JSON object like {"version": 1, "profiles": []}, not ${shown(json)}`);
    return { problems };
  }
  findSecrets(json, problems);

  /** The object at `path`, reporting unknown keys; undefined (and reported) if not an object. */
  const object = (
    value: unknown,
    path: string,
    known: readonly string[],
    what: string,
  ): Obj | undefined => {
    if (!isObject(value)) {
      report(path, `must be ${what}, not ${shown(value)}`);
      return undefined;
    }
    for (const key of Object.keys(value)) {
      if (!known.includes(key) && !SECRET_KEY.test(key)) {
        report(child(path, key), `unknown key (known here: ${known.join(', ')})`);
      }
    }
    return value;
  };

  /** A string without control characters; `nonEmpty` also refuses ''. */
  const text = (obj: Obj, key: string, path: string, into: Obj): void => {
    if (!(key in obj)) return;
    const v = obj[key];
    const p = child(path, key);
    // eslint-disable-next-line no-control-regex
    if (typeof v !== 'string' || v === '' || /[\x00-\x1f\x7f]/.test(v)) {
      report(p, `must be a non-empty string without control characters, not ${shown(v)}`);
      return;
    }
    into[key] = v;
  };

  /** A database URL as --sql takes it, alone among the ways to the data. */
  const sqlUrl = (obj: Obj, path: string, into: Obj, others: string[]): void => {
    if (!('sql' in obj)) return;
    const p = child(path, 'sql');
    const parsed = typeof obj.sql === 'string' ? parseSqlUrl(obj.sql) : null;
    if (parsed === null || !parsed.ok) {
      report(
        p,
        parsed?.ok === false && parsed.failure.kind === 'usage'
          ? parsed.failure.message.replace(/^--sql (".*?" )?/, 'the URL ')
          : `must be a URL such as postgres://prosody@127.0.0.1:5432/prosody, not ${shown(obj.sql)}`,
      );
      return;
    }
    const clash = others.find((k) => k in obj);
    if (clash !== undefined) {
      report(p, `cannot be given together with ${clash}: choose one`);
      return;
    }
    into.sql = obj.sql;
  };

  const number = (obj: Obj, key: string, path: string, into: Obj, rule: NumberRule): void => {
    if (!(key in obj)) return;
    const v = obj[key];
    if (!fitsRule(v, rule)) {
      report(child(path, key), `must be ${rule.what}, not ${shown(v)}`);
      return;
    }
    into[key] = v;
  };

  const relativeThreshold = {
    min: 0,
    max: 10,
    whole: false,
    what: 'a number between 0 and 10 (0.2 means 20 %)',
  };
  const absoluteMinimum = {
    min: 0,
    max: 1e9,
    whole: true,
    what: 'a whole number of users, 0 or more',
  };

  const readSsh = (value: unknown, path: string): SshProfile | undefined => {
    const obj = object(value, path, SSH_KEYS, 'an object like {"target": "user@host"}');
    if (!obj) return undefined;
    const out: Obj = {};
    if (!('target' in obj)) report(child(path, 'target'), 'missing: give [user@]host[:port]');
    else if (typeof obj.target !== 'string' || !isSshTarget(obj.target)) {
      report(
        child(path, 'target'),
        `must be [user@]host[:port] or an ssh_config alias, not ${shown(obj.target)}`,
      );
    } else out.target = obj.target;
    for (const key of [
      'identity',
      'sshConfig',
      'knownHosts',
      'remoteDb',
      'remoteDataDir',
      'remoteConfig',
    ]) {
      text(obj, key, path, out);
    }
    if ('remoteDb' in obj && 'remoteDataDir' in obj) {
      report(child(path, 'remoteDataDir'), 'cannot be given together with remoteDb: choose one');
    }
    sqlUrl(obj, path, out, ['remoteDb', 'remoteDataDir']);
    if ('method' in obj) {
      if (METHODS.includes(obj.method as SshMethod)) out.method = obj.method;
      else report(child(path, 'method'), `must be auto, query or copy, not ${shown(obj.method)}`);
    }
    number(obj, 'connectTimeout', path, out, CONNECT_TIMEOUT_RULE);
    return out as unknown as SshProfile;
  };

  const readLocal = (value: unknown, path: string): LocalProfile | undefined => {
    const obj = object(value, path, LOCAL_KEYS, 'an object like {"db": "/path/prosody.sqlite"}');
    if (!obj) return undefined;
    const out: Obj = {};
    for (const key of ['db', 'dataDir', 'config']) text(obj, key, path, out);
    if ('db' in obj && 'dataDir' in obj) {
      report(child(path, 'dataDir'), 'cannot be given together with db: choose one');
    }
    sqlUrl(obj, path, out, ['db', 'dataDir']);
    return out as LocalProfile;
  };

  const hostList = (obj: Obj, key: 'show' | 'hide', path: string): string[] | undefined => {
    if (!(key in obj)) return undefined;
    const p = child(path, key);
    const v = obj[key];
    if (!Array.isArray(v)) {
      report(p, `must be a list of host names, not ${shown(v)}`);
      return undefined;
    }
    const out: string[] = [];
    v.forEach((host, i) => {
      if (typeof host !== 'string' || host === '' || /\s/.test(host)) {
        report(child(p, i), `must be a host name such as "example.org", not ${shown(host)}`);
      } else out.push(host);
    });
    return out;
  };

  const readHosts = (value: unknown, path: string): HostFilter | undefined => {
    const obj = object(value, path, HOSTS_KEYS, 'an object like {"hide": ["example.org"]}');
    if (!obj) return undefined;
    const out: HostFilter = {};
    const show = hostList(obj, 'show', path);
    const hide = hostList(obj, 'hide', path);
    if (show) out.show = show;
    if (hide) out.hide = hide;
    if (show && Array.isArray(obj.hide)) {
      obj.hide.forEach((host, i) => {
        if (typeof host === 'string' && show.includes(host)) {
          report(child(child(path, 'hide'), i), `${shown(host)} is also in show: keep it in one`);
        }
      });
    }
    return out;
  };

  const readThresholds = (value: unknown, path: string): Obj | undefined => {
    const obj = object(
      value,
      path,
      THRESHOLD_KEYS,
      'an object like {"relativeThreshold": 0.5, "absoluteMinimum": 10}',
    );
    if (!obj) return undefined;
    const out: Obj = {};
    number(obj, 'relativeThreshold', path, out, relativeThreshold);
    number(obj, 'absoluteMinimum', path, out, absoluteMinimum);
    return out;
  };

  const readAlerts = (value: unknown, path: string): Partial<AlertSettings> | undefined => {
    const obj = object(value, path, ALERT_KEYS, 'an object of alert settings');
    if (!obj) return undefined;
    const out: Obj = {};
    number(obj, 'relativeThreshold', path, out, relativeThreshold);
    number(obj, 'absoluteMinimum', path, out, absoluteMinimum);
    if ('perFigure' in obj) {
      const p = child(path, 'perFigure');
      const per = object(obj.perFigure, p, FIGURE_NAMES, 'an object keyed by figure (dau, wau, …)');
      if (per) {
        const perOut: Obj = {};
        for (const figure of FIGURE_NAMES) {
          if (!(figure in per)) continue;
          const t = readThresholds(per[figure], child(p, figure));
          if (t) perOut[figure] = t;
        }
        out.perFigure = perOut;
      }
    }
    if ('figures' in obj) {
      const p = child(path, 'figures');
      if (!Array.isArray(obj.figures)) {
        report(
          p,
          `must be a list of figures (${FIGURE_NAMES.join(', ')}), not ${shown(obj.figures)}`,
        );
      } else {
        const figures: FigureName[] = [];
        obj.figures.forEach((f, i) => {
          if (!FIGURE_NAMES.includes(f as FigureName)) {
            report(child(p, i), `must be one of ${FIGURE_NAMES.join(', ')}, not ${shown(f)}`);
          } else if (figures.includes(f as FigureName)) {
            report(child(p, i), `${shown(f)} is listed twice`);
          } else figures.push(f as FigureName);
        });
        out.figures = figures;
      }
    }
    number(obj, 'baselineSeconds', path, out, {
      min: 1,
      max: 90 * DAY,
      whole: true,
      what: 'a whole number of seconds from 1 to 7776000 (90 days)',
    });
    number(obj, 'failuresBeforeAlert', path, out, {
      min: 1,
      max: 1000,
      whole: true,
      what: 'a whole number from 1 to 1000',
    });
    number(obj, 'staleSeconds', path, out, {
      min: 60,
      max: 90 * DAY,
      whole: true,
      what: 'a whole number of seconds from 60 to 7776000 (90 days)',
    });
    number(obj, 'cooldownSeconds', path, out, {
      min: 0,
      max: 30 * DAY,
      whole: true,
      what: 'a whole number of seconds from 0 to 2592000 (30 days)',
    });
    if ('quietHours' in obj) {
      const p = child(path, 'quietHours');
      const q = object(
        obj.quietHours,
        p,
        QUIET_KEYS,
        'an object like {"from": "22:00", "to": "07:00"}',
      );
      if (q) {
        let good = true;
        for (const key of QUIET_KEYS) {
          const v = q[key];
          if (!(key in q)) {
            report(child(p, key), 'missing: give a time as HH:MM');
            good = false;
          } else if (typeof v !== 'string' || !isClockTime(v)) {
            report(child(p, key), `must be a time as HH:MM (00:00 to 23:59), not ${shown(v)}`);
            good = false;
          }
        }
        if (good && q.from === q.to) {
          report(child(p, 'to'), 'is the same as from: give a window, or leave quietHours out');
        } else if (good) out.quietHours = { from: q.from, to: q.to };
      }
    }
    number(obj, 'pausedUntil', path, out, {
      min: 0,
      max: 1e11,
      whole: true,
      what: 'a time in whole Unix seconds',
    });
    return out as Partial<AlertSettings>;
  };

  const readProfile = (value: unknown, path: string): Profile | undefined => {
    const obj = object(value, path, PROFILE_KEYS, 'an object like {"name": "…", "ssh": {…}}');
    if (!obj) return undefined;
    const out: Obj = {};
    if (!('name' in obj)) report(child(path, 'name'), 'missing: give the profile a name');
    else if (
      typeof obj.name !== 'string' ||
      obj.name.trim() === '' ||
      obj.name.trim() !== obj.name ||
      obj.name.length > MAX_NAME_LENGTH ||
      // eslint-disable-next-line no-control-regex
      /[\x00-\x1f\x7f]/.test(obj.name)
    ) {
      report(
        child(path, 'name'),
        `must be a non-empty name of at most ${MAX_NAME_LENGTH} characters, without control characters or spaces at either end, not ${shown(obj.name)}`,
      );
    } else out.name = obj.name;

    const hasSsh = 'ssh' in obj;
    const hasLocal = 'local' in obj;
    if (hasSsh && hasLocal) {
      report(path, 'has both ssh and local: a profile reads over SSH or on this machine, not both');
    } else if (!hasSsh && !hasLocal) {
      report(path, 'needs ssh (a server over SSH) or local (Prosody on this machine)');
    }
    if (hasSsh) {
      const ssh = readSsh(obj.ssh, child(path, 'ssh'));
      if (ssh) out.ssh = ssh;
    }
    if (hasLocal) {
      const local = readLocal(obj.local, child(path, 'local'));
      if (local) out.local = local;
    }
    if ('hosts' in obj) {
      const hosts = readHosts(obj.hosts, child(path, 'hosts'));
      if (hosts) out.hosts = hosts;
    }
    if ('alerts' in obj) {
      const alerts = readAlerts(obj.alerts, child(path, 'alerts'));
      if (alerts) out.alerts = alerts;
    }
    number(obj, 'intervalSeconds', path, out, INTERVAL_RULE);
    return out as unknown as Profile;
  };

  const top = object(json, '', SETTINGS_KEYS, 'an object');
  if (!top) return { problems };
  if (!('version' in top)) report('version', `missing: this format is version ${SETTINGS_VERSION}`);
  else if (top.version !== SETTINGS_VERSION) {
    report('version', `must be ${SETTINGS_VERSION}, not ${shown(top.version)}`);
  }
  const profiles: Profile[] = [];
  if (!('profiles' in top)) report('profiles', 'missing: give a list of profiles (it may be [])');
  else if (!Array.isArray(top.profiles)) {
    report('profiles', `must be a list of profiles, not ${shown(top.profiles)}`);
  } else {
    const seen = new Map<string, number>();
    top.profiles.forEach((value, i) => {
      const path = child('profiles', i);
      const profile = readProfile(value, path);
      if (!profile) return;
      if (typeof profile.name === 'string') {
        const key = profile.name.toLowerCase();
        const first = seen.get(key);
        if (first !== undefined) {
          report(
            child(path, 'name'),
            `${shown(profile.name)} is already the name of profiles[${first}] (names are unique, ignoring case)`,
          );
        } else seen.set(key, i);
      }
      profiles.push(profile);
    });
  }
  if (problems.length > 0) return { problems };
  return { settings: { version: SETTINGS_VERSION, profiles }, problems };
}
