/**
 * Settings: the servers (add, edit, remove), the server form with Test connection and the host key
 * decision, start at login and the alert pause; on first run, the guide to a least-privilege
 * monitoring account. State in, DOM out.
 */
import type {
  AppSnapshot,
  ConnectionStep,
  ConnectionTestResult,
} from '../main/core/ipc-contract.js';
import type { Profile, Settings } from '../main/core/profile-validation.js';
import { type Child, h } from './dom.js';
import { formatTime } from './format.js';
import type { FieldName, FormProblem, ProfileDraft, TextFieldName } from './profile-form.js';
import { setupGuide } from './setup-guide.js';

export interface EditorState {
  /** The profile's place in the settings; null for a new server. */
  index: number | null;
  original: Profile | null;
  draft: ProfileDraft;
  problems: FormProblem[];
  busy: 'saving' | 'testing' | 'trusting' | null;
  test: ConnectionTestResult | null;
  trust: { ok: boolean; message: string } | null;
}

export interface SettingsModel {
  snapshot: AppSnapshot;
  /** null while loading. */
  settings: Settings | null;
  editor: EditorState | null;
  confirmRemove: number | null;
  notice: { text: string; problem: boolean } | null;
  nowMs: number;
}

export interface SettingsActions {
  add(): void;
  edit(index: number): void;
  askRemove(index: number): void;
  remove(index: number): void;
  keep(): void;
  /** A text field changed: the draft is updated in place, nothing is drawn again. */
  input(field: TextFieldName, value: string): void;
  /** A choice changed that shows or hides fields: drawn again. */
  choose(field: 'where' | 'data', value: string): void;
  save(): void;
  test(): void;
  trust(): void;
  distrust(): void;
  cancel(): void;
  setStartAtLogin(enabled: boolean): void;
  pauseAlerts(until: number | null): void;
}

const STEP_NAMES: Record<ConnectionStep['step'], string> = {
  connect: 'Connect',
  'host-key': 'Host key',
  authenticate: 'Authenticate',
  'find-data': 'Find the data',
  read: 'Read it',
};

const STATE_TEXT: Record<ConnectionStep['state'], { icon: string; word: string }> = {
  ok: { icon: '✓', word: 'OK' },
  failed: { icon: '✗', word: 'Failed' },
  skipped: { icon: '–', word: 'Skipped' },
};

interface FieldOptions {
  hint?: string;
  type?: 'text' | 'password';
  placeholder?: string;
  autocomplete?: string;
  inputmode?: 'numeric' | 'decimal' | 'text';
  disabled?: boolean;
  className?: string;
}

function problemOf(editor: EditorState, field: FieldName): string | undefined {
  return editor.problems.find((p) => p.field === field)?.message;
}

/** A labelled text field with its hint and, when the last save or test found one, its problem. */
function field(
  editor: EditorState,
  actions: SettingsActions,
  name: TextFieldName,
  label: string,
  options: FieldOptions = {},
): Child {
  const id = `field-${name}`;
  const problem = problemOf(editor, name);
  const described = [options.hint ? `${id}-hint` : '', problem ? `${id}-error` : '']
    .filter((x) => x !== '')
    .join(' ');
  return h(
    'div',
    {
      class: `field${problem ? ' has-problem' : ''}${options.className ? ` ${options.className}` : ''}`,
    },
    h('label', { for: id }, label),
    h('input', {
      id,
      name,
      type: options.type ?? 'text',
      value: editor.draft[name],
      placeholder: options.placeholder,
      autocomplete: options.autocomplete ?? 'off',
      spellcheck: 'false',
      inputmode: options.inputmode,
      disabled: options.disabled,
      'aria-invalid': problem ? 'true' : null,
      'aria-describedby': described || null,
      oninput: (e: Event) => actions.input(name, (e.target as HTMLInputElement).value),
    }),
    options.hint ? h('p', { class: 'hint', id: `${id}-hint` }, options.hint) : null,
    problem ? h('p', { class: 'field-error', id: `${id}-error` }, problem) : null,
  );
}

