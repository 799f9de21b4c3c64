/**
 * Delivery only: the alert policy (core/alert-policy.ts) decides what deserves a notification and
 * the text (core/alert-text.ts) what it says; a Notifier shows it. The desktop notifier is
 * desktop-notifier.ts; tests use a recording fake.
 */
import type { Result } from '../core/failure.js';

export interface NotificationContent {
  /** Short; the text starts with the profile's name. */
  title: string;
  body: string;
  /** The profile the alert is about, for grouping and for failure messages. */
  profile: string;
}

export interface Notifier {
  /** Resolves once the notification was handed to the system, or with the reason it was not. */
  notify(n: NotificationContent): Promise<Result<void>>;
}
