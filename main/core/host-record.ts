/**
 * Records keyed by a host name (or another name from a server). On a plain `{}`, `o[host] = v`
 * with a host named `__proto__` replaces the prototype instead of adding the host, and reading
 * `o['constructor']` finds Object's before anything was stored. Any name Prosody accepts must come
 * out as itself: these write own properties and read only own ones. The records stay plain objects
 * (JSON, structured clone and spreading keep an own `__proto__` key as a key).
 */
export function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, {
    value,
    writable: true,
    enumerable: true,
    configurable: true,
  });
}

/** record[key] when it is the record's own, else undefined. */
export function getOwn<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
