/**
 * The figures of one profile: DAU, WAU and MAU with their changes, stickiness and registrations,
 * the status line, the error with what to do, the history chart and the per-host table. State in,
 * DOM out: the same model always gives the same elements.
 */
import type {
  FigureWithDeltas,
  HistoryWindowName,
  ProfileStatus,
  ProfileView,
  SeriesPoint,
} from '../main/core/ipc-contract.js';
import { type DefinedFigure, FIGURE_DEFINITIONS } from './definitions.js';
import { showControls } from '../main/core/terminal-text.js';
import { type Child, h } from './dom.js';
import {
  describeDelta,
  formatBytes,
  formatCount,
  formatRelative,
  formatSeconds,
  formatTime,
  formatWhen,
  stickiness,
} from './format.js';
import type { HistoryChart } from './history-chart.js';

export interface DashboardModel {
  profile: ProfileView;
  window: HistoryWindowName;
  /** The chart's points for `window`; null while they load. */
  series: SeriesPoint[] | null;
  nowMs: number;
  chart: HistoryChart;
}

export interface DashboardActions {
  refresh(): void;
  chooseWindow(window: HistoryWindowName): void;
  openSettings(): void;
}

export const STATUS_TEXT: Record<ProfileStatus, string> = {
  ok: 'Up to date',
  alerting: 'Large change in the last hours',
  stale: 'No new logins or logouts lately',
  failing: 'Refresh failing',
  refreshing: 'Refreshing…',
  never: 'Not counted yet',
};

const WINDOWS: Array<[HistoryWindowName, string, string]> = [
  ['7d', '7 days', 'the last 7 days'],
  ['30d', '30 days', 'the last 30 days'],
  ['90d', '90 days', 'the last 90 days'],
];

/** A label with its definition: a tooltip on hover and focus, a description for screen readers. */
function definedLabel(figure: DefinedFigure, id: string): Child[] {
  const d = FIGURE_DEFINITIONS[figure];
  return [
    h('span', { class: 'figure-name', id: `${id}-name` }, d.short),
    h(
      'span',
      { class: 'definition', id: `${id}-def`, role: 'tooltip' },
      `${d.long}: ${d.definition}`,
    ),
  ];
}

function delta(value: number, change: number | null, short: string, against: string): Child {
  const d = describeDelta(value, change, against);
  return h(
    'li',
    { class: `delta delta-${d.direction}`, title: `Change against ${against}` },
    h('span', { class: 'vs', 'aria-hidden': 'true' }, short),
    h(
      'span',
      { class: 'change', 'aria-hidden': 'true' },
      h('span', { class: 'arrow' }, d.arrow),
      d.text,
    ),
    h('span', { class: 'visually-hidden' }, d.spoken),
  );
}

function figureCard(
  figure: 'dau' | 'wau' | 'mau',
  f: FigureWithDeltas | null,
  stale: boolean,
): Child {
  const id = `figure-${figure}`;
  return h(
    'div',
    {
      class: `figure${stale ? ' is-stale' : ''}`,
      role: 'group',
      'aria-labelledby': `${id}-name`,
      'aria-describedby': `${id}-def${stale ? ' stale-note' : ''}`,
      id,
    },
    definedLabel(figure, id),
    h('span', { class: 'figure-value', id: `${id}-value` }, f ? formatCount(f.value) : '—'),
    f
      ? h(
          'ul',
          { class: 'deltas', 'aria-label': 'Change' },
          delta(f.value, f.d24h, '24 h', '24 hours earlier'),
          delta(f.value, f.d7d, '7 d', '7 days earlier'),
        )
      : null,
  );
}

function extra(figure: DefinedFigure, id: string, value: string): Child {
  return h(
    'div',
    {
      class: `extra extra-${figure}`,
      role: 'group',
      'aria-labelledby': `${id}-name`,
      'aria-describedby': `${id}-def`,
      id,
    },
    definedLabel(figure, id),
    h('span', { class: 'extra-value' }, value),
  );
}

function statusLine(p: ProfileView, nowMs: number): Child {
  const parts: string[] = [];
  if (p.lastSuccessAt !== null) parts.push(`Last refresh ${formatWhen(p.lastSuccessAt, nowMs)}`);
  if (p.error && p.lastAttemptAt !== null && p.lastAttemptAt !== p.lastSuccessAt) {
    parts.push(`last attempt ${formatWhen(p.lastAttemptAt, nowMs)} failed`);
  }
  if (p.status === 'refreshing') parts.push('refreshing now');
  else if (p.nextRefreshAt !== null) {
    parts.push(
      `next ${formatTime(p.nextRefreshAt, nowMs)} (${formatRelative(p.nextRefreshAt, nowMs)})`,
    );
  }
  if (p.method !== null) {
    // A local read receives nothing over the network: its time is what there is to say.
    const bytes =
      p.bytesReceived !== null && !(p.bytesReceived === 0 && p.method === 'local read')
        ? `${formatBytes(p.bytesReceived)} `
        : '';
    const time = p.seconds !== null ? `in ${formatSeconds(p.seconds)}` : '';
    parts.push(`${p.method}${bytes || time ? `, ${bytes}${time}` : ''}`.trim());
  }
  const line = parts.join(' · ');
  return h(
    'p',
    { class: 'status-line', id: 'status-line' },
    line === '' ? 'No refresh yet' : line.charAt(0).toUpperCase() + line.slice(1),
  );
}

