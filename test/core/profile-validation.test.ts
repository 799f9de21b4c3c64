import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DEFAULT_ALERT_SETTINGS, FIGURE_NAMES } from '../../main/core/monitor-types.js';
import {
  DEFAULT_INTERVAL_SECONDS,
  SETTINGS_VERSION,
  emptySettings,
  findSettingsProblems,
  formatSettingsProblem,
  isSshTarget,
  newerSettingsVersion,
  validateSettings,
  withDefaults,
  type Profile,
  type Settings,
} from '../../main/core/profile-validation.js';

const sshProfile = (extra: Record<string, unknown> = {}, ssh: Record<string, unknown> = {}) => ({
  name: 'home',
  ssh: { target: 'monitor@xmpp.example.org', ...ssh },
  ...extra,
});
const doc = (...profiles: unknown[]) => ({ version: 1, profiles });

const full: Settings = {
  version: 1,
  profiles: [
    {
      name: 'home',
      ssh: {
        target: 'monitor@xmpp.example.org:2222',
        identity: '~/.ssh/monitor',
        sshConfig: '/home/me/.ssh/config',
        knownHosts: '/home/me/.ssh/known_hosts',
        remoteDb: '/var/lib/prosody/prosody.sqlite',
        remoteConfig: '/etc/prosody/prosody.cfg.lua',
        method: 'query',
        connectTimeout: 20,
      },
      hosts: { show: ['example.org', 'chat.example.org'] },
      alerts: {
        relativeThreshold: 0.3,
        absoluteMinimum: 10,
        perFigure: { mau: { relativeThreshold: 0.1 }, dau: { absoluteMinimum: 3 } },
        figures: ['dau', 'mau', 'new7d'],
        baselineSeconds: 7 * 86400,
        failuresBeforeAlert: 5,
        staleSeconds: 6 * 3600,
        cooldownSeconds: 0,
        quietHours: { from: '22:00', to: '07:30' },
        pausedUntil: 1_800_000_000,
      },
      intervalSeconds: 1800,
    },
    {
      name: 'Work',
      local: { dataDir: '/var/lib/prosody', config: '/etc/prosody/prosody.cfg.lua' },
    },
    { name: 'laptop', local: {}, hosts: { hide: ['localhost'] } },
  ],
};

describe('database servers in profiles', () => {
  for (const [name, profile] of [
    ['over SSH', sshProfile({}, { sql: 'postgres://prosody@127.0.0.1:5432/prosody' })],
    ['on this machine', { name: 'db', local: { sql: 'mysql://prosody@db.example/prosody' } }],
    [
      'through a socket',
      {
        name: 'db',
        local: { sql: 'postgres://pau@/prosody?socket=/run/postgresql/.s.PGSQL.5432' },
      },
    ],
  ] as const) {
    test(`a database URL is a valid way to the data ${name}`, () => {
      const r = validateSettings(doc(profile));
      assert.ok(r.ok, JSON.stringify(r));
    });
  }
});

describe('valid settings', () => {
  test('a settings file using every field is accepted as it is', () => {
    assert.deepEqual(validateSettings(JSON.parse(JSON.stringify(full))), { ok: true, value: full });
  });

  test('no profiles at all is valid', () => {
    assert.deepEqual(validateSettings({ version: 1, profiles: [] }), {
      ok: true,
      value: emptySettings(),
    });
  });

  test('the value returned is a copy: changing it leaves the input alone', () => {
    const input = JSON.parse(JSON.stringify(full));
    const result = validateSettings(input);
    assert.ok(result.ok);
    result.value.profiles[0]!.name = 'changed';
    assert.equal(input.profiles[0].name, 'home');
  });

  const targets = [
    'host',
    'xmpp.example.org',
    'user@host',
    'user@host:2222',
    'a.b@c.d@host',
    '[::1]:22',
    'user@[2001:db8::1]:2222',
    '2001:db8::1',
    'fe80::1%eth0',
    'ssh://user@host:22',
    'my-alias_1',
  ];
  for (const target of targets) {
    test(`the SSH target ${JSON.stringify(target)} is accepted`, () => {
      assert.equal(isSshTarget(target), true);
      assert.equal(validateSettings(doc(sshProfile({}, { target }))).ok, true);
    });
  }
});

