import { isAbsolute, join, resolve } from 'node:path';
import type * as SshConfigModule from 'ssh-config' with { 'resolution-mode': 'import' };
import { fail, ok, type Result } from '../core/failure.js';
import { DEFAULT_IDENTITY_FILES } from './private-keys.js';

// ssh-config ships ESM type declarations beside a CommonJS build; this file compiles to CommonJS,
// so the types come in with resolution-mode 'import' and the code through require (its "require"
// export condition).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sshConfig = require('ssh-config') as typeof SshConfigModule;

/*
 * What the user typed, resolved into a connection target the way OpenSSH's ssh does, checked
 * against `ssh -G` (OpenSSH 9.2) in test/ssh/ssh-target.test.ts. Pure: the caller reads the
 * config file and passes its text in.
 *
 * The facts this module relies on:
 * - ssh_config is matched by the `ssh-config` package's compute(): Host patterns against the host
 *   as typed (case-sensitive), Match host/originalhost/user/all/final, first obtained value wins,
 *   IdentityFile values accumulate. We pass ignoreCase (keywords are case-insensitive in OpenSSH)
 *   and matchExec: false (a config file must not run commands here: `Match exec` never matches).
 * - Differences from OpenSSH we accept and report as warnings: Include is not read, `Match exec`
 *   is not run, CanonicalizeHostname is not applied (we drop it: compute would run nslookup).
 *   compute's `?` matches zero or one character (OpenSSH: exactly one), and it reads the local
 *   user for `Match localuser` from os.userInfo().
 * - The host and port typed beat the config; `ssh user@host` beats `User`. The host name is
 *   `HostName` (with `%h` and `%%` expanded) or the host typed, lowercased.
 * - `-i` (identityOverride) comes first; any identity file given or configured replaces the
 *   default list (ssh -G lists ~/.ssh/id_rsa, id_ecdsa, id_ed25519 … only when none is). Identity
 *   file names expand `~` first, then `%` tokens; duplicates are dropped.
 * - ProxyJump and ProxyCommand compete: whichever comes first wins, except that `ProxyJump none`
 *   does not stop a later ProxyCommand. A jump host gets no `-i`: ssh runs it as
 *   `ssh [-l user] [-p port] -W … host`, so it resolves through the config on its own.
 * - ssh refuses a jump through the target itself ("jumphost loop via …").
 */

/** What `[user@]host[:port]` says, before the config is applied. */
export interface TargetSpec {
  user?: string;
  host: string;
  port?: number;
}

/** Where and how to connect, after ssh_config. */
export interface SshTarget {
  /** The host as typed (OpenSSH's %n): what the config was matched against. */
  alias: string;
  /** The host name to connect to: HostName, or the alias, lowercased. */
  host: string;
  port: number;
  user: string;
  /** Absolute paths, in the order to try; `~` and `%` tokens expanded as ssh does. */
  identityFiles: string[];
  /**
   * True when identityFiles is OpenSSH's default list (nothing given or configured): ssh skips
   * missing default files silently, while a missing file that was asked for deserves a warning.
   */
  defaultIdentityFiles: boolean;
  identitiesOnly: boolean;
  proxyJump?: SshTarget;
  /** Config features that were skipped and may make ssh itself resolve differently. */
  warnings: string[];
}

export interface ResolveOptions {
  /** The ssh_config text, or null when there is no config file. */
  configText: string | null;
  /** The config file's path, for messages. */
  configPath: string;
  localUser: string;
  /** The local user's home directory (OpenSSH's ~ and %d). */
  home: string;
  /** An identity file given on the command line (ssh -i): tried first, and not for the jump. */
  identityOverride?: string;
  /** The directory relative identity file paths are resolved in, as ssh does. */
  cwd?: string;
}

const DEFAULT_PORT = 22;

/**
 * Parses `[user@]host[:port]`, `[user@][ipv6]:port`, a bare IPv6 address or
 * `ssh://[user@]host[:port]`. The user ends at the last `@`, as in ssh.
 */
