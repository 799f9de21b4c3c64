/**
 * A POSIX regular expression (PostgreSQL's ARE dialect) that matches RFC 8259 JSON text nested at
 * most `depth` levels. PostgreSQL 15 has no pg_input_is_valid and no `IS JSON`, and a cast of bad
 * text to json aborts the whole statement; a read-only role may create no function to catch that.
 * So the query tests each value with this first and casts only what matches. A regular expression
 * cannot follow unbounded nesting: Prosody's activity values are flat objects, and deeper values
 * (never written by Prosody) count as malformed.
 */
export function jsonSyntaxRegex(depth: number): string {
  const ws = '[ \\t\\n\\r]*';
  // Any character but '"', '\' and control characters, or an escape JSON allows.
  const str = '"(?:[^"\\\\\\x01-\\x1f]|\\\\(?:["\\\\/bfnrt]|u[0-9a-fA-F]{4}))*"';
  const num = '-?(?:0|[1-9][0-9]*)(?:\\.[0-9]+)?(?:[eE][-+]?[0-9]+)?';
  const scalar = `${str}|${num}|true|false|null`;
  let value = `(?:${scalar})`;
  for (let level = 0; level < depth; level++) {
    const member = `${str}${ws}:${ws}${value}`;
    const object = `\\{${ws}(?:${member}(?:${ws},${ws}${member})*)?${ws}\\}`;
    const array = `\\[${ws}(?:${value}(?:${ws},${ws}${value})*)?${ws}\\]`;
    value = `(?:${scalar}|${object}|${array})`;
  }
  return `^${ws}${value}${ws}$`;
}

/**
 * A quick subset of {@link jsonSyntaxRegex}: a flat object of plain keys, escape-free strings and
 * integers, the shape of every value Prosody writes. PostgreSQL's regular expressions cost about
 * a microsecond a row for this one and several for the full one, which then runs only on the rest.
 */
export function flatJsonObjectRegex(): string {
  const value = '(?:"[^"\\\\\\x01-\\x1f]*"|-?(?:0|[1-9][0-9]*))';
  const member = `"[a-z_]+":${value}`;
  return `^\\{(?:${member},)*${member}\\}$`;
}
