import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Profile } from '../../main/core/profile-validation.js';
import {
  draftOf,
  fieldOfPath,
  problemsFromMessage,
  profileOf,
  settingsWith,
} from '../../renderer/profile-form.js';

const saved: Profile = {
  name: 'home',
  ssh: {
    target: 'monitor@xmpp.example.org',
    identity: '/keys/id',
    remoteDb: '/var/lib/prosody/prosody.sqlite',
    method: 'query',
    connectTimeout: 20,
  },
  hosts: { hide: ['conference.example.org'] },
  alerts: {
    relativeThreshold: 0.25,
    quietHours: { from: '22:00', to: '07:00' },
    staleSeconds: 7200,
  },
  intervalSeconds: 1800,
};

describe('the server form', () => {
  test("a saved profile fills the fields in the form's units", () => {
    const d = draftOf(saved);
    assert.equal(d.where, 'ssh');
    assert.equal(d.data, 'db');
    assert.equal(d.dataPath, '/var/lib/prosody/prosody.sqlite');
    assert.equal(d.thresholdPercent, '25');
    assert.equal(d.intervalMinutes, '30');
    assert.equal(d.hostsHide, 'conference.example.org');
    assert.equal(d.password, '');
  });

  test('the fields give back the same profile, keeping what the form does not show', () => {
    const { profile, problems } = profileOf(draftOf(saved), saved);
    assert.deepEqual(problems, []);
    assert.deepEqual(profile, saved);
  });

  test('secrets never go into the profile', () => {
    const d = { ...draftOf(saved), password: 'hunter2', passphrase: 'swordfish' };
    assert.doesNotMatch(JSON.stringify(profileOf(d, saved).profile), /hunter2|swordfish/);
  });

  test('switching to "found from Prosody\'s config" drops the paths; local keeps its config', () => {
    const d = { ...draftOf(saved), data: 'auto' as const };
    const ssh = profileOf(d, saved).profile.ssh;
    assert.equal(ssh?.remoteDb, undefined);
    assert.equal(ssh?.remoteDataDir, undefined);
    const local: Profile = {
      name: 'here',
      local: { dataDir: '/srv/prosody', config: '/etc/p.cfg.lua' },
    };
    const l = profileOf(
      { ...draftOf(local), data: 'db', dataPath: '/srv/p.sqlite' },
      local,
    ).profile;
    assert.deepEqual(l.local, { db: '/srv/p.sqlite', config: '/etc/p.cfg.lua' });
  });

  test('units the form converts are checked here; the rest pass through for the validator', () => {
    const d = {
      ...draftOf(null),
      name: 'x',
      target: 'h',
      thresholdPercent: 'lots',
      intervalMinutes: '0.5',
    };
    const { problems } = profileOf(d, null);
    assert.deepEqual(
      problems.map((p) => p.field),
      ['thresholdPercent', 'intervalMinutes'],
    );
    const typed = profileOf(
      { ...draftOf(null), name: 'x', target: 'h', minimumUsers: 'ten' },
      null,
    );
    assert.equal(typed.profile.alerts?.absoluteMinimum, 'ten' as unknown as number);
  });

  test('a new profile is added at the end; an edited one stays in place', () => {
    const settings = { version: 1 as const, profiles: [saved] };
    const other: Profile = { name: 'other', local: {} };
    assert.deepEqual(settingsWith(settings, null, other).profiles, [saved, other]);
    assert.deepEqual(settingsWith(settings, 0, other).profiles, [other]);
  });
});

describe('a database server in the form', () => {
  test('a profile with a database URL shows it as the data choice, and gives it back', () => {
    const withSql: Profile = {
      name: 'db',
      ssh: { target: 'monitor@xmpp.example.org', sql: 'postgres://pau@127.0.0.1/prosody' },
    };
    const d = draftOf(withSql);
    assert.deepEqual(
      [d.data, d.dataPath, d.dbPassword],
      ['sql', 'postgres://pau@127.0.0.1/prosody', ''],
    );
    assert.deepEqual(profileOf(d, withSql).profile, withSql);
  });

  test('choosing a database server replaces a SQLite path, and the password stays out', () => {
    const d = {
      ...draftOf(saved),
      data: 'sql' as const,
      dataPath: 'mysql://pau@db/prosody',
      dbPassword: 'pw',
    };
    const { profile } = profileOf(d, saved);
    assert.equal(profile.ssh?.sql, 'mysql://pau@db/prosody');
    assert.equal(profile.ssh?.remoteDb, undefined);
    assert.ok(!JSON.stringify(profile).includes('pw"'));
  });

  test('a problem with the URL goes beside the data field', () => {
    assert.equal(fieldOfPath('profiles[2].local.sql', 2), 'dataPath');
  });
});

describe('problems beside their fields', () => {
  const table: Array<[string, number, string | null | undefined]> = [
    ['profiles[2].ssh.target', 2, 'target'],
    ['profiles[2].local.db', 2, 'dataPath'],
    ['profiles[2].ssh.remoteDataDir', 2, 'dataPath'],
    ['profiles[2].alerts.quietHours.to', 2, 'quietTo'],
    ['profiles[2].alerts.quietHours', 2, 'quietFrom'],
    ['profiles[2].hosts.show[1]', 2, 'hostsShow'],
    ['profiles[2].intervalSeconds', 2, 'intervalMinutes'],
    ['profiles[2]', 2, 'where'],
    ['profiles[2].ssh.method', 2, null],
    ['profiles[1].name', 2, undefined],
    ['profiles[20].name', 2, undefined],
  ];
  for (const [path, index, field] of table) {
    test(`${path} in the profile at ${index} is ${String(field)}`, () => {
      assert.equal(fieldOfPath(path, index), field);
    });
  }

  test("the service's lines become problems: beside a field, or above the form", () => {
    assert.deepEqual(
      problemsFromMessage(
        'profiles[1].ssh.target: must be [user@]host[:port], not "a b"\nprofiles[0].name: "X" is already the name of profiles[1]\nNot saved: /x/settings.json is broken: fix it',
        1,
      ),
      [
        { field: 'target', message: 'Must be [user@]host[:port], not "a b"' },
        { field: null, message: 'profiles[0].name: "X" is already the name of profiles[1]' },
        { field: null, message: 'Not saved: /x/settings.json is broken: fix it' },
      ],
    );
  });
});
