/**
 * The main side of the IPC contract (core/ipc-contract.ts). Runs in the main process.
 *
 * Every invoke channel is registered through one typed helper that, before anything reaches the
 * AppService:
 * 1. refuses any sender that is not our window's main frame showing our own page (another
 *    webContents, a subframe, or a frame that navigated elsewhere), as Electron's security
 *    checklist asks ("Validate the sender of all IPC messages");
 * 2. checks the payload at runtime: the number of arguments, types, string lengths, finite numbers,
 *    and Settings through validateSettings (the renderer is trusted code, but a bug or an injected
 *    script must not reach the service with a payload the types promise and do not deliver).
 * A refusal rejects the renderer's promise with an Error (ipcMain.handle turns a throw into a
 * rejection; main carries on) whose message never repeats the payload, which may hold a secret.
 *
 * Snapshots from the service are pushed to the window on `snapshot:changed`.
 */
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import type { AppService } from '../app/app-service.js';
import type {
  ConnectionTestResult,
  EventChannel,
  EventChannels,
  HistoryWindowName,
  InvokeChannel,
  InvokeChannels,
} from '../core/ipc-contract.js';
import {
  findSettingsProblems,
  formatSettingsProblem,
  validateSettings,
  type Settings,
} from '../core/profile-validation.js';

type Args<C extends InvokeChannel> = InvokeChannels[C]['args'];
type Result<C extends InvokeChannel> = InvokeChannels[C]['result'];

/**
 * A payload's verdict: the checked arguments; a refusal; or an answer given here without asking
 * the service (invalid settings get the same field-by-field answer the service would give).
 */
export type Checked<C extends InvokeChannel> =
  | { verdict: 'ok'; args: Args<C> }
  | { verdict: 'refused'; reason: string; kind: RefusalKind }
  | { verdict: 'answer'; result: Result<C> };

/**
 * Why a call was refused: not our window's page; a payload of the wrong shape or type; or one too
 * large to look at (every such reason says "at most", which is how refused() tells them apart).
 */
export type RefusalKind = 'sender' | 'payload' | 'too-large';

/** Longest profile name the settings accept (profile-validation.ts). */
const MAX_PROFILE_NAME = 64;
/** Longest path accepted (Linux's PATH_MAX). */
const MAX_PATH = 4096;
/** Longest password or passphrase accepted. */
const MAX_SECRET = 4096;
/** Longest host name (RFC 1035's 255 octets). */
const MAX_HOST = 255;
/** A settings document larger than this, as JSON, is not something a person wrote. */
const MAX_SETTINGS_JSON = 256 * 1024;
/** Deeper than this, a settings document is not something a person wrote. */
const MAX_SETTINGS_DEPTH = 32;
/** The latest time a pause may name: the same bound the settings put on pausedUntil. */
const MAX_UNIX_TIME = 1e11;

const HISTORY_WINDOWS: readonly HistoryWindowName[] = ['7d', '30d', '90d'];
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;

const ok = <C extends InvokeChannel>(args: Args<C>): Checked<C> => ({ verdict: 'ok', args });
const refused = <C extends InvokeChannel>(reason: string): Checked<C> => ({
  verdict: 'refused',
  reason,
  kind: /\bat most\b/.test(reason) ? 'too-large' : 'payload',
});

/** Why a value is not a usable string (null when it is), without repeating the value. */
function badString(value: unknown, what: string, max: number, min = 1): string | null {
  if (typeof value !== 'string') return `${what} must be a string, not ${typeName(value)}`;
  if (value.length < min) return `${what} must not be empty`;
  if (value.length > max) return `${what} is ${value.length} characters long; at most ${max}`;
  return null;
}