function newestEvent(p: ProfileView): number | null {
  let newest: number | null = null;
  for (const row of p.hosts) {
    const t = row.figures.newestEvent;
    if (t !== null && (newest === null || t > newest)) newest = t;
  }
  return newest;
}

function notes(p: ProfileView, nowMs: number, actions: DashboardActions): Child[] {
  const out: Child[] = [];
  if (p.error) {
    out.push(
      h(
        'div',
        { class: 'problem', role: 'alert', id: 'refresh-error' },
        h(
          'p',
          { class: 'problem-title' },
          `The refresh at ${formatTime(p.error.at, nowMs)} failed.`,
        ),
        h('p', { class: 'problem-text' }, p.error.message),
        h(
          'p',
          { class: 'actions' },
          h(
            'button',
            { type: 'button', id: 'retry', onclick: () => actions.refresh() },
            'Try again',
          ),
          h(
            'button',
            { type: 'button', id: 'error-settings', onclick: () => actions.openSettings() },
            'Open settings',
          ),
        ),
      ),
    );
  }
  if (p.error && p.total && p.lastSuccessAt !== null) {
    out.push(
      h(
        'p',
        { class: 'stale-note', id: 'stale-note' },
        h('span', { class: 'badge badge-stale' }, 'Stale'),
        ` These are the last good figures, from ${formatWhen(p.lastSuccessAt, nowMs)}.`,
      ),
    );
  } else if (p.status === 'stale') {
    const newest = newestEvent(p);
    out.push(
      h(
        'p',
        { class: 'stale-note', id: 'stale-note' },
        h('span', { class: 'badge badge-stale' }, 'Stale'),
        ` No login or logout recorded since ${newest === null ? 'long ago' : formatWhen(newest, nowMs)}: check that mod_lastlog2 (or mod_account_activity) is still enabled.`,
      ),
    );
  }
  return out;
}

function seriesCaption(points: SeriesPoint[] | null, span: string): string {
  if (points === null) return `Loading the history of ${span}…`;
  if (points.length < 2) {
    return `Not enough history for a chart yet: ${points.length === 0 ? 'no refresh' : 'one refresh'} recorded in ${span}.`;
  }
  const first = points[0]!;
  const last = points[points.length - 1]!;
  const online = points.filter((p) => typeof p.online === 'number');
  const onlineText =
    online.length > 0
      ? ` Online, where the live server was asked: from ${online[0]!.online} to ${online[online.length - 1]!.online}.`
      : '';
  return `DAU, WAU and MAU over ${span}, from ${points.length} refreshes: DAU went from ${first.dau} to ${last.dau}, WAU from ${first.wau} to ${last.wau}, MAU from ${first.mau} to ${last.mau}.${onlineText}`;
}

function historySection(model: DashboardModel, actions: DashboardActions): Child {
  const span = WINDOWS.find(([w]) => w === model.window)?.[2] ?? model.window;
  const drawable = model.series !== null && model.series.length >= 2;
  if (drawable) model.chart.show(model.series ?? []);
  return h(
    'section',
    { class: 'history', 'aria-labelledby': 'history-heading' },
    h(
      'div',
      { class: 'section-head' },
      h('h2', { id: 'history-heading' }, 'History'),
      h(
        'div',
        { class: 'segmented', role: 'group', 'aria-label': 'Span of the chart' },
        WINDOWS.map(([w, label]) =>
          h(
            'button',
            {
              type: 'button',
              id: `window-${w}`,
              'aria-pressed': w === model.window ? 'true' : 'false',
              onclick: () => actions.chooseWindow(w),
            },
            label,
          ),
        ),
      ),
    ),
    h(
      'figure',
      { class: `chart-figure${drawable ? '' : ' is-empty'}`, 'aria-labelledby': 'chart-caption' },
      drawable ? model.chart.element : null,
      h(
        'ul',
        { class: 'legend', 'aria-hidden': 'true' },
        ['dau', 'wau', 'mau'].map((f) =>
          h('li', null, h('span', { class: `swatch swatch-${f}` }), f.toUpperCase()),
        ),
        model.series?.some((p) => typeof p.online === 'number')
          ? h('li', null, h('span', { class: 'swatch swatch-online' }), 'Online')
          : null,
      ),
      h('figcaption', { id: 'chart-caption' }, seriesCaption(model.series, span)),
    ),
  );
}