/** [what is wrong, the document, the path the first problem must name, and a part of its text]. */
const invalid: Array<[name: string, json: unknown, path: string, says: RegExp]> = [
  ['a list instead of an object', [], '', /must be a JSON object/],
  ['null', null, '', /must be a JSON object/],
  ['no version', { profiles: [] }, 'version', /missing/],
  ['version 0', { version: 0, profiles: [] }, 'version', /must be 1, not 0/],
  ['version as a string', { version: '1', profiles: [] }, 'version', /must be 1, not "1"/],
  ['a newer version', { version: 2, profiles: [], x: 1 }, 'version', /newer version/],
  ['no profiles', { version: 1 }, 'profiles', /missing/],
  ['profiles as an object', { version: 1, profiles: {} }, 'profiles', /must be a list/],
  ['an unknown top-level key', { version: 1, profiles: [], extra: true }, 'extra', /unknown key/],
  ['a profile that is a string', doc('home'), 'profiles[0]', /must be an object/],
  ['a profile without a name', doc({ local: {} }), 'profiles[0].name', /missing/],
  ['an empty name', doc(sshProfile({ name: '' })), 'profiles[0].name', /non-empty/],
  ['a name with spaces around', doc(sshProfile({ name: ' home ' })), 'profiles[0].name', /spaces/],
  ['a name with a newline', doc(sshProfile({ name: 'a\nb' })), 'profiles[0].name', /control/],
  ['a very long name', doc(sshProfile({ name: 'x'.repeat(65) })), 'profiles[0].name', /at most 64/],
  ['a name that is a number', doc(sshProfile({ name: 7 })), 'profiles[0].name', /not 7/],
  [
    'two profiles with one name',
    doc(sshProfile(), { name: 'x', local: {} }, { name: 'HOME', local: {} }),
    'profiles[2].name',
    /"HOME" is already the name of profiles\[0\]/,
  ],
  ['neither ssh nor local', doc({ name: 'a' }), 'profiles[0]', /needs ssh .* or local/],
  ['both ssh and local', doc(sshProfile({ local: {} })), 'profiles[0]', /both ssh and local/],
  [
    'an unknown profile key',
    doc(sshProfile({ intervalSecs: 60 })),
    'profiles[0].intervalSecs',
    /unknown key \(known here: name, ssh/,
  ],
  [
    'a key that is not an identifier',
    doc(sshProfile({ 'a b': 1 })),
    'profiles[0]["a b"]',
    /unknown key/,
  ],
  ['ssh as a string', doc({ name: 'a', ssh: 'host' }), 'profiles[0].ssh', /must be an object/],
  ['no SSH target', doc({ name: 'a', ssh: {} }), 'profiles[0].ssh.target', /missing/],
  ...(
    [
      ['an empty SSH target', ''],
      ['an SSH target with a space', 'user@my host'],
      ['an SSH target starting with a hyphen', '-oProxyCommand=x'],
      ['an SSH target with an empty user', '@host'],
      ['an SSH target with a port of 0', 'host:0'],
      ['an SSH target with a port above 65535', 'host:65536'],
      ['an SSH target with a word for a port', 'host:ssh'],
      ['an SSH target with a shell character', 'host;rm'],
      ['an SSH target with an unclosed bracket', '[::1:22'],
      ['an SSH target with two colons that is no IPv6 address', 'host:22:33'],
      ['an SSH target that is a number', 22],
    ] as const
  ).map(
    ([name, target]) =>
      [
        name,
        doc(sshProfile({}, { target })),
        'profiles[0].ssh.target',
        /^must be \[user@\]host\[:port\] or an ssh_config alias, not /,
      ] as [string, unknown, string, RegExp],
  ),
  [
    'the second profile has the bad target',
    doc(sshProfile(), sshProfile({ name: 'b' }, { target: 'a b' })),
    'profiles[1].ssh.target',
    /must be \[user@\]host\[:port\] or an ssh_config alias, not "a b"/,
  ],
  [
    'an empty identity path',
    doc(sshProfile({}, { identity: '' })),
    'profiles[0].ssh.identity',
    /non-empty/,
  ],
  [
    'remoteDb and remoteDataDir',
    doc(sshProfile({}, { remoteDb: '/a', remoteDataDir: '/b' })),
    'profiles[0].ssh.remoteDataDir',
    /together with remoteDb/,
  ],
  [
    'an unknown method',
    doc(sshProfile({}, { method: 'scp' })),
    'profiles[0].ssh.method',
    /auto, query or copy, not "scp"/,
  ],
  [
    'a zero connect timeout',
    doc(sshProfile({}, { connectTimeout: 0 })),
    'profiles[0].ssh.connectTimeout',
    /above 0/,
  ],
  ['an unknown SSH key', doc(sshProfile({}, { port: 22 })), 'profiles[0].ssh.port', /unknown key/],
  [
    'local db and dataDir',
    doc({ name: 'a', local: { db: '/a', dataDir: '/b' } }),
    'profiles[0].local.dataDir',
    /together with db/,
  ],
  [
    'a local path that is a number',
    doc({ name: 'a', local: { config: 1 } }),
    'profiles[0].local.config',
    /non-empty string/,
  ],
  [
    'hosts.show as a string',
    doc(sshProfile({ hosts: { show: 'a' } })),
    'profiles[0].hosts.show',
    /list of host names/,
  ],
  [
    'an empty host name',
    doc(sshProfile({ hosts: { hide: ['a', ''] } })),
    'profiles[0].hosts.hide[1]',
    /host name/,
  ],
  [
    'a host both shown and hidden',
    doc(sshProfile({ hosts: { show: ['a'], hide: ['a'] } })),
    'profiles[0].hosts.hide[0]',
    /also in show/,
  ],
  [
    'a relative threshold of 20',
    doc(sshProfile({ alerts: { relativeThreshold: 20 } })),
    'profiles[0].alerts.relativeThreshold',
    /^must be a number between 0 and 10 .*not 20$/,
  ],
  [
    'a negative relative threshold',
    doc(sshProfile({ alerts: { relativeThreshold: -0.1 } })),
    'profiles[0].alerts.relativeThreshold',
    /between 0 and 10/,
  ],
  [
    'a relative threshold as a percentage string',
    doc(sshProfile({ alerts: { relativeThreshold: '20%' } })),
    'profiles[0].alerts.relativeThreshold',
    /not "20%"/,
  ],
  [
    'a fractional absolute minimum',
    doc(sshProfile({ alerts: { absoluteMinimum: 2.5 } })),
    'profiles[0].alerts.absoluteMinimum',
    /whole number/,
  ],
  [
    'an unknown figure in perFigure',
    doc(sshProfile({ alerts: { perFigure: { daily: {} } } })),
    'profiles[0].alerts.perFigure.daily',
    /unknown key \(known here: dau/,
  ],
  [
    'a bad per-figure threshold',
    doc(sshProfile({ alerts: { perFigure: { mau: { relativeThreshold: 11 } } } })),
    'profiles[0].alerts.perFigure.mau.relativeThreshold',
    /between 0 and 10/,
  ],
  [
    'an unknown figure in figures',
    doc(sshProfile({ alerts: { figures: ['dau', 'DAU'] } })),
    'profiles[0].alerts.figures[1]',
    /one of dau, wau/,
  ],
  [
    'a figure listed twice',
    doc(sshProfile({ alerts: { figures: ['dau', 'dau'] } })),
    'profiles[0].alerts.figures[1]',
    /listed twice/,
  ],
  [
    'a baseline of 0 seconds',
    doc(sshProfile({ alerts: { baselineSeconds: 0 } })),
    'profiles[0].alerts.baselineSeconds',
    /from 1 to/,
  ],
  [
    'zero failures before an alert',
    doc(sshProfile({ alerts: { failuresBeforeAlert: 0 } })),
    'profiles[0].alerts.failuresBeforeAlert',
    /from 1 to 1000/,
  ],
  [
    'a stale limit as text',
    doc(sshProfile({ alerts: { staleSeconds: '12h' } })),
    'profiles[0].alerts.staleSeconds',
    /not "12h"/,
  ],
  [
    'a negative cooldown',
    doc(sshProfile({ alerts: { cooldownSeconds: -1 } })),
    'profiles[0].alerts.cooldownSeconds',
    /from 0/,
  ],
  [
    'quiet hours without a dot',
    doc(sshProfile({ alerts: { quietHours: { from: '22', to: '07:00' } } })),
    'profiles[0].alerts.quietHours.from',
    /HH:MM/,
  ],
  [
    'quiet hours at 24:00',
    doc(sshProfile({ alerts: { quietHours: { from: '22:00', to: '24:00' } } })),
    'profiles[0].alerts.quietHours.to',
    /HH:MM \(00:00 to 23:59\), not "24:00"/,
  ],
  [
    'quiet hours with one digit for the hour',
    doc(sshProfile({ alerts: { quietHours: { from: '7:00', to: '08:00' } } })),
    'profiles[0].alerts.quietHours.from',
    /HH:MM/,
  ],
  [
    'quiet hours without an end',
    doc(sshProfile({ alerts: { quietHours: { from: '22:00' } } })),
    'profiles[0].alerts.quietHours.to',
    /missing/,
  ],
  [
    'quiet hours that start and end together',
    doc(sshProfile({ alerts: { quietHours: { from: '22:00', to: '22:00' } } })),
    'profiles[0].alerts.quietHours.to',
    /same as from/,
  ],
  [
    'a pause as a date string',
    doc(sshProfile({ alerts: { pausedUntil: '2026-01-01' } })),
    'profiles[0].alerts.pausedUntil',
    /Unix seconds/,
  ],
  [
    'an unknown alert key',
    doc(sshProfile({ alerts: { threshold: 0.2 } })),
    'profiles[0].alerts.threshold',
    /unknown key/,
  ],
  [
    'an interval of 0',
    doc(sshProfile({ intervalSeconds: 0 })),
    'profiles[0].intervalSeconds',
    /from 1 to 604800/,
  ],
  [
    'an interval of 8 days',
    doc(sshProfile({ intervalSeconds: 8 * 86400 })),
    'profiles[0].intervalSeconds',
    /from 1 to 604800/,
  ],
  [
    'an interval as text',
    doc(sshProfile({ intervalSeconds: '1h' })),
    'profiles[0].intervalSeconds',
    /not "1h"/,
  ],
  [
    'a password beside the target',
    doc(sshProfile({}, { password: 'hunter2' })),
    'profiles[0].ssh.password',
    /secrets are never kept in the settings file: use ssh-agent/,
  ],
  [
    'a key passphrase',
    doc(sshProfile({}, { keyPassphrase: 'x' })),
    'profiles[0].ssh.keyPassphrase',
    /secrets are never kept/,
  ],
  [
    'a secret at the top',
    { version: 1, profiles: [], clientSecret: 'x' },
    'clientSecret',
    /secrets are never kept/,
  ],
  [
    'a secret deep inside an unknown key',
    doc(sshProfile({ extra: [{ PASSWORD: 'x' }] })),
    'profiles[0].extra[0].PASSWORD',
    /secrets are never kept/,
  ],
  [
    'a database URL that is not one',
    doc(sshProfile({}, { sql: 'prosody on db1' })),
    'profiles[0].ssh.sql',
    /postgres:\/\//,
  ],
  [
    'a database URL with a password in it',
    doc({ name: 'db', local: { sql: 'postgres://prosody:hunter2@db/prosody' } }),
    'profiles[0].local.sql',
    /holds a password/,
  ],
  [
    'a database URL beside a SQLite path',
    doc(sshProfile({}, { sql: 'mysql://prosody@127.0.0.1/prosody', remoteDb: '/x.sqlite' })),
    'profiles[0].ssh.sql',
    /together with remoteDb/,
  ],
];

describe('invalid settings: every problem names its field', () => {
  for (const [name, json, path, says] of invalid) {
    test(`${name}: ${path === '' ? 'the whole file' : path}`, () => {
      const problems = findSettingsProblems(json);
      assert.ok(problems.length > 0, 'expected a problem');
      const problem = problems.find((p) => p.path === path);
      assert.ok(problem, `no problem at ${path}; got ${JSON.stringify(problems)}`);
      assert.match(problem.problem, says);
      const result = validateSettings(json);
      assert.ok(!result.ok);
      assert.equal(result.failure.kind, 'usage');
      const message = result.failure.kind === 'usage' ? result.failure.message : '';
      assert.ok(message.includes(formatSettingsProblem(problem)), message);
    });
  }

  test('the message puts the path first: "profiles[1].ssh.target: must be …"', () => {
    const result = validateSettings(doc(sshProfile(), sshProfile({ name: 'b' }, { target: '' })));
    assert.deepEqual(result, {
      ok: false,
      failure: {
        kind: 'usage',
        message:
          'profiles[1].ssh.target: must be [user@]host[:port] or an ssh_config alias, not ""',
      },
    });
  });

  test('a secret is reported once, not also as an unknown key', () => {
    const problems = findSettingsProblems(doc(sshProfile({}, { password: 'x' })));
    assert.deepEqual(
      problems.map((p) => p.path),
      ['profiles[0].ssh.password'],
    );
  });

  test('a newer version is the only problem reported, whatever else the file holds', () => {
    const problems = findSettingsProblems({ version: 3, profiles: 'whatever', password: 'x' });
    assert.equal(problems.length, 1);
    assert.match(formatSettingsProblem(problems[0]!), /^version: 3 means a newer version/);
  });

  test('all problems are found, and the message shows five and counts the rest', () => {
    const profiles = Array.from({ length: 8 }, (_, i) => ({ name: `p${i}`, local: { db: 1 } }));
    assert.equal(findSettingsProblems(doc(...profiles)).length, 8);
    const result = validateSettings(doc(...profiles));
    assert.ok(!result.ok && result.failure.kind === 'usage');
    assert.match(result.failure.message, /^profiles\[0\]\.local\.db: .*; and 3 more problems$/);
  });

  test('a secret-named key anywhere is refused (any depth, any case)', () => {
    const secretKey = fc.constantFrom('password', 'Passphrase', 'sshPassword', 'SECRET', 'passwd');
    const path = fc.array(fc.oneof(fc.stringMatching(/^[a-z]{1,6}$/), fc.nat(3)), { maxLength: 5 });
    fc.assert(
      fc.property(secretKey, path, (key, steps) => {
        let value: unknown = { [key]: 'x' };
        for (const step of steps.reverse()) {
          value =
            typeof step === 'number'
              ? [...Array<unknown>(step).fill(null), value]
              : { [step]: value };
        }
        const json = { version: 1, profiles: [], extra: value };
        assert.ok(findSettingsProblems(json).some((p) => /secrets are never kept/.test(p.problem)));
      }),
    );
  });
});

describe('round trip', () => {
  const name = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,20}[A-Za-z0-9]$/);
  const host = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\.[a-z]{2,5}){0,2}$/);
  const target = fc
    .tuple(
      fc.option(fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/), { nil: undefined }),
      host,
      fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
    )
    .map(([u, h, p]) => `${u === undefined ? '' : `${u}@`}${h}${p === undefined ? '' : `:${p}`}`);
  const clock = fc
    .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
    .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
  const alerts = fc.record(
    {
      relativeThreshold: fc.double({ min: 0, max: 10, noNaN: true }),
      absoluteMinimum: fc.nat(1000),
      figures: fc.uniqueArray(fc.constantFrom(...FIGURE_NAMES)),
      cooldownSeconds: fc.nat(30 * 86400),
      quietHours: fc
        .tuple(clock, clock)
        .filter(([a, b]) => a !== b)
        .map(([from, to]) => ({ from, to })),
    },
    { requiredKeys: [] },
  );
  const profile = fc
    .tuple(
      name,
      fc.oneof(
        target.map((t) => ({ ssh: { target: t } })),
        fc.constant({ local: {} }),
      ),
      fc.option(alerts, { nil: undefined }),
      fc.option(fc.integer({ min: 1, max: 604800 }), { nil: undefined }),
    )
    .map(([n, where, a, interval]) => ({
      name: n,
      ...where,
      ...(a === undefined ? {} : { alerts: a }),
      ...(interval === undefined ? {} : { intervalSeconds: interval }),
    }));
  const settings = fc
    .uniqueArray(profile, { selector: (p) => p.name.toLowerCase(), maxLength: 5 })
    .map((profiles) => ({ version: 1, profiles }));

  test('any valid settings survive JSON and validation unchanged', () => {
    fc.assert(
      fc.property(settings, (s) => {
        // Through JSON, as from the file (fast-check's records may have no prototype).
        const json: unknown = JSON.parse(JSON.stringify(s));
        const result = validateSettings(json);
        assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.failure));
        assert.deepEqual(result.value, json);
      }),
    );
  });
});

