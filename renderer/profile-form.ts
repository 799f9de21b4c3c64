/**
 * The server form's fields and the profile they make. Pure: the settings service validates (and
 * names the bad field by its path, `profiles[0].ssh.target`); this module only turns text fields
 * into a profile, keeps what the form does not show, converts the form's units (minutes, percent),
 * and maps a problem's path back to the field to show it beside.
 */
import type { Profile, Settings } from '../main/core/profile-validation.js';

export interface ProfileDraft {
  name: string;
  where: 'ssh' | 'local';
  target: string;
  identity: string;
  knownHosts: string;
  /** `sql`: a PostgreSQL or MySQL/MariaDB database; dataPath then holds its URL. */
  data: 'auto' | 'db' | 'dataDir' | 'sql';
  dataPath: string;
  hostsShow: string;
  hostsHide: string;
  thresholdPercent: string;
  minimumUsers: string;
  quietFrom: string;
  quietTo: string;
  intervalMinutes: string;
  /** Go to the secret store when saved or tested; never into the profile. */
  password: string;
  passphrase: string;
  /** The database's password (data 'sql'): to the secret store too. */
  dbPassword: string;
}

export type FieldName = keyof ProfileDraft;
/** The fields typed into (the others are choices). */
export type TextFieldName = Exclude<FieldName, 'where' | 'data'>;

/** A problem to show: beside a field, or (field null) above the form. */
export interface FormProblem {
  field: FieldName | null;
  message: string;
}

const NUMBER = /^\s*-?\d+(\.\d+)?\s*$/;

function hostList(profile: Profile | null, key: 'show' | 'hide'): string {
  return (profile?.hosts?.[key] ?? []).join(', ');
}

/** The form's fields for a saved profile, or empty ones for a new server. */
export function draftOf(profile: Profile | null): ProfileDraft {
  const ssh = profile?.ssh;
  const local = profile?.local;
  const dataPath =
    ssh?.sql ??
    ssh?.remoteDb ??
    ssh?.remoteDataDir ??
    local?.sql ??
    local?.db ??
    local?.dataDir ??
    '';
  const data: ProfileDraft['data'] =
    ssh?.sql !== undefined || local?.sql !== undefined
      ? 'sql'
      : ssh?.remoteDb !== undefined || local?.db !== undefined
        ? 'db'
        : ssh?.remoteDataDir !== undefined || local?.dataDir !== undefined
          ? 'dataDir'
          : 'auto';
  const alerts = profile?.alerts;
  return {
    name: profile?.name ?? '',
    where: local ? 'local' : 'ssh',
    target: ssh?.target ?? '',
    identity: ssh?.identity ?? '',
    knownHosts: ssh?.knownHosts ?? '',
    data,
    dataPath,
    hostsShow: hostList(profile, 'show'),
    hostsHide: hostList(profile, 'hide'),
    thresholdPercent:
      alerts?.relativeThreshold === undefined
        ? ''
        : String(Math.round(alerts.relativeThreshold * 10000) / 100),
    minimumUsers: alerts?.absoluteMinimum === undefined ? '' : String(alerts.absoluteMinimum),
    quietFrom: alerts?.quietHours?.from ?? '',
    quietTo: alerts?.quietHours?.to ?? '',
    intervalMinutes:
      profile?.intervalSeconds === undefined
        ? ''
        : String(Math.round((profile.intervalSeconds / 60) * 100) / 100),
    password: '',
    passphrase: '',
    dbPassword: '',
  };
}

/** A number when the text is one; the text itself otherwise, for the validator to name. */
function numberOrText(text: string): number | string {
  return NUMBER.test(text) ? Number(text) : text;
}

function splitHosts(text: string): string[] {
  return text.split(/[\s,]+/).filter((h) => h !== '');
}

/**
 * The profile the fields describe, on top of `original` (so that what the form does not show, such
 * as the SSH method or per-figure thresholds, is kept), and the problems with the form's own units.
 * Values the validator must judge are passed through as typed.
 */