function radios(
  editor: EditorState,
  actions: SettingsActions,
  name: 'where' | 'data',
  legend: string,
  choices: Array<[string, string]>,
): Child {
  const problem = name === 'where' ? problemOf(editor, 'where') : undefined;
  return h(
    'fieldset',
    {
      class: `choice${problem ? ' has-problem' : ''}`,
      'aria-describedby': problem ? `field-${name}-error` : null,
    },
    h('legend', null, legend),
    choices.map(([value, label]) =>
      h(
        'label',
        { class: 'radio' },
        h('input', {
          type: 'radio',
          name: `field-${name}`,
          id: `field-${name}-${value}`,
          value,
          checked: editor.draft[name] === value,
          onchange: () => actions.choose(name, value),
        }),
        ` ${label}`,
      ),
    ),
    problem ? h('p', { class: 'field-error', id: `field-${name}-error` }, problem) : null,
  );
}

function stepItem(step: ConnectionStep): Child {
  const s = STATE_TEXT[step.state];
  return h(
    'li',
    { class: `step step-${step.state}`, id: `step-${step.step}` },
    h('span', { class: 'step-icon', 'aria-hidden': 'true' }, s.icon),
    h('span', { class: 'step-name' }, STEP_NAMES[step.step]),
    h('span', { class: 'step-state' }, ` ${s.word}`),
    h('span', { class: 'step-detail' }, step.detail),
  );
}

/** The name OpenSSH gives the server's key file of this type: ssh_host_<name>_key.pub. */
function hostKeyFile(keyType: string): string {
  if (keyType === 'ssh-ed25519') return 'ed25519';
  if (keyType.startsWith('ecdsa-')) return 'ecdsa';
  if (keyType === 'ssh-rsa') return 'rsa';
  return '*';
}

function testSummary(result: ConnectionTestResult): string {
  const failed = result.steps.find((s) => s.state === 'failed');
  if (!failed) return 'Every step worked.';
  return `Stopped at “${STEP_NAMES[failed.step]}”.`;
}

function testSection(editor: EditorState, actions: SettingsActions): Child {
  const result = editor.test;
  if (!result && editor.busy !== 'testing' && editor.busy !== 'trusting') return null;
  const unknown = result?.unknownHostKey ?? null;
  const changed = result?.changedHostKey ?? null;
  return h(
    'section',
    {
      class: 'test-result',
      'aria-labelledby': 'test-heading',
      id: 'test-result',
      'aria-busy': editor.busy === 'testing' ? 'true' : null,
    },
    h('h4', { id: 'test-heading' }, 'Test connection'),
    h(
      'p',
      { role: 'status', class: 'test-summary', id: 'test-summary' },
      editor.busy === 'testing'
        ? 'Testing: connect, host key, authenticate, find the data, read it…'
        : editor.busy === 'trusting'
          ? 'Adding the key to known_hosts…'
          : result
            ? testSummary(result)
            : '',
    ),
    result ? h('ol', { class: 'steps', id: 'test-steps' }, result.steps.map(stepItem)) : null,
    unknown
      ? h(
          'div',
          {
            class: 'host-key-prompt',
            role: 'group',
            'aria-labelledby': 'host-key-heading',
            id: 'host-key-prompt',
          },
          h('h5', { id: 'host-key-heading' }, 'Unknown host key'),
          h(
            'p',
            null,
            `${unknown.host} port ${unknown.port} is not in known_hosts yet. The ${unknown.keyType} key it offers has this fingerprint:`,
          ),
          h(
            'p',
            null,
            h('code', { class: 'fingerprint', id: 'host-key-fingerprint' }, unknown.fingerprint),
          ),
          h(
            'p',
            null,
            'Compare it with what the server’s administrator reads on the server with ',
            h(
              'code',
              null,
              `ssh-keygen -lf /etc/ssh/ssh_host_${hostKeyFile(unknown.keyType)}_key.pub`,
            ),
            '. Trust this key only if they are the same.',
          ),
          h(
            'p',
            { class: 'actions' },
            h(
              'button',
              {
                type: 'button',
                id: 'trust-key',
                onclick: () => actions.trust(),
                disabled: editor.busy !== null,
              },
              'Trust this key',
            ),
            h(
              'button',
              { type: 'button', id: 'distrust-key', onclick: () => actions.distrust() },
              'Do not trust',
            ),
          ),
        )
      : null,
    changed
      ? h(
          'div',
          { class: 'host-key-warning', role: 'alert', id: 'host-key-changed' },
          h('h5', null, 'The host key changed: connection refused'),
          h('p', null, changed.message),
          h(
            'p',
            null,
            'It now offers ',
            h('code', { class: 'fingerprint' }, changed.fingerprint),
            '. The app will not trust it from here.',
          ),
        )
      : null,
    editor.trust
      ? h(
          'p',
          {
            class: editor.trust.ok ? 'notice' : 'problem-text',
            role: editor.trust.ok ? 'status' : 'alert',
            id: 'trust-message',
          },
          editor.trust.message,
        )
      : null,
  );
}

