/**
 * The window's entry point: keeps the view state, asks the main process through the one API the
 * preload exposes (`window.prosodyActiveUsers`, nothing else), and draws each region of the page
 * again when what it shows has changed.
 */
import type {
  AppSnapshot,
  HistoryWindowName,
  ProfileView,
  RendererApi,
  SeriesPoint,
  ViewName,
} from '../main/core/ipc-contract.js';
import type { Settings } from '../main/core/profile-validation.js';
import { STATUS_TEXT, dashboardView } from './dashboard-view.js';
import { type Child, h, replaceKeepingFocus } from './dom.js';
import { HistoryChart } from './history-chart.js';
import {
  type TextFieldName,
  draftOf,
  problemsFromMessage,
  profileOf,
  settingsWith,
} from './profile-form.js';
import { type EditorState, type SettingsModel, settingsView } from './settings-view.js';

declare global {
  interface Window {
    prosodyActiveUsers?: RendererApi;
  }
}

type View = ViewName;

interface State {
  snapshot: AppSnapshot | null;
  view: View;
  selected: string | null;
  window: HistoryWindowName;
  series: { key: string; points: SeriesPoint[] | null };
  settings: Settings | null;
  editor: EditorState | null;
  confirmRemove: number | null;
  notice: SettingsModel['notice'];
  nowMs: number;
  /** The first-run editor was opened once; closing it must not reopen it. */
  firstRunHandled: boolean;
}

/** A part of the page drawn again only when one of its inputs changed (compared with ===). */
function region(el: HTMLElement): (inputs: unknown[], draw: () => Child[]) => void {
  let last: unknown[] | null = null;
  return (inputs, draw) => {
    if (last && last.length === inputs.length && last.every((v, i) => v === inputs[i])) return;
    last = inputs;
    replaceKeepingFocus(el, draw());
  };
}

function byId(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`index.html has no #${id}`);
  return el;
}

