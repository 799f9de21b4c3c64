/**
 * The app's notifications, through Electron's own Notification: they carry the app's name and
 * icon (on macOS the app's own, with the app's own permission entry; node-notifier's helper there
 * shows as "terminal-notifier" and asks for a permission of its own), and a click opens the window
 * on the server the alert is about. The CLI keeps node-notifier (notify/desktop-notifier.ts):
 * it has no Electron to ask.
 *
 * Where Electron says notifications are not supported, the app falls back to node-notifier
 * (chooseAppNotifier), which at least shows the text.
 *
 * The Notification class is passed in, so this runs under Node in the tests with a recording
 * stand-in (Electron's runtime cannot run there); no electron import at run time.
 */
import { fail, ok, type Result } from '../core/failure.js';
import { escapeBodyMarkup, safeNotificationText } from '../core/notification-text.js';
import type { NotificationContent, Notifier } from '../notify/notifier.js';

/** What the notifier uses of an Electron Notification. */
export interface ShownNotification {
  on(event: 'click' | 'close', listener: () => void): unknown;
  show(): void;
}

/** Electron's Notification class (constructor and isSupported), or a stand-in. */
export interface NotificationClass {
  new (options: {
    title: string;
    body: string;
    icon?: string;
    silent?: boolean;
    timeoutType?: 'default' | 'never';
  }): ShownNotification;
  isSupported(): boolean;
}

export interface ElectronNotifierOptions {
  Notification: NotificationClass;
  /** The app icon's path (Linux and Windows show it; macOS always shows the app's icon). */
  icon?: string;
  /** A notification was clicked: open the window on this profile. */
  onClick(profile: string): void;
  /**
   * Whether the desktop reads markup in the body: on Linux Electron hands the body to libnotify as
   * it is (shell/browser/notifications/linux/libnotify_notification.cc), and the daemon reads
   * `<b>`, `<a href>`, `<img>` and entities in it. Default: whether this is Linux.
   */
  bodyMarkup?: boolean;
}

/**
 * Notifications still on screen, so that their click handlers live as long as they do: Electron
 * drops the click of a Notification object that was garbage-collected (electron/electron#12690).
 * Bounded, so that a desktop that never reports `close` cannot make it grow without end.
 */
const MAX_KEPT = 50;

export class ElectronNotifier implements Notifier {
  private readonly kept = new Set<ShownNotification>();

  constructor(private readonly options: ElectronNotifierOptions) {}

  /** How many notifications are kept for their clicks (for tests). */
  get keptCount(): number {
    return this.kept.size;
  }

  notify(n: NotificationContent): Promise<Result<void>> {
    const failed = (detail: string) =>
      Promise.resolve(
        fail<void>({
          kind: 'notify',
          message: `The desktop notification for profile "${n.profile}" was not shown: ${detail}`,
        }),
      );
    if (!this.options.Notification.isSupported()) {
      return failed('this desktop does not support notifications');
    }
    try {
      const safe = safeNotificationText(n.title === '' ? 'Prosody Active Users' : n.title, n.body);
      const bodyMarkup = this.options.bodyMarkup ?? process.platform === 'linux';
      const notification = new this.options.Notification({
        title: safe.title,
        body: bodyMarkup ? escapeBodyMarkup(safe.body) : safe.body,
        ...(this.options.icon === undefined ? {} : { icon: this.options.icon }),
        silent: true,
      });
      const forget = () => void this.kept.delete(notification);
      notification.on('click', () => {
        forget();
        this.options.onClick(n.profile);
      });
      notification.on('close', forget);
      this.kept.add(notification);
      while (this.kept.size > MAX_KEPT) {
        const oldest = this.kept.values().next().value;
        if (oldest === undefined) break;
        this.kept.delete(oldest);
      }
      notification.show();
      return Promise.resolve(ok(undefined));
    } catch (error) {
      return failed(error instanceof Error ? error.message : String(error));
    }
  }
}

/** Electron's notifications where supported, else the given fallback (node-notifier). */
export function chooseAppNotifier(
  options: ElectronNotifierOptions,
  fallback: () => Notifier,
): Notifier {
  return options.Notification.isSupported() ? new ElectronNotifier(options) : fallback();
}