function editorForm(model: SettingsModel, editor: EditorState, actions: SettingsActions): Child {
  const d = editor.draft;
  const secrets = model.snapshot.secretsAvailable;
  const general = editor.problems.filter((p) => p.field === null);
  const fieldProblems = editor.problems.length - general.length;
  const ssh = d.where === 'ssh';
  const title = editor.index === null ? 'Add a server' : `Edit “${editor.original?.name ?? ''}”`;
  const secretHint = secrets
    ? 'Kept in the system keychain, never in the settings file. Leave empty to keep the one stored (ssh-agent needs none).'
    : 'This system has no safe place for secrets: use ssh-agent instead.';
  return h(
    'form',
    {
      class: 'editor',
      id: 'profile-form',
      'aria-labelledby': 'editor-heading',
      novalidate: true,
      onsubmit: (e: Event) => {
        e.preventDefault();
        actions.save();
      },
    },
    h('h3', { id: 'editor-heading', tabindex: '-1' }, title),
    editor.problems.length > 0
      ? h(
          'div',
          { class: 'problem', role: 'alert', id: 'form-problems' },
          h(
            'p',
            { class: 'problem-title' },
            fieldProblems > 0
              ? `Not saved: ${fieldProblems === 1 ? 'one field needs' : `${fieldProblems} fields need`} a change, shown beside ${fieldProblems === 1 ? 'it' : 'them'}.`
              : 'Not saved.',
          ),
          general.map((p) => h('p', { class: 'problem-text' }, p.message)),
        )
      : null,
    field(editor, actions, 'name', 'Name', {
      hint: 'How the window and the tray call this server.',
    }),
    radios(editor, actions, 'where', 'Where Prosody runs', [
      ['ssh', 'On a server, over SSH'],
      ['local', 'On this computer'],
    ]),
    ssh
      ? h(
          'fieldset',
          { class: 'group' },
          h('legend', null, 'SSH'),
          field(editor, actions, 'target', 'SSH target', {
            hint: 'user@host, user@host:port, or a Host alias from ~/.ssh/config.',
            placeholder: 'prosody-monitor@xmpp.example.org',
          }),
          field(editor, actions, 'identity', 'Identity file (optional)', {
            hint: 'A private key; ssh-agent and ~/.ssh/id_* are tried first.',
            placeholder: '~/.ssh/id_ed25519',
          }),
          field(editor, actions, 'knownHosts', 'known_hosts file (optional)', {
            hint: 'Default: ~/.ssh/known_hosts. Host keys are always checked.',
          }),
          field(editor, actions, 'password', 'Password (optional)', {
            type: 'password',
            autocomplete: 'new-password',
            hint: secretHint,
            disabled: !secrets,
          }),
          field(editor, actions, 'passphrase', 'Key passphrase (optional)', {
            type: 'password',
            autocomplete: 'new-password',
            hint: secretHint,
            disabled: !secrets,
          }),
        )
      : null,
    radios(editor, actions, 'data', 'Where the activity data is', [
      ['auto', 'Found from Prosody’s config'],
      ['db', 'A SQLite database'],
      ['dataDir', 'A data folder (internal storage)'],
      ['sql', 'A PostgreSQL or MySQL/MariaDB database'],
    ]),
    d.data === 'auto'
      ? null
      : d.data === 'sql'
        ? field(editor, actions, 'dataPath', 'Database URL', {
            hint: ssh
              ? 'As the server reaches it, through the SSH connection; no password in it.'
              : 'No password in it.',
            placeholder: 'postgres://prosody@127.0.0.1:5432/prosody',
          })
        : field(editor, actions, 'dataPath', d.data === 'db' ? 'Database path' : 'Data folder', {
            hint: ssh ? 'On the server.' : 'On this computer.',
            placeholder: d.data === 'db' ? '/var/lib/prosody/prosody.sqlite' : '/var/lib/prosody',
          }),
    d.data === 'sql'
      ? field(editor, actions, 'dbPassword', 'Database password (optional)', {
          type: 'password',
          autocomplete: 'new-password',
          hint: secretHint,
          disabled: !secrets,
        })
      : null,
    h(
      'fieldset',
      { class: 'group' },
      h('legend', null, 'Hosts'),
      field(editor, actions, 'hostsShow', 'Show only these hosts', {
        hint: 'Host names separated by commas; empty shows every host.',
      }),
      field(editor, actions, 'hostsHide', 'Hide these hosts', {
        hint: 'Host names separated by commas.',
      }),
    ),
    h(
      'fieldset',
      { class: 'group' },
      h('legend', null, 'Alerts and refresh'),
      h(
        'div',
        { class: 'row' },
        field(editor, actions, 'thresholdPercent', 'Large change (%)', {
          inputmode: 'decimal',
          placeholder: 'default: 20',
          hint: 'Alert when a figure moves by this much…',
        }),
        field(editor, actions, 'minimumUsers', 'and by at least (users)', {
          inputmode: 'numeric',
          placeholder: 'default: 5',
          hint: '…and by at least this many users.',
        }),
      ),
      h(
        'div',
        { class: 'row' },
        field(editor, actions, 'quietFrom', 'Quiet hours from', {
          placeholder: 'HH:MM',
          hint: 'For example 22:00 to 07:00; alerts wait until the end. Empty: none.',
        }),
        field(editor, actions, 'quietTo', 'Quiet hours until', { placeholder: 'HH:MM' }),
      ),
      field(editor, actions, 'intervalMinutes', 'Refresh every (minutes)', {
        inputmode: 'numeric',
        placeholder: 'default: 60',
      }),
    ),
    h(
      'p',
      { class: 'actions' },
      h(
        'button',
        {
          type: 'button',
          id: 'test-connection',
          onclick: () => actions.test(),
          disabled: editor.busy !== null,
        },
        'Test connection',
      ),
      h(
        'button',
        { type: 'submit', id: 'save-profile', class: 'primary', disabled: editor.busy !== null },
        'Save',
      ),
      h(
        'button',
        { type: 'button', id: 'cancel-profile', onclick: () => actions.cancel() },
        'Cancel',
      ),
    ),
    testSection(editor, actions),
  );
}