function start(api: RendererApi): void {
  const chart = new HistoryChart();
  const main = byId('main');
  const header = region(byId('app-header'));
  const dashboard = region(byId('dashboard'));
  const settingsRegion = region(byId('settings'));
  const state: State = {
    snapshot: null,
    view: 'dashboard',
    selected: null,
    window: '7d',
    series: { key: '', points: null },
    settings: null,
    editor: null,
    confirmRemove: null,
    notice: null,
    nowMs: Date.now(),
    firstRunHandled: false,
  };
  /** Secrets stored for a server that was tested but never saved: forgotten on Cancel. */
  const testedSecrets = new Set<string>();

  const current = (): ProfileView | null => {
    const profiles = state.snapshot?.profiles ?? [];
    return profiles.find((p) => p.name === state.selected) ?? profiles[0] ?? null;
  };

  const focusSoon = (id: string) =>
    requestAnimationFrame(() => document.getElementById(id)?.focus({ preventScroll: false }));

  // ---- drawing ----------------------------------------------------------------------------

  const render = () => {
    const s = state.snapshot;
    main.setAttribute('aria-busy', s === null ? 'true' : 'false');
    byId('boot').hidden = s !== null;
    const profile = current();
    const names = (s?.profiles ?? []).map((p) => `${p.name}\u0000${p.status}`).join('\u0001');
    header([s === null, state.view, names, profile?.name, s?.stateFolderWarning], () =>
      drawHeader(s, profile),
    );
    const showDashboard = s !== null && state.view === 'dashboard';
    byId('dashboard').hidden = !showDashboard;
    byId('settings').hidden = !(s !== null && state.view === 'settings');
    if (s === null) return;
    if (showDashboard) {
      dashboard([profile, state.window, state.series.points, state.nowMs], () =>
        profile
          ? dashboardView(
              {
                profile,
                window: state.window,
                series: state.series.points,
                nowMs: state.nowMs,
                chart,
              },
              {
                refresh: () => void refreshNow(),
                chooseWindow: (w) => {
                  state.window = w;
                  loadSeries();
                  render();
                },
                openSettings: () => show('settings'),
              },
            )
          : [
              h('p', { class: 'muted' }, 'No server is set up yet.'),
              h(
                'button',
                { type: 'button', id: 'empty-settings', onclick: () => show('settings') },
                'Open settings',
              ),
            ],
      );
    } else {
      settingsRegion(
        [
          s.startAtLogin,
          s.secretsAvailable,
          s.alertsPausedUntil,
          s.firstRun,
          s.settingsProblem,
          state.settings,
          state.editor,
          state.confirmRemove,
          state.notice,
        ],
        () =>
          settingsView(
            {
              snapshot: s,
              settings: state.settings,
              editor: state.editor,
              confirmRemove: state.confirmRemove,
              notice: state.notice,
              nowMs: state.nowMs,
            },
            settingsActions,
          ),
      );
    }
  };

  const drawHeader = (s: AppSnapshot | null, profile: ProfileView | null): Child[] => {
    const profiles = s?.profiles ?? [];
    return [
      h('h1', null, 'Prosody Active Users'),
      s?.stateFolderWarning
        ? h(
            'p',
            { class: 'problem-text', role: 'status', id: 'state-folder-warning' },
            s.stateFolderWarning,
          )
        : null,
      s === null
        ? null
        : h(
            'div',
            { class: 'toolbar' },
            profiles.length > 1 && state.view === 'dashboard'
              ? h(
                  'div',
                  { class: 'picker' },
                  h('label', { for: 'profile-picker' }, 'Server'),
                  h(
                    'select',
                    {
                      id: 'profile-picker',
                      onchange: (e: Event) => {
                        state.selected = (e.target as HTMLSelectElement).value;
                        loadSeries();
                        render();
                      },
                    },
                    profiles.map((p) =>
                      h(
                        'option',
                        { value: p.name, selected: p.name === profile?.name },
                        p.status === 'ok'
                          ? p.name
                          : `${p.name} (${STATUS_TEXT[p.status].toLowerCase()})`,
                      ),
                    ),
                  ),
                )
              : null,
            profiles.length > 0 && state.view === 'dashboard'
              ? h(
                  'button',
                  { type: 'button', id: 'refresh-now', onclick: () => void refreshNow() },
                  profile?.status === 'refreshing' ? 'Refreshing…' : 'Refresh now',
                )
              : null,
            h(
              'nav',
              { 'aria-label': 'Views', class: 'views' },
              h(
                'button',
                {
                  type: 'button',
                  id: 'nav-figures',
                  'aria-current': state.view === 'dashboard' ? 'page' : null,
                  onclick: () => show('dashboard'),
                },
                'Figures',
              ),
              h(
                'button',
                {
                  type: 'button',
                  id: 'nav-settings',
                  'aria-current': state.view === 'settings' ? 'page' : null,
                  onclick: () => show('settings'),
                },
                'Settings',
              ),
            ),
          ),
    ];
  };

  // ---- data --------------------------------------------------------------------------------

  const loadSeries = () => {
    const p = current();
    if (!p) return;
    const key = `${p.name}\u0000${state.window}\u0000${p.lastSuccessAt ?? ''}`;
    if (state.series.key === key) return;
    const keepOld = state.series.key.startsWith(`${p.name}\u0000${state.window}\u0000`);
    state.series = { key, points: keepOld ? state.series.points : null };
    api.getSeries(p.name, state.window).then(
      (points) => {
        if (state.series.key !== key) return;
        state.series = { key, points };
        render();
      },
      () => {
        if (state.series.key === key) state.series = { key, points: [] };
        render();
      },
    );
  };

  const loadSettings = async () => {
    state.settings = await api.getSettings();
    render();
  };

  const onSnapshot = (s: AppSnapshot) => {
    const first = state.snapshot === null;
    state.snapshot = s;
    state.nowMs = Date.now();
    if (state.selected === null || !s.profiles.some((p) => p.name === state.selected)) {
      state.selected = s.profiles[0]?.name ?? null;
    }
    if (s.firstRun && !state.firstRunHandled) {
      state.firstRunHandled = true;
      state.view = 'settings';
      state.editor = newEditor(null, null);
      void loadSettings();
    } else if (first && s.profiles.length === 0) {
      state.view = 'settings';
      void loadSettings();
    }
    loadSeries();
    render();
  };

  const refreshNow = async () => {
    await api.refreshNow(current()?.name ?? null);
  };

  const show = (view: View) => {
    state.view = view;
    if (view === 'settings') {
      state.notice = null;
      void loadSettings();
    } else loadSeries();
    render();
    focusSoon(view === 'settings' ? 'settings-heading' : 'figures-heading');
  };

  // ---- settings ----------------------------------------------------------------------------

  const newEditor = (index: number | null, original: EditorState['original']): EditorState => ({
    index,
    original,
    draft: draftOf(original),
    problems: [],
    busy: null,
    test: null,
    trust: null,
  });

  const setEditor = (editor: EditorState | null) => {
    state.editor = editor;
    render();
  };

  const focusFirstProblem = () => {
    const first = state.editor?.problems.find((p) => p.field !== null);
    focusSoon(first?.field ? `field-${first.field}` : 'form-problems');
  };

  const storeSecrets = async (name: string, editor: EditorState): Promise<string[]> => {
    const problems: string[] = [];
    if (!state.snapshot?.secretsAvailable || name === '') return problems;
    for (const [kind, field] of [
      ['password', 'password'],
      ['passphrase', 'passphrase'],
      ['db-password', 'dbPassword'],
    ] as const) {
      const value = editor.draft[field];
      if (value === '') continue;
      const stored = await api.setSecret(name, kind, value);
      if (!stored.ok) problems.push(stored.message ?? `The ${kind} was not stored.`);
    }
    return problems;
  };

  const editedIndex = (editor: EditorState) => editor.index ?? state.settings?.profiles.length ?? 0;

  const settingsActions = {
    add: () => {
      state.confirmRemove = null;
      state.notice = null;
      setEditor(newEditor(null, null));
      focusSoon('field-name');
    },
    edit: (index: number) => {
      const original = state.settings?.profiles[index] ?? null;
      state.confirmRemove = null;
      state.notice = null;
      setEditor(newEditor(index, original));
      focusSoon('field-name');
    },
    askRemove: (index: number) => {
      state.confirmRemove = index;
      render();
      focusSoon(`keep-${index}`);
    },
    keep: () => {
      const index = state.confirmRemove;
      state.confirmRemove = null;
      render();
      if (index !== null) focusSoon(`remove-${index}`);
    },
    remove: async (index: number) => {
      const settings = state.settings;
      if (!settings) return;
      const name = settings.profiles[index]?.name ?? '';
      const result = await api.saveSettings({
        version: settings.version,
        profiles: settings.profiles.filter((_, i) => i !== index),
      });
      state.confirmRemove = null;
      if (state.editor?.index === index) state.editor = null;
      // The notice and the list it speaks of are drawn together: a snapshot that redraws the page
      // meanwhile must not show "Removed" beside the list from before.
      state.settings = await api.getSettings();
      state.notice = result.ok
        ? { text: `Removed ${name}.`, problem: false }
        : { text: result.message ?? 'Not removed.', problem: true };
      render();
      focusSoon(result.ok ? 'settings-heading' : 'settings-notice');
    },
    input: (field: TextFieldName, value: string) => {
      if (state.editor) state.editor.draft[field] = value;
    },
    choose: (field: 'where' | 'data', value: string) => {
      const e = state.editor;
      if (!e) return;
      setEditor({ ...e, draft: { ...e.draft, [field]: value } });
    },
    save: async () => {
      const e = state.editor;
      if (!e || e.busy) return;
      const { profile, problems } = profileOf(e.draft, e.original);
      if (problems.length > 0) {
        setEditor({ ...e, problems });
        focusFirstProblem();
        return;
      }
      // Asked now: the snapshot after the save no longer says it was the first run.
      const wasFirstRun = state.snapshot?.firstRun === true;
      setEditor({ ...e, busy: 'saving', problems: [] });
      const base = state.settings ?? (await api.getSettings());
      const result = await api.saveSettings(settingsWith(base, e.index, profile));
      if (!result.ok) {
        setEditor({
          ...e,
          busy: null,
          problems: problemsFromMessage(result.message ?? 'Not saved.', editedIndex(e)),
        });
        focusFirstProblem();
        return;
      }
      const secretProblems = await storeSecrets(profile.name, e);
      testedSecrets.delete(profile.name);
      state.editor = null;
      state.notice =
        secretProblems.length > 0
          ? { text: `Saved ${profile.name}, but: ${secretProblems.join(' ')}`, problem: true }
          : { text: `Saved ${profile.name}.`, problem: false };
      await loadSettings();
      if (wasFirstRun && secretProblems.length === 0) {
        state.selected = profile.name;
        show('dashboard');
      } else focusSoon('settings-notice');
    },
    test: async () => {
      const e = state.editor;
      if (!e || e.busy) return;
      const { profile, problems } = profileOf(e.draft, e.original);
      if (problems.length > 0) {
        setEditor({ ...e, problems });
        focusFirstProblem();
        return;
      }
      setEditor({ ...e, busy: 'testing', problems: [], test: null, trust: null });
      const secretProblems = await storeSecrets(profile.name, e);
      if (
        e.index === null &&
        (e.draft.password !== '' || e.draft.passphrase !== '' || e.draft.dbPassword !== '')
      ) {
        testedSecrets.add(profile.name);
      }
      const base = state.settings ?? (await api.getSettings());
      const result = await api.testConnection(profile.name, settingsWith(base, e.index, profile));
      const failed = result.steps.find((s) => s.state === 'failed');
      // A draft the validator refused: its problems go beside their fields (the test checks the
      // profile on its own, as profiles[0]).
      const fieldProblems =
        failed && /^profiles\[0\]/.test(failed.detail)
          ? problemsFromMessage(failed.detail, 0)
          : secretProblems.map((message) => ({ field: null, message }));
      setEditor({ ...e, busy: null, test: result, trust: null, problems: fieldProblems });
      if (result.unknownHostKey) focusSoon('trust-key');
      else if (fieldProblems.some((p) => p.field !== null)) focusFirstProblem();
    },
    trust: async () => {
      const e = state.editor;
      const key = e?.test?.unknownHostKey;
      if (!e || !key || e.busy) return;
      setEditor({ ...e, busy: 'trusting' });
      const known = e.draft.knownHosts.trim();
      const trusted = await api.trustHostKey(
        key.host,
        key.port,
        key.fingerprint,
        known === '' ? null : known,
      );
      const after = state.editor ?? e;
      if (!trusted.ok) {
        setEditor({
          ...after,
          busy: null,
          trust: { ok: false, message: trusted.message ?? 'Not trusted.' },
        });
        focusSoon('trust-message');
        return;
      }
      setEditor({ ...after, busy: null, trust: null });
      await settingsActions.test();
      const tested = state.editor;
      if (tested)
        setEditor({ ...tested, trust: { ok: true, message: trusted.message ?? 'Trusted.' } });
      focusSoon('test-summary');
    },
    distrust: () => {
      const e = state.editor;
      if (!e) return;
      setEditor({
        ...e,
        test: e.test ? { ...e.test, unknownHostKey: null } : null,
        trust: { ok: false, message: 'Not trusted: nothing was added to known_hosts.' },
      });
      focusSoon('test-connection');
    },
    cancel: () => {
      const e = state.editor;
      if (e && e.index === null) {
        for (const name of testedSecrets) {
          void api.setSecret(name, 'password', '');
          void api.setSecret(name, 'passphrase', '');
          void api.setSecret(name, 'db-password', '');
        }
        testedSecrets.clear();
      }
      state.editor = null;
      render();
      focusSoon(e?.index === null || e === null ? 'add-server' : `edit-${e.index}`);
    },
    setStartAtLogin: async (enabled: boolean) => {
      const result = await api.setStartAtLogin(enabled);
      state.notice = result.ok ? null : { text: result.message ?? 'Not changed.', problem: true };
      // The box shows what was just set, not the snapshot from before (the next one agrees).
      if (result.ok && state.snapshot)
        state.snapshot = { ...state.snapshot, startAtLogin: enabled };
      render();
    },
    pauseAlerts: async (until: number | null) => {
      await api.pauseAlerts(until);
      focusSoon(until === null ? 'pause-hour' : 'resume-alerts');
    },
  };

  // ---- wiring ------------------------------------------------------------------------------

  api.onSnapshot(onSnapshot);
  // Main asks for a view (the tray's "Settings…").
  api.onShowView((request) => {
    if (request?.view === 'dashboard' || request?.view === 'settings') show(request.view);
  });
  // Escape hides the panel, as it closes a menu; a control that used the key (an open <select>)
  // keeps it.
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !event.defaultPrevented) void api.hideWindow();
  });
  // A notification about a server was clicked: its figures, whatever was on screen.
  api.onShowProfile((name) => {
    if (!(state.snapshot?.profiles ?? []).some((p) => p.name === name)) return;
    state.selected = name;
    show('dashboard');
  });
  api.getSnapshot().then(onSnapshot, (e: unknown) => {
    byId('boot').textContent =
      `The app did not answer: ${e instanceof Error ? e.message : String(e)}`;
  });
  // Relative times ("5 min ago") move on.
  setInterval(() => {
    state.nowMs = Date.now();
    render();
  }, 30_000);
}

const api = window.prosodyActiveUsers;
if (api) start(api);
else {
  const boot = document.getElementById('boot');
  if (boot) boot.textContent = 'This page runs inside the Prosody Active Users app.';
}
