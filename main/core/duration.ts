/**
 * Durations as people type them (`--interval 1h30m`) and as the app shows them (`1h 30m`), in whole
 * seconds. Pure: no clock, no locale.
 */

const UNITS = [
  ['d', 86_400n],
  ['h', 3_600n],
  ['m', 60n],
  ['s', 1n],
] as const;

/** A decimal number: digits, optionally a point and more digits (no sign, no exponent). */
const NUMBER = String.raw`\d+(?:\.\d+)?`;
/** `1h`, `1h30m`, `1h 30m`, `2d 4h`: each unit at most once, largest first. */
const COMPOUND = new RegExp(
  '^' + UNITS.map(([unit]) => `(?:(${NUMBER})${unit})?`).join(String.raw`\s*`) + '$',
);
const BARE = new RegExp(`^(${NUMBER})$`);

/**
 * Seconds in `text`, or null when it is not a positive duration.
 *
 * Accepted: a bare number of seconds (`90`), or one or more parts `<number><unit>` with the units
 * `d`, `h`, `m`, `s` (lower case: `M` could mean months), each at most once and largest first,
 * optionally separated by spaces (`1h30m`, `1h 30m`, `2d`). A part may carry a decimal fraction
 * (`1.5h` is 5400) as long as the total is a whole number of seconds (`1.5s` is refused), because a
 * fractional second is never what someone meant by an interval; the arithmetic is exact.
 * Refused: zero, signs, exponents, a space between a number and its unit, units out of order or
 * repeated, anything beyond Number.MAX_SAFE_INTEGER, and any other text.
 */
export function parseDuration(text: string): number | null {
  const parts = partsOf(text.trim());
  if (parts.length === 0) return null;

  // Sum as a fraction over a common power of ten, so that 0.1h is exactly 360.
  let numerator = 0n;
  let scale = 1n;
  for (const [number, unitSeconds] of parts) {
    const [whole = '', fraction = ''] = number.split('.');
    const partScale = 10n ** BigInt(fraction.length);
    const partNumerator = BigInt(whole + fraction) * unitSeconds;
    // a/s + b/p over the larger of the two powers of ten.
    if (partScale > scale) {
      numerator = numerator * (partScale / scale) + partNumerator;
      scale = partScale;
    } else {
      numerator = numerator + partNumerator * (scale / partScale);
    }
  }
  if (numerator % scale !== 0n) return null;
  const seconds = numerator / scale;
  if (seconds <= 0n || seconds > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return Number(seconds);
}

/** The `<number>` and unit size of each part present; empty when `t` is not a duration. */
function partsOf(t: string): Array<[number: string, unitSeconds: bigint]> {
  const bare = BARE.exec(t);
  if (bare?.[1] !== undefined) return [[bare[1], 1n]];
  const m = COMPOUND.exec(t);
  if (!m) return [];
  return UNITS.flatMap(([, unitSeconds], i): Array<[string, bigint]> => {
    const number = m[i + 1];
    return number === undefined ? [] : [[number, unitSeconds]];
  });
}

/**
 * `1h`, `30m`, `1h 30m`, `45s`, `2d 3h`: the largest units first, zero parts left out, so that what
 * the app shows can be typed back into `--interval` (parseDuration reads every output back).
 * Fractions of a second are rounded; zero is `0s`. A negative or non-finite number is a caller's
 * bug (clamp an overdue countdown to 0 first) and throws a RangeError.
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new RangeError(
      `formatDuration: expected a non-negative number of seconds, got ${seconds}`,
    );
  }
  let rest = BigInt(Math.round(seconds));
  if (rest === 0n) return '0s';
  const parts: string[] = [];
  for (const [unit, unitSeconds] of UNITS) {
    const count = rest / unitSeconds;
    if (count > 0n) {
      parts.push(`${count}${unit}`);
      rest -= count * unitSeconds;
    }
  }
  return parts.join(' ');
}