function describeProfile(p: Profile): string {
  if (p.ssh) return `over SSH: ${p.ssh.target}`;
  const l = p.local ?? {};
  return `on this computer${l.db ? `: ${l.db}` : l.dataDir ? `: ${l.dataDir}` : ''}`;
}

function serversSection(model: SettingsModel, actions: SettingsActions): Child {
  const profiles = model.settings?.profiles ?? [];
  return h(
    'section',
    { class: 'servers', 'aria-labelledby': 'servers-heading' },
    h('h3', { id: 'servers-heading' }, 'Servers'),
    model.settings === null
      ? h('p', { role: 'status' }, 'Loading the settings…')
      : profiles.length === 0
        ? h('p', { class: 'muted' }, 'No server yet.')
        : h(
            'ul',
            { class: 'server-list', 'aria-labelledby': 'servers-heading' },
            profiles.map((p, i) =>
              h(
                'li',
                { class: 'server' },
                h('span', { class: 'server-name' }, p.name),
                h('span', { class: 'server-where' }, describeProfile(p)),
                model.confirmRemove === i
                  ? h(
                      'span',
                      { class: 'confirm', role: 'group', 'aria-label': `Remove ${p.name}?` },
                      h(
                        'span',
                        null,
                        `Remove ${p.name}? Its stored password and passphrase are deleted; its history is kept.`,
                      ),
                      h(
                        'button',
                        {
                          type: 'button',
                          id: `confirm-remove-${i}`,
                          class: 'danger',
                          onclick: () => actions.remove(i),
                        },
                        `Remove ${p.name}`,
                      ),
                      h(
                        'button',
                        { type: 'button', id: `keep-${i}`, onclick: () => actions.keep() },
                        'Keep',
                      ),
                    )
                  : h(
                      'span',
                      { class: 'server-actions' },
                      h(
                        'button',
                        {
                          type: 'button',
                          id: `edit-${i}`,
                          'aria-label': `Edit ${p.name}`,
                          onclick: () => actions.edit(i),
                        },
                        'Edit',
                      ),
                      h(
                        'button',
                        {
                          type: 'button',
                          id: `remove-${i}`,
                          'aria-label': `Remove ${p.name}`,
                          onclick: () => actions.askRemove(i),
                        },
                        'Remove',
                      ),
                    ),
              ),
            ),
          ),
    model.editor === null && model.settings !== null
      ? h(
          'p',
          null,
          h(
            'button',
            { type: 'button', id: 'add-server', onclick: () => actions.add() },
            'Add a server',
          ),
        )
      : null,
  );
}

