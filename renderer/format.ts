/**
 * Text the window shows: changes, times, sizes. Pure (the time of day comes in as a parameter), so
 * Node tests pin every case.
 */

export type Direction = 'up' | 'down' | 'flat' | 'none';

export interface DeltaText {
  direction: Direction;
  /** What the eye reads: an arrow-free signed change, `+20 %`, `−3.5 %`, `+4 (from 0)`, `0 %`, `—`. */
  text: string;
  /** The arrow, drawn beside the text and hidden from screen readers (which get `spoken`). */
  arrow: string;
  /** The same for a screen reader: `up 20 % against 24 hours earlier (from 10)`. */
  spoken: string;
}

const MINUS = '\u2212';
const NBSP = '\u00a0';

/** A percentage with a sign: one decimal below 10 %, none above. */
function percent(p: number): string {
  const abs = Math.abs(p);
  const digits = abs < 10 && abs !== Math.round(abs) ? 1 : 0;
  const body = abs.toFixed(digits);
  const sign = p > 0 ? '+' : p < 0 ? MINUS : '';
  return `${sign}${body}${NBSP}%`;
}

/**
 * The change of a figure against an earlier one. `change` is the signed difference (now − then),
 * null when nothing was recorded then; `against` names the earlier moment for screen readers
 * ("24 hours earlier").
 */
export function describeDelta(value: number, change: number | null, against: string): DeltaText {
  if (change === null) {
    return {
      direction: 'none',
      text: '—',
      arrow: '',
      spoken: `no figure recorded ${against}`,
    };
  }
  const before = value - change;
  if (change === 0) {
    return {
      direction: 'flat',
      text: `0${NBSP}%`,
      arrow: '→',
      spoken: `unchanged against ${against} (${before})`,
    };
  }
  const direction = change > 0 ? 'up' : 'down';
  const arrow = change > 0 ? '▲' : '▼';
  if (before === 0) {
    return {
      direction,
      text: `+${change} (from 0)`,
      arrow,
      spoken: `up by ${change} against ${against} (from 0)`,
    };
  }
  const p = (change / before) * 100;
  return {
    direction,
    text: percent(p),
    arrow,
    spoken: `${direction} ${percent(Math.abs(p)).replace('+', '')} against ${against} (from ${before})`,
  };
}

/** DAU ÷ MAU as a percentage, or null when there is no MAU to divide by. */
export function stickiness(dau: number, mau: number): string | null {
  if (mau <= 0) return null;
  return `${Math.round((dau / mau) * 100)}${NBSP}%`;
}

/** 1 234 567 as the reader's locale groups digits. */
export function formatCount(n: number): string {
  return n.toLocaleString();
}

export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes}${NBSP}bytes`;
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)}${NBSP}kB`;
  if (bytes < 1_000_000_000) return `${(bytes / 1_000_000).toFixed(1)}${NBSP}MB`;
  return `${(bytes / 1_000_000_000).toFixed(2)}${NBSP}GB`;
}

export function formatSeconds(seconds: number): string {
  if (seconds < 0.01) return `<${NBSP}0.01${NBSP}s`;
  return seconds < 10 ? `${seconds.toFixed(2)}${NBSP}s` : `${Math.round(seconds)}${NBSP}s`;
}

/** `in 5 min`, `3 h ago`, `just now`: how far `at` (Unix seconds) is from `nowMs`. */
export function formatRelative(at: number, nowMs: number): string {
  const diff = at - Math.floor(nowMs / 1000);
  const abs = Math.abs(diff);
  if (abs < 45) return diff <= 0 ? 'just now' : 'in a moment';
  let amount: string;
  if (abs < 90 * 60) amount = `${Math.max(1, Math.round(abs / 60))}${NBSP}min`;
  else if (abs < 36 * 3600) amount = `${Math.round(abs / 3600)}${NBSP}h`;
  else {
    const days = Math.round(abs / 86400);
    amount = `${days}${NBSP}day${days === 1 ? '' : 's'}`;
  }
  return diff < 0 ? `${amount} ago` : `in ${amount}`;
}

/** A time of day, with the date when it is not today (in the reader's time zone and locale). */
export function formatTime(at: number, nowMs: number): string {
  const d = new Date(at * 1000);
  const today = new Date(nowMs);
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  if (d.toDateString() === today.toDateString()) return time;
  return `${d.toLocaleDateString([], { day: 'numeric', month: 'short' })} ${time}`;
}

/** `14:03 (5 min ago)`. */
export function formatWhen(at: number, nowMs: number): string {
  return `${formatTime(at, nowMs)} (${formatRelative(at, nowMs)})`;
}
