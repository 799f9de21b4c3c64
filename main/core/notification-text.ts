/**
 * A notification's text comes in part from servers (host names, error text), so it is untrusted
 * where the desktop draws it:
 * - Control characters: a bidi override reorders what is read ("gro.elpmaxe" shown as a trusted
 *   name), a CR or LF fakes a line. They are shown escaped (`\x1b`, `\u202e`), as on the terminal;
 *   the body keeps its own line feeds.
 * - Length: a host name of 10 000 characters fills the screen. Title and body are bounded, cut on a
 *   code point, with an ellipsis.
 * - Markup: freedesktop notification daemons (dunst, GNOME, KDE) read a markup subset in the body
 *   (`<b>`, `<a href>`, `<img src>`, entities), the summary is plain text (Desktop Notifications
 *   Specification 1.2, "Markup"). The body is escaped for them: `&`, `<`, `>`. Only where the text
 *   goes to such a daemon (notify-send, Electron's libnotify on Linux, which passes the body on as
 *   it is); macOS and Windows show text as text.
 */
import { showControls, showControlsKeepingLines } from './terminal-text.js';

/** Longer titles are cut: daemons show one or two lines of it. */
export const MAX_TITLE_CHARS = 120;
/** Longer bodies are cut: a grouped alert's details live in the window, not the notification. */
export const MAX_BODY_CHARS = 1000;

const ELLIPSIS = '\u2026';

/** `text` cut to at most `max` code points, the last one an ellipsis when cut. */
export function boundText(text: string, max: number): string {
  if (text.length <= max) return text;
  const points = Array.from(text);
  if (points.length <= max) return text;
  return points.slice(0, max - 1).join('') + ELLIPSIS;
}

/** Title and body with controls shown escaped and lengths bounded (escaping first, then the cut). */
export function safeNotificationText(title: string, body: string): { title: string; body: string } {
  return {
    title: boundText(showControls(title), MAX_TITLE_CHARS),
    body: boundText(showControlsKeepingLines(body), MAX_BODY_CHARS),
  };
}

const MARKUP: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/** The body as text for a daemon that reads markup in it: shown exactly as `text`. */
export function escapeBodyMarkup(text: string): string {
  return text.replace(/[&<>]/g, (c) => MARKUP[c] ?? c);
}
