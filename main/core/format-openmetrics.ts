import { SKIP_REASONS } from './activity-record.js';
import type { SourcedReport } from './activity-source.js';
import type { HostCounts } from './count-active.js';

/** Prosody's own names, so that dashboards built on mod_measure_active_users work unchanged. */
const PROSODY_PREFIX = 'prosody_mod_measure_active_users__active_users_';
/** Our extra figures, under a prefix of our own. */
const OURS = 'prosody_active_users_';

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** A number as the text format writes it: JavaScript's `Infinity` is `+Inf` there. */
export function sampleValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

interface Family {
  name: string;
  help: string;
  unit?: string;
  samples: (host: string, c: HostCounts) => Array<[labels: string, value: number]>;
}

const FAMILIES: Family[] = [
  ...(['1d', '7d', '30d'] as const).map((w): Family => ({
    name: `${PROSODY_PREFIX}${w}`,
    help: `Accounts that logged in or out within the last ${w.replace('d', ' day(s)')}`,
    samples: (_h, c) => [['', w === '1d' ? c.dau : w === '7d' ? c.wau : c.mau]],
  })),
  {
    name: `${OURS}accounts`,
    help: 'Accounts with activity records',
    samples: (_h, c) => [['', c.accounts]],
  },
  {
    name: `${OURS}new_registrations`,
    help: 'Accounts registered within the window',
    samples: (_h, c) => [
      [',window="1d"', c.new1d],
      [',window="7d"', c.new7d],
      [',window="30d"', c.new30d],
    ],
  },
  {
    name: `${OURS}newest_event_timestamp`,
    help: 'Unix time of the newest login, logout or activity record',
    unit: 'seconds',
    samples: (_h, c) => (c.newestEvent === null ? [] : [['', c.newestEvent]]),
  },
  {
    name: `${OURS}excluded_accounts`,
    help: 'Accounts with records that the host\u2019s rule left out (Prosody 13): disabled, no account, or every one where the authentication cannot say "enabled"',
    samples: (_h, c) => [
      [',reason="disabled"', c.excludedDisabled],
      [',reason="no-account"', c.excludedNoAccount],
      [',reason="authentication"', c.excludedByAuth],
    ],
  },
  {
    name: `${OURS}online`,
    help: 'Accounts with at least one session open at counting time (absent when the live server could not be asked)',
    samples: (_h, c) => (c.online === null ? [] : [['', c.online]]),
  },
  {
    name: `${OURS}not_knowable_accounts`,
    help: 'Counting as of a past --at only: accounts whose last login or logout is after it, so what they did then cannot be known',
    samples: (_h, c) => (c.notKnowable === undefined ? [] : [['', c.notKnowable]]),
  },
  {
    name: `${OURS}skipped_records`,
    help: 'Stored rows left out of the count',
    samples: (_h, c) => SKIP_REASONS.map((r) => [`,reason="${r}"`, c.skippedByReason[r]]),
  },
];

/** `--openmetrics`: the OpenMetrics text format, ending in `# EOF`. */
export function formatOpenMetrics(report: SourcedReport): string {
  return [...openMetricsChunks(report)].join('');
}

/** Lines per chunk: large enough that writing is cheap, small enough that memory stays flat. */
const LINES_PER_CHUNK = 1000;

/** The text's lines, without their line breaks, made one at a time. */
export function* openMetricsLines(report: SourcedReport): Generator<string> {
  for (const f of FAMILIES) {
    const metric = f.unit ? `${f.name}_${f.unit}` : f.name;
    yield `# TYPE ${metric} gauge`;
    if (f.unit) yield `# UNIT ${metric} ${f.unit}`;
    yield `# HELP ${metric} ${f.help}.`;
    for (const [host, counts] of Object.entries(report.hosts)) {
      for (const [labels, value] of f.samples(host, counts)) {
        yield `${metric}{host="${escapeLabel(host)}"${labels}} ${sampleValue(value)}`;
      }
    }
  }
  yield '# EOF';
}

/**
 * formatOpenMetrics's text in pieces of whole lines, made as they are asked for: 100 k hosts make
 * about 2 M lines, which as one string (and its array of lines) took 650 MB at the peak.
 */
export function* openMetricsChunks(report: SourcedReport): Generator<string> {
  let lines: string[] = [];
  for (const line of openMetricsLines(report)) {
    lines.push(line);
    if (lines.length >= LINES_PER_CHUNK) {
      yield lines.join('\n') + '\n';
      lines = [];
    }
  }
  if (lines.length > 0) yield lines.join('\n') + '\n';
}