export function profileOf(
  draft: ProfileDraft,
  original: Profile | null,
): { profile: Profile; problems: FormProblem[] } {
  const problems: FormProblem[] = [];
  const out: Record<string, unknown> = { name: draft.name.trim() };
  const path = draft.dataPath.trim();
  if (draft.where === 'ssh') {
    const ssh: Record<string, unknown> = { ...(original?.ssh ?? {}) };
    ssh.target = draft.target.trim();
    for (const [key, value] of [
      ['identity', draft.identity],
      ['knownHosts', draft.knownHosts],
    ] as const) {
      if (value.trim() === '') delete ssh[key];
      else ssh[key] = value.trim();
    }
    delete ssh.remoteDb;
    delete ssh.remoteDataDir;
    delete ssh.sql;
    if (draft.data === 'sql') ssh.sql = path;
    if (draft.data === 'db') ssh.remoteDb = path;
    if (draft.data === 'dataDir') ssh.remoteDataDir = path;
    out.ssh = ssh;
  } else {
    const local: Record<string, unknown> = { ...(original?.local ?? {}) };
    delete local.db;
    delete local.dataDir;
    delete local.sql;
    if (draft.data === 'sql') local.sql = path;
    if (draft.data === 'db') local.db = path;
    if (draft.data === 'dataDir') local.dataDir = path;
    out.local = local;
  }

  const show = splitHosts(draft.hostsShow);
  const hide = splitHosts(draft.hostsHide);
  if (show.length > 0 || hide.length > 0) {
    out.hosts = { ...(show.length > 0 ? { show } : {}), ...(hide.length > 0 ? { hide } : {}) };
  }

  const alerts: Record<string, unknown> = { ...(original?.alerts ?? {}) };
  const percentText = draft.thresholdPercent.trim();
  delete alerts.relativeThreshold;
  if (percentText !== '') {
    const p = Number(percentText);
    if (!NUMBER.test(percentText) || p < 0 || p > 1000) {
      problems.push({
        field: 'thresholdPercent',
        message: 'Give a percentage from 0 to 1000, such as 20.',
      });
    } else alerts.relativeThreshold = p / 100;
  }
  const minimum = draft.minimumUsers.trim();
  delete alerts.absoluteMinimum;
  if (minimum !== '') alerts.absoluteMinimum = numberOrText(minimum);
  delete alerts.quietHours;
  const from = draft.quietFrom.trim();
  const to = draft.quietTo.trim();
  if (from !== '' || to !== '') alerts.quietHours = { from, to };
  if (Object.keys(alerts).length > 0) out.alerts = alerts;

  const minutes = draft.intervalMinutes.trim();
  if (minutes !== '') {
    const m = Number(minutes);
    if (!NUMBER.test(minutes) || !Number.isInteger(m * 60) || m * 60 < 60 || m > 10080) {
      problems.push({
        field: 'intervalMinutes',
        message: 'Give whole minutes from 1 to 10080 (7 days), such as 60.',
      });
    } else out.intervalSeconds = m * 60;
  }
  return { profile: out as unknown as Profile, problems };
}

/** The settings with the edited profile in place (`index` null: added at the end). */
export function settingsWith(settings: Settings, index: number | null, profile: Profile): Settings {
  const profiles = [...settings.profiles];
  if (index === null || index >= profiles.length) profiles.push(profile);
  else profiles[index] = profile;
  return { version: settings.version, profiles };
}

/** Which field a problem in the profile at `index` belongs to, from its path; null: none. */
export function fieldOfPath(path: string, index: number): FieldName | null | undefined {
  const prefix = `profiles[${index}]`;
  if (path !== prefix && !path.startsWith(`${prefix}.`) && !path.startsWith(`${prefix}[`)) {
    return undefined;
  }
  const rest = path.slice(prefix.length);
  const rules: Array<[RegExp, FieldName | null]> = [
    [/^$/, 'where'],
    [/^\.name$/, 'name'],
    [/^\.ssh$/, 'target'],
    [/^\.ssh\.target$/, 'target'],
    [/^\.ssh\.identity$/, 'identity'],
    [/^\.ssh\.knownHosts$/, 'knownHosts'],
    [/^\.(ssh\.remoteDb|ssh\.remoteDataDir|local\.db|local\.dataDir)$/, 'dataPath'],
    [/^\.(ssh|local)\.sql$/, 'dataPath'],
    [/^\.hosts\.show\b/, 'hostsShow'],
    [/^\.hosts\.hide\b/, 'hostsHide'],
    [/^\.alerts\.relativeThreshold$/, 'thresholdPercent'],
    [/^\.alerts\.absoluteMinimum$/, 'minimumUsers'],
    [/^\.alerts\.quietHours(\.from)?$/, 'quietFrom'],
    [/^\.alerts\.quietHours\.to$/, 'quietTo'],
    [/^\.intervalSeconds$/, 'intervalMinutes'],
  ];
  for (const [pattern, field] of rules) if (pattern.test(rest)) return field;
  return null;
}

const PATH = /^(\(the whole file\)|version|profiles(\[\d+\])?([.[][^\s:]*)?)$/;

/**
 * The service's answer to a save (one `path: problem` per line, or a sentence about the file), as
 * problems for the profile at `index`: each beside its field when the path names one in that
 * profile, else above the form with its path.
 */
export function problemsFromMessage(message: string, index: number): FormProblem[] {
  return message
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line): FormProblem => {
      const colon = line.indexOf(': ');
      const path = colon > 0 ? line.slice(0, colon) : '';
      if (!PATH.test(path)) return { field: null, message: line };
      const field = fieldOfPath(path, index);
      const problem = line.slice(colon + 2);
      if (field) return { field, message: problem.charAt(0).toUpperCase() + problem.slice(1) };
      return { field: null, message: line };
    });
}