function hostsSection(p: ProfileView, nowMs: number): Child {
  if (p.hosts.length === 0) return null;
  // Shown only where Prosody 13's rule left accounts out, so 0.12 servers see the table as before.
  const leftOut = p.hosts.some(
    ({ figures: f }) => (f.excludedDisabled ?? 0) + (f.excludedNoAccount ?? 0) > 0,
  );
  const withOnline = p.hosts.some(({ figures: f }) => typeof f.online === 'number');
  const head = [
    'Host',
    'DAU',
    'WAU',
    'MAU',
    ...(withOnline ? ['Online'] : []),
    'New 30 d',
    'Latest activity',
  ];
  if (leftOut) head.push('Left out');
  return h(
    'section',
    { class: 'hosts', 'aria-labelledby': 'hosts-heading' },
    h('h2', { id: 'hosts-heading' }, 'Per host'),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { id: 'hosts-table', 'aria-labelledby': 'hosts-heading' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            head.map((t, i) => h('th', { scope: 'col', class: i > 0 ? 'num' : null }, t)),
          ),
        ),
        h(
          'tbody',
          null,
          p.hosts.map(({ host, figures: f }) =>
            h(
              'tr',
              null,
              // A host name is one line: a line break in it is shown escaped too.
              h('th', { scope: 'row' }, showControls(host)),
              [f.dau, f.wau, f.mau].map((n) => h('td', { class: 'num' }, formatCount(n))),
              withOnline
                ? h(
                    'td',
                    { class: 'num' },
                    typeof f.online === 'number' ? formatCount(f.online) : '—',
                  )
                : null,
              h('td', { class: 'num' }, formatCount(f.new30d)),
              h(
                'td',
                { class: 'num' },
                f.newestEvent === null ? '—' : formatRelative(f.newestEvent, nowMs),
              ),
              leftOut
                ? h(
                    'td',
                    {
                      class: 'num left-out',
                      title:
                        'Accounts with records that Prosody 13 does not count, as its own module does',
                    },
                    // Two spans, each kept whole, so a narrow panel wraps between them only.
                    h('span', null, `${formatCount(f.excludedDisabled ?? 0)} disabled,`),
                    ' ',
                    h('span', null, `${formatCount(f.excludedNoAccount ?? 0)} no account`),
                  )
                : null,
            ),
          ),
        ),
      ),
    ),
  );
}

export function dashboardView(model: DashboardModel, actions: DashboardActions): Child[] {
  const p = model.profile;
  const t = p.total;
  const stale = p.error !== null && t !== null;
  const loading = t === null && (p.status === 'refreshing' || p.status === 'never');
  const figuresSection = h(
    'section',
    {
      class: 'figures-section',
      'aria-labelledby': 'figures-heading',
      'aria-busy': loading && p.status === 'refreshing' ? 'true' : null,
      id: 'figures',
    },
    h(
      'div',
      { class: 'section-head' },
      h('h2', { id: 'figures-heading' }, p.name),
      h(
        'span',
        { class: `status status-${p.status}`, id: 'profile-status' },
        STATUS_TEXT[p.status],
      ),
    ),
    notes(p, model.nowMs, actions),
    loading
      ? h(
          'p',
          { class: 'loading', role: 'status', id: 'loading' },
          p.status === 'refreshing'
            ? `Counting the active users of ${p.name} for the first time…`
            : `${p.name} has not been counted yet.`,
        )
      : null,
    h(
      'div',
      { class: 'figures' },
      figureCard('dau', t?.dau ?? null, stale),
      figureCard('wau', t?.wau ?? null, stale),
      figureCard('mau', t?.mau ?? null, stale),
    ),
    t
      ? h(
          'div',
          { class: `extras${stale ? ' is-stale' : ''}` },
          extra('stickiness', 'figure-stickiness', stickiness(t.dau.value, t.mau.value) ?? '—'),
          typeof t.online === 'number'
            ? extra('online', 'figure-online', formatCount(t.online))
            : null,
          extra('accounts', 'figure-accounts', formatCount(t.accounts)),
          extra(
            'registrations',
            'figure-registrations',
            `${formatCount(t.new1d)} in 24 h · ${formatCount(t.new7d)} in 7 d · ${formatCount(t.new30d)} in 30 d`,
          ),
        )
      : null,
    statusLine(p, model.nowMs),
  );
  return [
    figuresSection,
    t ? historySection(model, actions) : null,
    hostsSection(p, model.nowMs),
    alertsSection(p, model.nowMs),
  ];
}

/** The alerts of the last 24 hours: every one a grouped notification stood for. */
function alertsSection(p: ProfileView, nowMs: number): Child {
  const alerts = p.alerts ?? [];
  if (alerts.length === 0) return null;
  const more = p.moreAlerts ?? 0;
  return h(
    'section',
    { class: 'alerts-section', 'aria-labelledby': 'alerts-heading', id: 'alerts' },
    h('h2', { id: 'alerts-heading' }, `Alerts in the last 24 hours (${alerts.length + more})`),
    h(
      'ul',
      { class: 'alert-list', id: 'alert-list' },
      alerts.map((a) =>
        h(
          'li',
          { class: 'alert-item' },
          h('span', { class: 'alert-time' }, formatTime(a.at, nowMs)),
          ' ',
          h('strong', { class: 'alert-title' }, a.title),
          h('p', { class: 'alert-body' }, a.body),
        ),
      ),
    ),
    more > 0 ? h('p', { class: 'muted', id: 'alert-more' }, `And ${more} older ones.`) : null,
  );
}
