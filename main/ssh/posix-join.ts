import { posix } from 'node:path';

/** A `//`, or a `.` or `..` part: what posix.normalize would change in joined parts. */
const NOT_NORMAL = /\/\/|(?:^|\/)\.\.?(?:\/|$)/;

/**
 * posix.join, without its normalizing pass where the parts need none: the reader joins a folder
 * and a file name a million times a count (issue 14), and normalizing was most of that.
 */
export function posixJoin(...parts: string[]): string {
  for (const p of parts) if (p === '') return posix.join(...parts);
  const joined = parts.join('/');
  return joined === '' || NOT_NORMAL.test(joined) ? posix.join(...parts) : joined;
}
