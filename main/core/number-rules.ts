/**
 * Bounds on the numbers a person sets, shared by settings.json and the CLI options so that a value
 * one accepts the other accepts too. Every bound keeps the timers built from it within Node's
 * setTimeout (MAX_TIMER_MS, about 24.8 days): beyond that a timer fires at once.
 */
import { DAY } from './windows.js';

export interface NumberRule {
  min: number;
  max: number;
  whole: boolean;
  /** Says the rule after "must be". */
  what: string;
}

/** Whether `v` is a number within `rule`. */
export function fitsRule(v: unknown, rule: NumberRule): v is number {
  return (
    typeof v === 'number' &&
    Number.isFinite(v) &&
    v >= rule.min &&
    v <= rule.max &&
    (!rule.whole || Number.isInteger(v))
  );
}

/** Seconds to connect and log in; each remote step gets 8 times as long (80 min at most). */
export const CONNECT_TIMEOUT_RULE: NumberRule = {
  min: Number.MIN_VALUE,
  max: 600,
  whole: false,
  what: 'a number of seconds above 0 and at most 600',
};

/** Seconds between two counts of the monitor. */
export const INTERVAL_RULE: NumberRule = {
  min: 1,
  max: 7 * DAY,
  whole: true,
  what: 'a whole number of seconds from 1 to 604800 (7 days)',
};