function badName(value: unknown, what = 'the profile name'): string | null {
  const bad = badString(value, what, MAX_PROFILE_NAME);
  if (bad !== null) return bad;
  return CONTROL.test(value as string) ? `${what} must not hold control characters` : null;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Whether `value` would be too large or too deep as JSON, found by walking it with a budget and
 * never building it: structured clone carries a sparse list of 90 million entries in a few bytes,
 * and JSON.stringify of it held main for 30 s and 2 GB before its length could be refused.
 */
function oversizedSettings(value: unknown): string | null {
  let budget = MAX_SETTINGS_JSON;
  const pending: Array<[value: unknown, depth: number]> = [[value, 0]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [v, depth] = next;
    if (depth > MAX_SETTINGS_DEPTH) {
      return `the settings are nested too deep; at most ${MAX_SETTINGS_DEPTH} levels`;
    }
    if (typeof v === 'string') budget -= v.length + 2;
    else if (Array.isArray(v)) {
      // A comma or a null per entry at least: counted before any entry is looked at.
      budget -= v.length + 2;
      if (budget >= 0) for (const item of v as unknown[]) pending.push([item, depth + 1]);
    } else if (typeof v === 'object' && v !== null) {
      budget -= 2;
      for (const [key, item] of Object.entries(v)) {
        budget -= key.length + 4;
        if (budget < 0) break;
        pending.push([item, depth + 1]);
      }
    } else budget -= 5;
    if (budget < 0)
      return `the settings are too large; at most ${MAX_SETTINGS_JSON} characters as JSON`;
  }
  return null;
}

/** A settings payload small enough to validate, or why not. */
function badSettingsShape(value: unknown): string | null {
  if (!isPlainObject(value)) return `the settings must be an object, not ${typeName(value)}`;
  const oversized = oversizedSettings(value);
  if (oversized !== null) return oversized;
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch {
    return 'the settings cannot be read as JSON';
  }
  if (json.length > MAX_SETTINGS_JSON) {
    return `the settings are ${json.length} characters as JSON; at most ${MAX_SETTINGS_JSON}`;
  }
  return null;
}

function problemsOf(settings: unknown): string {
  return findSettingsProblems(settings).map(formatSettingsProblem).join('\n');
}

/** `C:\…`, `\\server\…` or `/…`: a path that does not depend on main's working directory. */
function isAbsolutePath(path: string): boolean {
  return path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path) || path.startsWith('\\\\');
}

/** The steps of a connection test that never started because the settings are invalid. */
function invalidDraftResult(local: boolean, problems: string): ConnectionTestResult {
  const first = local ? 'find-data' : 'connect';
  return {
    steps: (['connect', 'host-key', 'authenticate', 'find-data', 'read'] as const).map((step) =>
      step === first
        ? { step, state: 'failed' as const, detail: problems }
        : { step, state: 'skipped' as const, detail: 'Not tried' },
    ),
    unknownHostKey: null,
    changedHostKey: null,
    outcome: null,
  };
}