export function parseTargetSpec(spec: string): Result<TargetSpec> {
  const usage = (message: string): Result<TargetSpec> => fail({ kind: 'usage', message });
  if (spec === '') return usage('The SSH target is empty: give [user@]host[:port]');
  if (spec.startsWith('-')) {
    return usage(`The SSH target "${spec}" starts with "-": give [user@]host[:port]`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\s\x00-\x1f\x7f]/.test(spec)) {
    return usage(`The SSH target "${spec}" contains spaces or control characters`);
  }
  let rest = spec;
  if (/^ssh:\/\//i.test(rest)) rest = rest.slice('ssh://'.length).replace(/\/$/, '');

  const at = rest.lastIndexOf('@');
  const user = at >= 0 ? rest.slice(0, at) : undefined;
  const hostPort = rest.slice(at + 1);
  if (user === '') return usage(`The SSH target "${spec}" has an empty user name before "@"`);

  let host: string;
  let portText: string | undefined;
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close < 0) return usage(`The SSH target "${spec}" has "[" without "]"`);
    host = hostPort.slice(1, close);
    const after = hostPort.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) {
      return usage(`The SSH target "${spec}" has something other than ":port" after "]"`);
    }
    if (after !== '') portText = after.slice(1);
  } else if ((hostPort.match(/:/g) ?? []).length >= 2) {
    // A bare IPv6 address, which has no port (that needs [addr]:port).
    if (!/^[0-9A-Fa-f:.]+(%[\w.-]+)?$/.test(hostPort)) {
      return usage(`The SSH target "${spec}" has more than one ":" (write IPv6 as [address]:port)`);
    }
    host = hostPort;
  } else {
    const colon = hostPort.indexOf(':');
    host = colon >= 0 ? hostPort.slice(0, colon) : hostPort;
    if (colon >= 0) portText = hostPort.slice(colon + 1);
  }
  if (host === '') return usage(`The SSH target "${spec}" has no host name`);
  if (/[[\]]/.test(host)) return usage(`The SSH target "${spec}" has misplaced "[" or "]"`);
  if (host.startsWith('-')) return usage(`The host name in "${spec}" starts with "-"`);
  if (user?.startsWith('-')) return usage(`The user name in "${spec}" starts with "-"`);

  const target: TargetSpec = { host };
  if (user !== undefined) target.user = user;
  if (portText !== undefined) {
    const port = parsePort(portText);
    if (port === undefined) {
      return usage(`The port "${portText}" in "${spec}" is not a port number (1-65535)`);
    }
    target.port = port;
  }
  return ok(target);
}

/** Resolves what the user typed through ssh_config, as `ssh -G` would. */
export function resolveSshTarget(spec: string, opts: ResolveOptions): Result<SshTarget> {
  const parsed = parseTargetSpec(spec);
  if (!parsed.ok) return parsed;
  const config = parseConfig(opts.configText ?? '', opts.configPath);
  if (!config.ok) return config;
  return resolveThrough(config.value, parsed.value, opts, opts.identityOverride, true);
}

// ---------------------------------------------------------------------------------------------

type SshConfig = ReturnType<typeof SshConfigModule.parse>;
type Computed = Record<string, string | string[]>;

interface ParsedConfig {
  config: SshConfig;
  /** Warnings that hold whatever the host (features we never apply). */
  warnings: string[];
}

function parseConfig(text: string, path: string): Result<ParsedConfig> {
  let config: SshConfig;
  try {
    config = sshConfig.parse(text);
  } catch (error) {
    const detail =
      error instanceof TypeError
        ? 'a Host, Match or ProxyCommand line has no value'
        : error instanceof Error
          ? error.message
          : String(error);
    return fail({ kind: 'ssh-config', path, detail });
  }
  const warnings: string[] = [];
  let canonicalize = false;
  let matchExec = false;
  let valueless: string | undefined;
  const tidy = (lines: SshConfig): void => {
    for (let i = lines.length - 1; i >= 0; i--) {
      const line = lines[i];
      if (!line || line.type !== sshConfig.LineType.DIRECTIVE) continue;
      // A keyword alone on its line swallows the next line into its name (ssh-config 5.3).
      if (/[\r\n]/.test(line.param)) valueless = line.param.split(/[\r\n]/)[0];
      // compute() tracks HostName and User (for Match host / Match user) under these spellings only.
      if (/^hostname$/i.test(line.param)) line.param = 'HostName';
      if (/^user$/i.test(line.param)) line.param = 'User';
      if (/^canonicalizehostname$/i.test(line.param)) {
        // compute() would run nslookup for it; we do not canonicalize.
        if (String(line.value).toLowerCase() !== 'no') canonicalize = true;
        lines.splice(i, 1);
        continue;
      }
      if ('criteria' in line && Object.keys(line.criteria).some((k) => /^exec$/i.test(k))) {
        matchExec = true;
      }
      if ('config' in line) tidy(line.config);
    }
  };
  tidy(config);
  if (valueless !== undefined)
    return fail({ kind: 'ssh-config', path, detail: `${valueless} has no value` });
  if (canonicalize) warnings.push(`CanonicalizeHostname in ${path} is not applied`);
  if (matchExec) warnings.push(`Match exec blocks in ${path} are not run, so they never match`);
  return ok({ config, warnings });
}