describe('versions and defaults', () => {
  test('newerSettingsVersion names only a whole version above this one', () => {
    assert.equal(SETTINGS_VERSION, 1);
    assert.equal(newerSettingsVersion({ version: 2 }), 2);
    assert.equal(newerSettingsVersion({ version: 1 }), undefined);
    assert.equal(newerSettingsVersion({ version: 1.5 }), undefined);
    assert.equal(newerSettingsVersion({ version: '2' }), undefined);
    assert.equal(newerSettingsVersion([2]), undefined);
  });

  test('withDefaults fills every alert setting and the interval', () => {
    const p: Profile = { name: 'a', local: {} };
    const resolved = withDefaults(p);
    assert.deepEqual(resolved.alerts, DEFAULT_ALERT_SETTINGS);
    assert.equal(resolved.intervalSeconds, DEFAULT_INTERVAL_SECONDS);
    assert.equal(resolved.name, 'a');
    assert.deepEqual(resolved.local, {});
  });

  test("withDefaults keeps the profile's own settings over the defaults", () => {
    const p: Profile = {
      name: 'a',
      ssh: { target: 'h' },
      alerts: {
        relativeThreshold: 0.5,
        figures: ['mau'],
        quietHours: { from: '22:00', to: '06:00' },
      },
      intervalSeconds: 600,
    };
    const resolved = withDefaults(p);
    assert.deepEqual(resolved.alerts, {
      ...DEFAULT_ALERT_SETTINGS,
      relativeThreshold: 0.5,
      figures: ['mau'],
      quietHours: { from: '22:00', to: '06:00' },
    });
    assert.equal(resolved.intervalSeconds, 600);
  });

  test('withDefaults ignores a setting that is present but undefined', () => {
    const resolved = withDefaults({ name: 'a', local: {}, alerts: { absoluteMinimum: undefined } });
    assert.equal(resolved.alerts.absoluteMinimum, DEFAULT_ALERT_SETTINGS.absoluteMinimum);
  });

  test('withDefaults shares no array with the defaults or the profile', () => {
    const p: Profile = { name: 'a', local: {}, alerts: { figures: ['dau'] } };
    const fromDefaults = withDefaults({ name: 'b', local: {} });
    fromDefaults.alerts.figures.push('accounts');
    assert.deepEqual(DEFAULT_ALERT_SETTINGS.figures, ['dau', 'wau', 'mau']);
    withDefaults(p).alerts.figures.push('wau');
    assert.deepEqual(p.alerts?.figures, ['dau']);
  });
});