/** One runtime check per channel; the mapped type makes a missing channel a compile error. */
export const PAYLOAD_CHECKS: { [C in InvokeChannel]: (args: readonly unknown[]) => Checked<C> } = {
  'snapshot:get': (args) => (args.length === 0 ? ok<'snapshot:get'>([]) : refused('no arguments')),

  'series:get': (args) => {
    const [profile, window] = args;
    if (args.length !== 2) return refused('two arguments: profile and window');
    const bad = badName(profile);
    if (bad !== null) return refused(bad);
    if (!HISTORY_WINDOWS.includes(window as HistoryWindowName)) {
      return refused(`the window must be one of ${HISTORY_WINDOWS.join(', ')}`);
    }
    return ok<'series:get'>([profile as string, window as HistoryWindowName]);
  },

  'refresh:now': (args) => {
    const [profile] = args;
    if (args.length !== 1) return refused('one argument: a profile name or null');
    if (profile === null) return ok<'refresh:now'>([null]);
    const bad = badName(profile);
    return bad === null ? ok<'refresh:now'>([profile as string]) : refused(bad);
  },

  'settings:get': (args) => (args.length === 0 ? ok<'settings:get'>([]) : refused('no arguments')),

  'settings:save': (args) => {
    const [settings] = args;
    if (args.length !== 1) return refused('one argument: the settings');
    const shape = badSettingsShape(settings);
    if (shape !== null) return refused(shape);
    const valid = validateSettings(settings);
    if (!valid.ok) {
      return { verdict: 'answer', result: { ok: false, message: problemsOf(settings) } };
    }
    return ok<'settings:save'>([valid.value]);
  },

  'connection:test': (args) => {
    const [profileName, draft] = args;
    if (args.length !== 2) return refused('two arguments: the profile name and the settings');
    const bad = badName(profileName);
    if (bad !== null) return refused(bad);
    const shape = badSettingsShape(draft);
    if (shape !== null) return refused(shape);
    // Only the profile under test must be valid: others may be half edited.
    const d = draft as { version?: unknown; profiles?: unknown };
    const wanted = (profileName as string).toLowerCase();
    const profile = (Array.isArray(d.profiles) ? (d.profiles as unknown[]) : []).find(
      (p) => isPlainObject(p) && typeof p.name === 'string' && p.name.toLowerCase() === wanted,
    );
    if (profile === undefined) return refused('no profile of that name in the settings');
    const one = { version: d.version, profiles: [profile] };
    const valid = validateSettings(one);
    if (!valid.ok) {
      const local = isPlainObject(profile) && 'local' in profile;
      return { verdict: 'answer', result: invalidDraftResult(local, problemsOf(one)) };
    }
    return ok<'connection:test'>([profileName as string, valid.value satisfies Settings]);
  },

  'host-key:trust': (args) => {
    const [host, port, fingerprint, knownHostsPath] = args;
    if (args.length !== 4) {
      return refused('four arguments: host, port, fingerprint and known_hosts path or null');
    }
    const badHost = badString(host, 'the host', MAX_HOST);
    if (badHost !== null) return refused(badHost);
    if (/\s/.test(host as string) || CONTROL.test(host as string)) {
      return refused('the host must be one word');
    }
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
      return refused('the port must be a whole number from 1 to 65535');
    }
    if (typeof fingerprint !== 'string' || !/^SHA256:[A-Za-z0-9+/]{43}$/.test(fingerprint)) {
      return refused('the fingerprint must be an OpenSSH SHA256 fingerprint');
    }
    if (knownHostsPath !== null) {
      const badPath = badString(knownHostsPath, 'the known_hosts path', MAX_PATH);
      if (badPath !== null) return refused(badPath);
      const path = knownHostsPath as string;
      if (CONTROL.test(path))
        return refused('the known_hosts path must not hold control characters');
      if (!isAbsolutePath(path)) return refused('the known_hosts path must be absolute');
    }
    return ok<'host-key:trust'>([
      host as string,
      port,
      fingerprint,
      knownHostsPath as string | null,
    ]);
  },

  'secret:set': (args) => {
    const [profile, kind, value] = args;
    if (args.length !== 3) return refused('three arguments: profile, kind and value');
    const bad = badName(profile);
    if (bad !== null) return refused(bad);
    if (kind !== 'password' && kind !== 'passphrase' && kind !== 'db-password') {
      return refused('the kind must be password, passphrase or db-password');
    }
    // An empty value forgets the secret.
    const badValue = badString(value, 'the secret', MAX_SECRET, 0);
    if (badValue !== null) return refused(badValue);
    return ok<'secret:set'>([profile as string, kind, value as string]);
  },

  'alerts:pause': (args) => {
    const [until] = args;
    if (args.length !== 1) return refused('one argument: a Unix time or null');
    if (until === null) return ok<'alerts:pause'>([null]);
    if (
      typeof until !== 'number' ||
      !Number.isFinite(until) ||
      until < 0 ||
      until > MAX_UNIX_TIME
    ) {
      return refused('the pause must end at a Unix time in seconds, or be null');
    }
    return ok<'alerts:pause'>([until]);
  },

  'start-at-login:set': (args) => {
    const [enabled] = args;
    if (args.length !== 1 || typeof enabled !== 'boolean') {
      return refused('one argument: true or false');
    }
    return ok<'start-at-login:set'>([enabled]);
  },

  'window:hide': (args) => (args.length === 0 ? ok<'window:hide'>([]) : refused('no arguments')),
};

/** What a channel may reach: the service, and the window's own panel. */
interface Targets {
  service: AppService;
  hideWindow(): void;
}

/** How each channel reaches its target; the mapped type makes a missing channel a compile error. */
const FORWARD: {
  [C in InvokeChannel]: (to: Targets, args: Args<C>) => Promise<Result<C>>;
} = {
  'snapshot:get': ({ service: s }) => s.getSnapshot(),
  'series:get': ({ service: s }, [profile, window]) => s.getSeries(profile, window),
  'refresh:now': ({ service: s }, [profile]) => s.refreshNow(profile),
  'settings:get': ({ service: s }) => s.getSettings(),
  'settings:save': ({ service: s }, [settings]) => s.saveSettings(settings),
  'connection:test': ({ service: s }, [profile, settings]) => s.testConnection(profile, settings),
  'host-key:trust': ({ service: s }, [host, port, fingerprint, path]) =>
    s.trustHostKey(host, port, fingerprint, path),
  'secret:set': ({ service: s }, [profile, kind, value]) => s.setSecret(profile, kind, value),
  'alerts:pause': ({ service: s }, [until]) => s.pauseAlerts(until),
  'start-at-login:set': ({ service: s }, [enabled]) => s.setStartAtLogin(enabled),
  'window:hide': async ({ hideWindow }) => hideWindow(),
};