function resolveThrough(
  parsed: ParsedConfig,
  spec: TargetSpec,
  opts: ResolveOptions,
  identityOverride: string | undefined,
  mayJump: boolean,
): Result<SshTarget> {
  const path = opts.configPath;
  const configFailure = (detail: string): Result<SshTarget> =>
    fail({ kind: 'ssh-config', path, detail });
  const alias = spec.host;
  const computeOptions = { ignoreCase: true, matchExec: false };
  // A user typed in the spec is obtained first, as on ssh's command line (and Match user sees it).
  const computed: Computed =
    spec.user === undefined
      ? parsed.config.compute(alias, computeOptions)
      : parsed.config.compute({ Host: alias, User: spec.user }, computeOptions);
  const value = (key: string): string | undefined => {
    const v = computed[key];
    return Array.isArray(v) ? v.join(' ') : v;
  };
  for (const key of ['hostname', 'user', 'port', 'proxyjump', 'proxycommand']) {
    if (value(key) === '') return configFailure(`${configKeyword(key)} for ${alias} has no value`);
  }

  const hostName = value('hostname');
  const expandedHost: Expansion =
    hostName === undefined ? { ok: true, value: alias } : expandTokens(hostName, { h: alias });
  if (!expandedHost.ok) {
    return configFailure(`HostName ${hostName} for ${alias}: ${expandedHost.problem}`);
  }
  const host = expandedHost.value.toLowerCase();

  const user = spec.user ?? value('user') ?? opts.localUser;
  let port = spec.port;
  if (port === undefined) {
    const configured = value('port');
    port = configured === undefined ? DEFAULT_PORT : parsePort(configured);
    if (port === undefined) {
      return configFailure(`Port ${configured} for ${alias} is not a port number (1-65535)`);
    }
  }

  const warnings = [...parsed.warnings];
  const include = value('include');
  if (include !== undefined) warnings.push(`Include ${include} in ${path} was not read`);

  // Which proxy setting came first: compute() adds keys in the order it obtains them.
  const keys = Object.keys(computed);
  const jumpValue = value('proxyjump');
  const commandValue = value('proxycommand');
  const jumpFirst =
    jumpValue !== undefined &&
    (commandValue === undefined || keys.indexOf('proxyjump') < keys.indexOf('proxycommand'));
  const jump =
    jumpValue !== undefined && jumpValue.toLowerCase() !== 'none' ? jumpValue : undefined;
  if (
    commandValue !== undefined &&
    commandValue.toLowerCase() !== 'none' &&
    !(jumpFirst && jump !== undefined)
  ) {
    return configFailure(
      `ProxyCommand for ${alias} is not supported: use ProxyJump [user@]host[:port] instead`,
    );
  }
  const activeJump = jumpFirst ? jump : undefined;

  const identities = identityFileList(computed, identityOverride);
  const tokens: Record<string, string> = {
    d: opts.home,
    h: host,
    j: '',
    k: value('hostkeyalias') ?? alias,
    n: alias,
    p: String(port),
    r: user,
    u: opts.localUser,
  };
  let jumpSpec: TargetSpec | undefined;
  if (activeJump !== undefined) {
    const hops = activeJump.split(',').map((hop) => hop.trim());
    if (hops.length > 1) {
      return configFailure(
        `ProxyJump ${activeJump} for ${alias} has ${hops.length} hops: only one jump host is supported`,
      );
    }
    const hop = parseTargetSpec(hops[0] ?? '');
    if (!hop.ok) {
      const message = hop.failure.kind === 'usage' ? hop.failure.message : hop.failure.kind;
      return configFailure(`ProxyJump ${activeJump} for ${alias}: ${message}`);
    }
    jumpSpec = hop.value;
    tokens.j = jumpSpec.host;
  }

  const identityFiles: string[] = [];
  for (const [index, file] of identities.files.entries()) {
    const expanded = expandIdentityFile(file, tokens, opts);
    if (!expanded.ok && index === 0 && identityOverride !== undefined) {
      return fail({ kind: 'usage', message: `The identity file ${file}: ${expanded.problem}` });
    }
    if (!expanded.ok) {
      return configFailure(`IdentityFile ${file} for ${alias}: ${expanded.problem}`);
    }
    if (!identityFiles.includes(expanded.value)) identityFiles.push(expanded.value);
  }

  const target: SshTarget = {
    alias,
    host,
    port,
    user,
    identityFiles,
    defaultIdentityFiles: identities.defaults,
    identitiesOnly: /^(yes|true)$/i.test(value('identitiesonly') ?? ''),
    warnings,
  };

  if (jumpSpec !== undefined) {
    const jumpPort = jumpSpec.port ?? DEFAULT_PORT;
    const jumpUser = jumpSpec.user ?? user;
    if (jumpSpec.host === host && jumpPort === port && jumpUser === user) {
      return configFailure(
        `ProxyJump for ${alias} goes through ${alias} itself (a jump host loop)`,
      );
    }
    if (!mayJump) {
      return configFailure(
        jumpSpec.host === alias
          ? `ProxyJump for ${alias} goes through ${alias} itself (a jump host loop)`
          : `the jump host ${alias} has its own ProxyJump ${activeJump}: only one jump host is supported`,
      );
    }
    const resolved = resolveThrough(parsed, jumpSpec, opts, undefined, false);
    if (!resolved.ok) return resolved;
    target.proxyJump = resolved.value;
    for (const w of resolved.value.warnings) if (!warnings.includes(w)) warnings.push(w);
  }
  return ok(target);
}

