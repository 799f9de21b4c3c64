/**
 * Text from servers, data files and configs is untrusted, and a terminal acts on the control
 * characters in what it prints: ESC and C1's CSI (U+009B) start sequences that clear lines, move the
 * cursor or set the title, a CR or LF starts a fake row, and the bidi controls reorder what is
 * read. Human-readable output shows them escaped (`\x1b`, `\n`, `\u202e`) instead. Machine formats
 * (--json, --openmetrics, --csv) have escaping of their own and stay exact.
 */

// C0, DEL, C1, the Arabic letter mark, LRM/RLM, the embeddings and overrides, and the isolates.
// eslint-disable-next-line no-control-regex -- control characters are what it finds
const CONTROL = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const CONTROLS = new RegExp(CONTROL.source, 'g');
// eslint-disable-next-line no-control-regex -- control characters are what it finds
const CONTROL_BUT_LF = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const CONTROLS_BUT_LF = new RegExp(CONTROL_BUT_LF.source, 'g');

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escaped(c: string): string {
  const named = NAMED[c];
  if (named !== undefined) return named;
  const code = c.charCodeAt(0);
  return code < 0x100
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** One line of text with every control character shown escaped, line breaks included. */
export function showControls(text: string): string {
  // The common case has none: one test, no copy.
  return CONTROL.test(text) ? text.replace(CONTROLS, escaped) : text;
}

/** Text of several lines with every control character but the line feed shown escaped. */
export function showControlsKeepingLines(text: string): string {
  return CONTROL_BUT_LF.test(text) ? text.replace(CONTROLS_BUT_LF, escaped) : text;
}