/** Every invoke channel, from the checks table (which the compiler holds complete). */
export const INVOKE_CHANNELS = Object.keys(PAYLOAD_CHECKS) as InvokeChannel[];

/** What the sender check needs of the event. */
export type SenderEvent = Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>;

/** The URL without its query and fragment: the page, whatever view it shows. */
function pageOf(url: string): string {
  return url.replace(/[?#].*$/s, '');
}

/**
 * Why `event` does not come from our window's main frame showing our page, or null when it does.
 * `ours` is our window's webContents (null while there is none).
 */
export function senderProblem(
  event: SenderEvent,
  ours: WebContents | null,
  rendererUrl: string,
): string | null {
  if (ours === null || ours.isDestroyed()) return 'our window is not open';
  if (event.sender !== ours) return 'another web contents';
  const frame = event.senderFrame;
  if (frame === null) return 'a frame that is gone';
  const main = ours.mainFrame;
  const sameFrame =
    frame === main || (frame.processId === main.processId && frame.routingId === main.routingId);
  if (!sameFrame || frame.parent !== null) return 'a subframe';
  if (pageOf(frame.url) !== pageOf(rendererUrl)) return 'another page';
  return null;
}

/** A refused call, for the log: the channel, the kind and why, never the payload. */
export interface IpcRefusal {
  channel: InvokeChannel;
  reason: string;
  kind: RefusalKind;
}

export interface IpcHandlersOptions {
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>;
  service: AppService;
  /** Hides the panel (the window asked: Escape). */
  hideWindow(): void;
  /** Our window's webContents, or null while there is none. */
  webContents(): WebContents | null;
  /** The page's URL (app-protocol.ts: prosody-active-users://app/index.html). */
  rendererUrl: string;
  onRefused?(refusal: IpcRefusal): void;
  /** The service failed unexpectedly (a bug): logged here, and the renderer's call rejects. */
  onError?(channel: InvokeChannel, error: unknown): void;
}

/** Registers every invoke channel and the snapshot push; returns the function that undoes it. */
export function registerIpcHandlers(options: IpcHandlersOptions): () => void {
  const { ipcMain, service } = options;
  const targets: Targets = { service, hideWindow: () => options.hideWindow() };

  const handle = <C extends InvokeChannel>(channel: C): void => {
    ipcMain.handle(channel, async (event: IpcMainInvokeEvent, ...raw: unknown[]) => {
      const refuse = (reason: string, kind: RefusalKind): never => {
        options.onRefused?.({ channel, reason, kind });
        throw new Error(`${channel} refused: ${reason}`);
      };
      const sender = senderProblem(event, options.webContents(), options.rendererUrl);
      if (sender !== null) refuse(`the sender is ${sender}`, 'sender');
      const check: (args: readonly unknown[]) => Checked<C> = PAYLOAD_CHECKS[channel];
      const checked = check(raw);
      if (checked.verdict === 'refused') return refuse(checked.reason, checked.kind);
      if (checked.verdict === 'answer') return checked.result;
      const forward: (to: Targets, args: Args<C>) => Promise<Result<C>> = FORWARD[channel];
      try {
        return await forward(targets, checked.args);
      } catch (error) {
        options.onError?.(channel, error);
        throw error instanceof Error ? error : new Error(String(error));
      }
    });
  };

  for (const channel of INVOKE_CHANNELS) handle(channel);

  const unsubscribe = service.subscribe((snapshot) => {
    const contents = options.webContents();
    if (contents !== null && !contents.isDestroyed()) {
      sendEvent(contents, 'snapshot:changed', snapshot);
    }
  });

  return () => {
    unsubscribe();
    for (const channel of INVOKE_CHANNELS) ipcMain.removeHandler(channel);
  };
}

/** Sends an event of the contract to the window, typed by its channel. */
export function sendEvent<E extends EventChannel>(
  contents: Pick<WebContents, 'send'>,
  channel: E,
  payload: EventChannels[E],
): void {
  contents.send(channel, payload);
}