function identityFileList(
  computed: Computed,
  identityOverride: string | undefined,
): { files: string[]; defaults: boolean } {
  const configured = computed.identityfile;
  const files = [
    ...(identityOverride === undefined ? [] : [identityOverride]),
    ...(Array.isArray(configured) ? configured : configured === undefined ? [] : [configured]),
  ];
  if (files.length > 0) return { files, defaults: false };
  return { files: DEFAULT_IDENTITY_FILES.map((name) => `~/.ssh/${name}`), defaults: true };
}

/** A path or name after `~` and `%` expansion, or why it cannot be expanded. */
type Expansion = { ok: true; value: string } | { ok: false; problem: string };

/** `~` first, then `%` tokens (ssh.c, load_public_identity_files), then an absolute path. */
function expandIdentityFile(
  file: string,
  tokens: Record<string, string>,
  opts: ResolveOptions,
): Expansion {
  let path = file;
  const tilde = /^~([^/]*)(\/.*)?$/.exec(path);
  if (tilde) {
    const [, owner = '', rest = ''] = tilde;
    if (owner !== '' && owner !== opts.localUser) {
      return { ok: false, problem: `~${owner} (another user's home) is not supported` };
    }
    path = opts.home + rest;
  }
  if (path.includes('${')) {
    return { ok: false, problem: 'environment variables (${…}) are not supported' };
  }
  const expanded = expandTokens(path, tokens);
  if (!expanded.ok) return expanded;
  path = expanded.value;
  if (isAbsolute(path)) return { ok: true, value: resolve(path) };
  return { ok: true, value: join(opts.cwd ?? process.cwd(), path) };
}

/** OpenSSH's percent_expand: `%%` and the given tokens; any other `%x` is an error. */
function expandTokens(text: string, tokens: Record<string, string>): Expansion {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c !== '%') {
      out += c;
      continue;
    }
    const token = text[++i];
    if (token === '%') out += '%';
    else if (token !== undefined && Object.hasOwn(tokens, token)) out += tokens[token];
    else if (token === undefined) return { ok: false, problem: 'it ends with a lone %' };
    else return { ok: false, problem: `%${token} is not supported here` };
  }
  return { ok: true, value: out };
}

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

function configKeyword(key: string): string {
  const names: Record<string, string> = {
    hostname: 'HostName',
    user: 'User',
    port: 'Port',
    proxyjump: 'ProxyJump',
    proxycommand: 'ProxyCommand',
  };
  return names[key] ?? key;
}