/** 08:00 tomorrow, local time, in Unix seconds. */
function tomorrowMorning(nowMs: number): number {
  const d = new Date(nowMs);
  d.setDate(d.getDate() + 1);
  d.setHours(8, 0, 0, 0);
  return Math.floor(d.getTime() / 1000);
}

function appSection(model: SettingsModel, actions: SettingsActions): Child {
  const s = model.snapshot;
  const now = Math.floor(model.nowMs / 1000);
  return h(
    'section',
    { class: 'app-settings', 'aria-labelledby': 'app-settings-heading' },
    h('h3', { id: 'app-settings-heading' }, 'This app'),
    h(
      'p',
      null,
      h(
        'label',
        { class: 'checkbox' },
        h('input', {
          type: 'checkbox',
          id: 'start-at-login',
          checked: s.startAtLogin,
          onchange: (e: Event) => actions.setStartAtLogin((e.target as HTMLInputElement).checked),
        }),
        ' Start at login',
      ),
    ),
    h(
      'div',
      { class: 'pause', role: 'group', 'aria-labelledby': 'pause-label' },
      h(
        'span',
        { id: 'pause-label' },
        s.alertsPausedUntil === null
          ? 'Alerts'
          : `Alerts are paused until ${formatTime(s.alertsPausedUntil, model.nowMs)}.`,
      ),
      s.alertsPausedUntil === null
        ? [
            h(
              'button',
              { type: 'button', id: 'pause-hour', onclick: () => actions.pauseAlerts(now + 3600) },
              'Pause for 1 hour',
            ),
            h(
              'button',
              {
                type: 'button',
                id: 'pause-tomorrow',
                onclick: () => actions.pauseAlerts(tomorrowMorning(model.nowMs)),
              },
              'Pause until tomorrow',
            ),
          ]
        : h(
            'button',
            { type: 'button', id: 'resume-alerts', onclick: () => actions.pauseAlerts(null) },
            'Resume alerts',
          ),
    ),
  );
}

export function settingsView(model: SettingsModel, actions: SettingsActions): Child[] {
  const s = model.snapshot;
  return [
    h(
      'h2',
      { id: 'settings-heading', tabindex: '-1' },
      s.firstRun ? 'Welcome: add your Prosody server' : 'Settings',
    ),
    s.settingsProblem
      ? h(
          'div',
          { class: 'problem', role: 'alert', id: 'settings-problem' },
          h('p', { class: 'problem-text' }, s.settingsProblem),
        )
      : null,
    s.firstRun ? setupGuide() : null,
    model.notice
      ? h(
          'p',
          {
            class: model.notice.problem ? 'problem-text' : 'notice',
            role: model.notice.problem ? 'alert' : 'status',
            id: 'settings-notice',
          },
          model.notice.text,
        )
      : null,
    serversSection(model, actions),
    model.editor ? editorForm(model, model.editor, actions) : null,
    appSection(model, actions),
  ];
}
