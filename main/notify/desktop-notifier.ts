/**
 * Desktop notifications through node-notifier: notify-send on Linux and the BSDs (any daemon of the
 * freedesktop Notifications spec: GNOME, KDE, dunst…), terminal-notifier on macOS, SnoreToast on
 * Windows. No sound, no waiting for the user: `notify` resolves once the system took the
 * notification, or with a failure (never a rejection) when it did not.
 *
 * Facts about node-notifier 10 this relies on (read in its source, checked against notify-send
 * 0.8.1 and dunst 1.9 in test/notify/desktop-notifier.test.ts):
 * - On Linux it runs `notify-send "TITLE" "BODY" --app-name … --expire-time …` through a shell
 *   (child_process.exec), escaping `"`, `$`, backquote and backslash, with the environment of the
 *   moment of the call: DBUS_SESSION_BUS_ADDRESS is read then, not when the module loads.
 * - Its callback gets an Error when the command fails, and otherwise the command's stderr as a
 *   string ('' when quiet): only an Error means "not delivered".
 * - It turns newlines into the two characters `\n`. notify-send unescapes C escapes (g_strcompress)
 *   in the body, so `\n` becomes a newline again — and a lone backslash is eaten (`C:\temp` would
 *   arrive with a tab). The summary is not unescaped. Hence forNotifySend() below.
 * - notify-send takes an argument starting with `-` for an option ("Unknown option -x") and
 *   node-notifier gives no way to pass `--`: a leading hyphen becomes U+2212, the minus sign.
 * - An empty title becomes "Node Notification:"; an empty body is an error ("Message is required.").
 * - macOS: by default it passes terminal-notifier `-timeout 10`, which waits up to 10 s for a click
 *   before the callback runs; `timeout: false` returns at once (node-notifier's README, "As of
 *   Version 6.0 there is a default timeout"; mikaelbr/node-notifier-cli#18).
 * - Windows: `appID` is the AppUserModelId the toast is shown under; the app passes the one its
 *   installer registers (electron-builder's appId), or Windows shows "SnoreToast".
 */
import nodeNotifier from 'node-notifier';
import { fail, ok, type Failure, type Result } from '../core/failure.js';
import { escapeBodyMarkup, safeNotificationText } from '../core/notification-text.js';
import type { NotificationContent, Notifier } from './notifier.js';

export const DEFAULT_APP_NAME = 'Prosody Active Users';

/** node-notifier's callback: an Error when not delivered; otherwise stderr text or nothing. */
export type BackendCallback = (
  error: Error | string | null | undefined,
  response?: unknown,
) => void;

/** node-notifier's `notify`, or a stand-in for tests. */
export interface NotifierBackend {
  notify(options: Record<string, unknown>, callback: BackendCallback): unknown;
}

export interface DesktopNotifierOptions {
  /** Shown by Linux notification daemons as the sender. */
  appName?: string;
  /** Windows AppUserModelId (the app's appId); without it Windows shows "SnoreToast". */
  appID?: string;
  /** Absolute path of an icon. */
  icon?: string;
  /** How long the notification stays up where the daemon lets us choose (Linux). Default 10 s. */
  displaySeconds?: number;
  /** Give up waiting for the system after this long. Default 30 s. */
  deliveryTimeoutMs?: number;
  /** Default: node-notifier, which picks the system's mechanism. */
  backend?: NotifierBackend;
  /** Whether the backend is notify-send. Default: whether node-notifier chose notify-send. */
  usesNotifySend?: boolean;
}

const MINUS = '\u2212';

export class DesktopNotifier implements Notifier {
  private readonly appName: string;
  private readonly backend: NotifierBackend;
  private readonly usesNotifySend: boolean;

  constructor(private readonly options: DesktopNotifierOptions = {}) {
    this.appName = options.appName ?? DEFAULT_APP_NAME;
    this.backend = options.backend ?? (nodeNotifier as unknown as NotifierBackend);
    this.usesNotifySend =
      options.usesNotifySend ??
      (options.backend === undefined && nodeNotifier instanceof nodeNotifier.NotifySend);
  }

  /** What goes to node-notifier for `n` (exposed for tests). */
  backendOptions(n: NotificationContent): Record<string, unknown> {
    const safe = safeNotificationText(n.title === '' ? this.appName : n.title, n.body);
    // notify-send's daemons read markup in the body (core/notification-text.ts).
    const text = this.usesNotifySend
      ? forNotifySend(safe.title, escapeBodyMarkup(safe.body))
      : safe;
    const options: Record<string, unknown> = {
      title: text.title,
      message: text.body,
      wait: false,
      sound: false,
      // notify-send: seconds on screen. Elsewhere false: do not wait for a click (see above).
      timeout: this.usesNotifySend ? (this.options.displaySeconds ?? 10) : false,
      'app-name': this.appName,
    };
    if (this.options.appID !== undefined) options.appID = this.options.appID;
    if (this.options.icon !== undefined) options.icon = this.options.icon;
    return options;
  }

  notify(n: NotificationContent): Promise<Result<void>> {
    const seconds = (this.options.deliveryTimeoutMs ?? 30_000) / 1000;
    return new Promise((resolve) => {
      let settled = false;
      const finish = (result: Result<void>): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const timer = setTimeout(
        () =>
          finish(
            fail({
              kind: 'timeout',
              host: 'the desktop notification service',
              step: `showing a notification for profile "${n.profile}"`,
              seconds,
            }),
          ),
        seconds * 1000,
      );
      try {
        this.backend.notify(this.backendOptions(n), (error) => {
          if (error instanceof Error) finish(fail(this.failure(n.profile, error)));
          else finish(ok(undefined));
        });
      } catch (error) {
        finish(fail(this.failure(n.profile, error)));
      }
    });
  }

  private failure(profile: string, error: unknown): Failure {
    const message = error instanceof Error ? error.message : String(error);
    let detail: string;
    if (/not found: notify-send|notify-send must be installed/.test(message)) {
      detail = 'notify-send is not installed (Debian and Ubuntu: the libnotify-bin package)';
    } else if (message.startsWith('Command failed:')) {
      // The first line repeats the command (with the text); the rest is the command's stderr.
      const stderr = message.split('\n').slice(1).join(' ').trim();
      detail = stderr === '' ? 'the notification command failed' : stderr;
      if (this.usesNotifySend) {
        detail += ' (is a notification service running in this desktop session?)';
      }
    } else detail = message;
    return {
      kind: 'notify',
      message: `The desktop notification for profile "${profile}" was not shown: ${detail}`,
    };
  }
}

/** Title and body that arrive as given through node-notifier and notify-send (see above). */
export function forNotifySend(title: string, body: string): { title: string; body: string } {
  const noLeadingHyphen = (s: string): string => (s.startsWith('-') ? MINUS + s.slice(1) : s);
  return {
    // The summary is not unescaped: a newline would arrive as the two characters `\n`.
    title: noLeadingHyphen(title.replace(/\r?\n/g, ' ')),
    body: noLeadingHyphen(body.replace(/\\/g, '\\\\')),
  };
}
