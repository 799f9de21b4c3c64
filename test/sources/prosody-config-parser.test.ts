import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  type ActivityStore,
  type ProsodyConfigFacts,
  UNKNOWN_STORAGE,
  activityStorage,
  parseProsodyConfig,
  ruleConfig,
} from '../../main/sources/prosody-config-parser.js';

const DEBIAN_CONFIG = '/etc/prosody/prosody.cfg.lua';

function storageOf(config: string, host: string | null, store: ActivityStore = 'lastlog2') {
  return activityStorage(parseProsodyConfig(config), host, store);
}

function hostNamed(facts: ProsodyConfigFacts, name: string) {
  const h = facts.hosts.find((x) => x.name === name);
  assert.ok(h, `no host ${name} in ${JSON.stringify(facts.hosts)}`);
  return h;
}

// ---------------------------------------------------------------------------------------------
// Debian's own config

test(
  "Debian's default prosody.cfg.lua is read: modules, localhost, conf.d and internal storage",
  {
    skip: existsSync(DEBIAN_CONFIG) ? false : `${DEBIAN_CONFIG} is absent`,
  },
  () => {
    const facts = parseProsodyConfig(readFileSync(DEBIAN_CONFIG, 'utf8'));
    assert.equal(facts.warnings, undefined);
    assert.equal(facts.dataPath, undefined);
    assert.equal(facts.global.storage, undefined);
    assert.equal(facts.global.sql, undefined);
    assert.ok(facts.global.modulesEnabled?.includes('saslauth'));
    // Commented-out entries such as --"mam" are not modules.
    assert.ok(!facts.global.modulesEnabled?.includes('mam'));
    assert.deepEqual(
      facts.hosts.map((h) => h.name),
      ['localhost'],
    );
    assert.deepEqual(facts.includes, ['conf.d/*.cfg.lua']);
    assert.deepEqual(activityStorage(facts, 'localhost', 'lastlog2'), { backend: 'internal' });
  },
);

test('the example host file Debian ships is read: a disabled host and a MUC component', () => {
  const facts = parseProsodyConfig(`-- Section for example.com

VirtualHost "example.com"
	enabled = false -- Remove this line to enable this host
	ssl = {
		key = "/etc/prosody/certs/example.com.key";
		certificate = "/etc/prosody/certs/example.com.crt";
		}

-- Set up a MUC (multi-user chat) room server on conference.example.com:
Component "conference.example.com" "muc"

--Component "proxy.example.com" "proxy65"
`);
  assert.deepEqual(facts.hosts, [
    { name: 'example.com', component: false },
    { name: 'conference.example.com', component: true },
  ]);
});

// ---------------------------------------------------------------------------------------------
// Sections

test('options before the first VirtualHost line are global', () => {
  const facts = parseProsodyConfig('storage = "sql"\nVirtualHost "a.example"\n');
  assert.equal(facts.global.storage, 'sql');
  assert.equal(hostNamed(facts, 'a.example').storage, undefined);
});

test('options after a VirtualHost line belong to that host until the next one', () => {
  const facts = parseProsodyConfig(`
VirtualHost "a.example"
  storage = "sql"
VirtualHost "b.example"
  default_storage = "memory"
`);
  assert.equal(hostNamed(facts, 'a.example').storage, 'sql');
  assert.equal(hostNamed(facts, 'a.example').defaultStorage, undefined);
  assert.equal(hostNamed(facts, 'b.example').defaultStorage, 'memory');
  assert.equal(facts.global.storage, undefined);
});

test('VirtualHost may be written with parentheses, single quotes or a long string', () => {
  const facts = parseProsodyConfig(`VirtualHost("a.example")
VirtualHost 'b.example'
VirtualHost [[c.example]]
Host "d.example"
host("e.example")`);
  assert.deepEqual(
    facts.hosts.map((h) => h.name),
    ['a.example', 'b.example', 'c.example', 'd.example', 'e.example'],
  );
});

test('a Component with a plugin name is a component host', () => {
  const facts = parseProsodyConfig(`Component "muc.example.org" "muc"
  storage = "internal"
Component("gw.example.org")
component "x.example.org" ("muc")`);
  assert.deepEqual(facts.hosts, [
    { name: 'muc.example.org', component: true, storage: 'internal' },
    { name: 'gw.example.org', component: true },
    { name: 'x.example.org', component: true },
  ]);
});

test('options given in a table after VirtualHost apply to it and return to the global section', () => {
  const facts = parseProsodyConfig(`
VirtualHost "a.example" { storage = "sql", default_storage = "memory" }
storage = "internal"
Component "muc.example" "muc" { storage = "none" }
default_storage = "sql"
`);
  assert.equal(hostNamed(facts, 'a.example').storage, 'sql');
  assert.equal(hostNamed(facts, 'a.example').defaultStorage, 'memory');
  assert.equal(hostNamed(facts, 'muc.example').storage, 'none');
  assert.equal(facts.global.storage, 'internal');
  assert.equal(facts.global.defaultStorage, 'sql');
});

test('a host declared twice keeps one entry with the options of both sections', () => {
  const facts = parseProsodyConfig(`
VirtualHost "a.example"
  storage = "sql"
VirtualHost "b.example"
VirtualHost "a.example"
  default_storage = "memory"
`);
  assert.deepEqual(facts.hosts, [
    { name: 'a.example', component: false, storage: 'sql', defaultStorage: 'memory' },
    { name: 'b.example', component: false },
  ]);
});

test('host names are lower-cased as Prosody nameprep does', () => {
  const facts = parseProsodyConfig('VirtualHost "Example.ORG"\n storage = "sql"');
  assert.deepEqual(
    facts.hosts.map((h) => h.name),
    ['example.org'],
  );
  assert.equal(activityStorage(facts, 'EXAMPLE.org', 'lastlog2').backend, 'sql');
});

test('a VirtualHost whose name is computed sends its options nowhere', () => {
  const facts = parseProsodyConfig(`
storage = "sql"
VirtualHost(ENV_HOST)
  storage = "internal"
`);
  assert.deepEqual(facts.hosts, []);
  assert.equal(facts.global.storage, 'sql');
  assert.equal(facts.warnings?.length, 1);
});

test('a later assignment replaces an earlier one', () => {
  assert.equal(
    parseProsodyConfig('storage = "sql"\nstorage = "internal"').global.storage,
    'internal',
  );
});

test('assigning nil in a host section removes the option there', () => {
  const facts = parseProsodyConfig(
    'storage = "sql"\nVirtualHost "a"\n storage = "x"\n storage = nil',
  );
  assert.equal(hostNamed(facts, 'a').storage, undefined);
  assert.deepEqual(activityStorage(facts, 'a', 'lastlog2').backend, 'sql');
});

// ---------------------------------------------------------------------------------------------
// Values

test('data_path is read from the global section', () => {
  assert.equal(parseProsodyConfig('data_path = "/srv/prosody"').dataPath, '/srv/prosody');
});

test('data_path in a host section is ignored, as Prosody does', () => {
  const facts = parseProsodyConfig('VirtualHost "a"\n data_path = "/elsewhere"');
  assert.equal(facts.dataPath, undefined);
});

test('storage given as a table keeps its string entries', () => {
  const facts = parseProsodyConfig(`storage = {
    archive = "sql";
    ["lastlog2"] = 'internal',
    roster = false,
  }`);
  assert.deepEqual(facts.global.storage, { archive: 'sql', lastlog2: 'internal' });
});

test('a storage table entry named __proto__ is an ordinary entry', () => {
  const facts = parseProsodyConfig('storage = { __proto__ = "sql", lastlog2 = "x" }');
  const storage = facts.global.storage as Record<string, string>;
  assert.equal(Object.getPrototypeOf(storage), Object.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(storage, '__proto__')?.value, 'sql');
});

test('the sql table keeps driver, database and other literal fields, ignoring nested tables', () => {
  const facts = parseProsodyConfig(`sql = {
    driver = "PostgreSQL", ["database"] = "prosody", host = "localhost", port = 5432,
    ssl = { mode = "require" }, "positional";
  }`);
  assert.deepEqual(facts.global.sql, {
    driver: 'PostgreSQL',
    database: 'prosody',
    host: 'localhost',
    port: 5432,
  });
});

test('modules_enabled is read as a list of names', () => {
  const facts = parseProsodyConfig(`modules_enabled = {
    "roster"; -- a comment
    --"mam";
    'lastlog2', [[measure_active_users]]
  }`);
  assert.deepEqual(facts.global.modulesEnabled, ['roster', 'lastlog2', 'measure_active_users']);
});

test('Include lines are recorded as written, in every call form', () => {
  const facts = parseProsodyConfig(`Include "conf.d/*.cfg.lua"
include("/etc/prosody/extra.cfg.lua")
VirtualHost "a"
Include 'hosts/a.cfg.lua'`);
  assert.deepEqual(facts.includes, [
    'conf.d/*.cfg.lua',
    '/etc/prosody/extra.cfg.lua',
    'hosts/a.cfg.lua',
  ]);
});

test('strings with escapes are decoded like Lua strings', () => {
  assert.equal(
    parseProsodyConfig('data_path = "/srv/pro\\115ody\\x2fdata"').dataPath,
    '/srv/prosody/data',
  );
});

test('several options can be set in one multiple assignment', () => {
  const facts = parseProsodyConfig('storage, default_storage = "sql", "memory"');
  assert.equal(facts.global.storage, 'sql');
  assert.equal(facts.global.defaultStorage, 'memory');
});

test('a semicolon after an assignment is allowed', () => {
  assert.equal(parseProsodyConfig('storage = "sql";').global.storage, 'sql');
});

// ---------------------------------------------------------------------------------------------
// What only running the config would tell

test('a storage value built with .. is unknown', () => {
  const facts = parseProsodyConfig('storage = "s" .. "ql"');
  assert.equal(facts.global.storage, undefined);
  assert.deepEqual(facts.global.unknown, ['storage']);
  assert.deepEqual(activityStorage(facts, null, 'lastlog2'), {
    backend: 'other',
    name: UNKNOWN_STORAGE,
  });
});

test('a storage value from a function call is unknown', () => {
  assert.deepEqual(parseProsodyConfig('storage = os.getenv("STORAGE")').global.unknown, [
    'storage',
  ]);
});

test('a storage value read from an ENV_ variable is unknown', () => {
  assert.deepEqual(parseProsodyConfig('storage = ENV_PROSODY_STORAGE').global.unknown, ['storage']);
});

test('one computed entry of a storage table leaves the others readable', () => {
  const facts = parseProsodyConfig('storage = { archive = pick(), lastlog2 = "sql" }');
  assert.deepEqual(facts.global.storage, { lastlog2: 'sql' });
  assert.deepEqual(facts.global.unknown, ['storage.archive']);
  assert.equal(activityStorage(facts, null, 'lastlog2').backend, 'sql');
  assert.deepEqual(activityStorage(facts, null, 'account_activity').backend, 'internal');
});

test('a computed storage table entry for the store asked about makes the answer unknown', () => {
  assert.deepEqual(storageOf('storage = { lastlog2 = x }', null), {
    backend: 'other',
    name: UNKNOWN_STORAGE,
  });
});

test('a computed sql database is unknown and so is the SQL backend that uses it', () => {
  const facts = parseProsodyConfig(
    'storage = "sql"\nsql = { driver = "SQLite3", database = data_path .. "/x.db" }',
  );
  assert.deepEqual(facts.global.sql, { driver: 'SQLite3' });
  assert.deepEqual(facts.global.unknown, ['sql.database']);
  assert.deepEqual(activityStorage(facts, null, 'lastlog2'), {
    backend: 'other',
    name: 'sql (unknown settings)',
  });
});

test('a computed data_path is unknown', () => {
  const facts = parseProsodyConfig('data_path = "/srv/" .. host');
  assert.equal(facts.dataPath, undefined);
  assert.deepEqual(facts.global.unknown, ['data_path']);
});

test('a literal assignment after a computed one makes the option known again', () => {
  const facts = parseProsodyConfig('storage = a .. b\nstorage = "sql"');
  assert.equal(facts.global.storage, 'sql');
  assert.equal(facts.global.unknown, undefined);
});

test('an option set inside an if block is unknown', () => {
  const facts = parseProsodyConfig(
    'storage = "internal"\nif os.getenv("X") then storage = "sql" end',
  );
  assert.equal(facts.global.storage, undefined);
  assert.deepEqual(facts.global.unknown, ['storage']);
});

test('an option set inside a function body is unknown', () => {
  const facts = parseProsodyConfig('local function f() default_storage = "sql" end');
  assert.deepEqual(facts.global.unknown, ['default_storage']);
});

test('a local variable with an option name is not an option', () => {
  assert.equal(parseProsodyConfig('local storage = "sql"').global.storage, undefined);
});

test('modules_enabled with a computed entry is unknown', () => {
  const facts = parseProsodyConfig('modules_enabled = { "roster", extra_module }');
  assert.equal(facts.global.modulesEnabled, undefined);
  assert.deepEqual(facts.global.unknown, ['modules_enabled']);
});

// ---------------------------------------------------------------------------------------------
// Things that only look like options

test('assignments inside comments are ignored', () => {
  const facts = parseProsodyConfig(`
-- storage = "sql"
--[[ storage = "sql"
VirtualHost "fake.example" ]]
--[==[ default_storage = "x" ]] ]==]
data_path = "/real" -- data_path = "/fake"
`);
  assert.equal(facts.global.storage, undefined);
  assert.equal(facts.global.defaultStorage, undefined);
  assert.equal(facts.dataPath, '/real');
  assert.deepEqual(facts.hosts, []);
});

test('VirtualHost inside a string is not a host line', () => {
  const facts = parseProsodyConfig(`
motd_text = [[
VirtualHost "fake.example"
storage = "sql"
]]
welcome_message = "VirtualHost \\"other.example\\" storage = 'sql'"
registration_notification = 'Component "x" "muc"'
`);
  assert.deepEqual(facts.hosts, []);
  assert.equal(facts.global.storage, undefined);
});

test('VirtualHost used inside an expression or block is not a host line', () => {
  const facts = parseProsodyConfig(`
local names = { VirtualHost = 1 }
if false then VirtualHost "hidden.example" end
x = VirtualHost
`);
  assert.deepEqual(facts.hosts, []);
});

test('a config full of Lua the scanner does not need is stepped over', () => {
  const facts = parseProsodyConfig(`#!/usr/bin/env lua
local function env(name, default) return os.getenv(name) or default end
local t <const> = { 1, 2, 3; n = #"abc" }
for i = 1, #t do print(i) end
for k, v in pairs(t) do t[k] = v * 2 end
while false do break end
repeat local x = 1 until x == 1
do local y = function(...) return ... end end
::top:: goto skip
::skip::
t.x, t["y"] = 1, (2)
print "hello" ; print [[x]] ; print { a = 1 }
obj:method("a"):other { }
storage = "sql"
sql = { driver = "SQLite3", database = "data.sqlite" }
VirtualHost "a.example"
  if env("A") == "1" then modules_enabled = { "x" } elseif true then else end
  default_storage = "internal"
`);
  assert.equal(facts.warnings, undefined);
  assert.equal(facts.global.storage, 'sql');
  assert.deepEqual(facts.global.sql, { driver: 'SQLite3', database: 'data.sqlite' });
  assert.deepEqual(facts.hosts, [
    {
      name: 'a.example',
      component: false,
      defaultStorage: 'internal',
      unknown: ['modules_enabled'],
    },
  ]);
});

// ---------------------------------------------------------------------------------------------
// Broken input

test('an unterminated string keeps what came before it and adds a warning', () => {
  const facts = parseProsodyConfig('storage = "sql"\nVirtualHost "a\nstorage = "x"');
  assert.equal(facts.global.storage, 'sql');
  assert.deepEqual(facts.hosts, []);
  assert.match(facts.warnings?.[0] ?? '', /unfinished string/);
});

test('100 000 nested tables in a value give a warning, not a stack overflow', () => {
  const facts = parseProsodyConfig('storage = "sql"\nx = ' + '{'.repeat(100_000));
  assert.equal(facts.global.storage, 'sql');
  assert.match(facts.warnings?.[0] ?? '', /nesting deeper/);
});

test('100 000 nested blocks give a warning, not a stack overflow', () => {
  const facts = parseProsodyConfig('do '.repeat(100_000));
  assert.match(facts.warnings?.[0] ?? '', /nesting deeper/);
});

test('100 000 unary minus signs give a warning, not a stack overflow', () => {
  const facts = parseProsodyConfig('x = ' + '- '.repeat(100_000) + '1');
  assert.match(facts.warnings?.[0] ?? '', /nesting deeper/);
});

test('the scanner never throws on arbitrary text', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
      parseProsodyConfig(text);
    }),
    { numRuns: 2000 },
  );
});

test('the scanner never throws on random sequences of Lua tokens', () => {
  const token = fc.constantFrom(
    ...(
      'VirtualHost Component Include storage default_storage sql modules_enabled data_path ' +
      '= == { } ( ) [ ] , ; . .. : :: "a" \'b\' [[c]] 1 -2 nil true function end if then else ' +
      'elseif do while for in repeat until local return break goto x - # not and or ...'
    ).split(' '),
  );
  fc.assert(
    fc.property(fc.array(token, { maxLength: 80 }), (tokens) => {
      const facts = parseProsodyConfig(tokens.join(' '));
      for (const h of [null, ...facts.hosts.map((x) => x.name)]) {
        activityStorage(facts, h, 'lastlog2');
      }
    }),
    { numRuns: 3000 },
  );
});

// ---------------------------------------------------------------------------------------------
// Prosody's choice of storage

test('with no storage options every store is internal', () => {
  assert.deepEqual(storageOf('', null), { backend: 'internal' });
});

test('a global storage string applies to every host and store', () => {
  const config = 'storage = "sql"\nVirtualHost "a"';
  assert.equal(storageOf(config, 'a', 'lastlog2').backend, 'sql');
  assert.equal(storageOf(config, 'a', 'account_activity').backend, 'sql');
});

test('a host storage string overrides the global one', () => {
  assert.deepEqual(storageOf('storage = "sql"\nVirtualHost "a"\n storage = "internal"', 'a'), {
    backend: 'internal',
  });
});

test('a host storage table replaces the global table instead of merging with it', () => {
  const config = 'storage = { lastlog2 = "sql" }\nVirtualHost "a"\n storage = { archive = "sql" }';
  assert.deepEqual(storageOf(config, 'a'), { backend: 'internal' });
});

test('a storage table names the driver only for the stores it lists', () => {
  const config = 'storage = { account_activity = "sql" }';
  assert.deepEqual(storageOf(config, null, 'lastlog2'), { backend: 'internal' });
  assert.equal(storageOf(config, null, 'account_activity').backend, 'sql');
});

test('a store missing from the storage table falls back to default_storage', () => {
  assert.deepEqual(storageOf('storage = { archive = "sql" }\ndefault_storage = "memory"', null), {
    backend: 'other',
    name: 'memory',
  });
});

test('a host default_storage overrides the global one', () => {
  const config = 'default_storage = "sql"\nVirtualHost "a"\n default_storage = "internal"';
  assert.deepEqual(storageOf(config, 'a'), { backend: 'internal' });
  assert.equal(storageOf(config, null).backend, 'sql');
});

test('a global storage string wins over a host default_storage', () => {
  assert.equal(
    storageOf('storage = "sql"\nVirtualHost "a"\n default_storage = "internal"', 'a').backend,
    'sql',
  );
});

test('sql storage without an sql table is SQLite3 in prosody.sqlite', () => {
  assert.deepEqual(storageOf('storage = "sql"', null), {
    backend: 'sql',
    driver: 'SQLite3',
    database: 'prosody.sqlite',
  });
});

test('the global sql table gives driver and database', () => {
  assert.deepEqual(
    storageOf('storage = "sql"\nsql = { driver = "SQLite3", database = "/srv/p.db" }', null),
    {
      backend: 'sql',
      driver: 'SQLite3',
      database: '/srv/p.db',
      sql: { driver: 'SQLite3', database: '/srv/p.db' },
    },
  );
});

test("a host's own sql table overrides the global one", () => {
  const config = `storage = "sql"
sql = { driver = "SQLite3", database = "global.sqlite" }
VirtualHost "a"
  sql = { driver = "PostgreSQL", database = "prosody_a" }
VirtualHost "b"`;
  assert.deepEqual(storageOf(config, 'a'), {
    backend: 'sql',
    driver: 'PostgreSQL',
    database: 'prosody_a',
    sql: { driver: 'PostgreSQL', database: 'prosody_a' },
  });
  assert.deepEqual(storageOf(config, 'b'), {
    backend: 'sql',
    driver: 'SQLite3',
    database: 'global.sqlite',
    sql: { driver: 'SQLite3', database: 'global.sqlite' },
  });
});

test('"sql2" is read as "sql", as a string and in a table', () => {
  assert.equal(storageOf('storage = "sql2"', null).backend, 'sql');
  assert.equal(storageOf('storage = { lastlog2 = "sql2" }', null).backend, 'sql');
  assert.equal(storageOf('default_storage = "sql2"', null).backend, 'sql');
});

test('driver names are case-sensitive', () => {
  assert.deepEqual(storageOf('storage = "SQL"', null), { backend: 'other', name: 'SQL' });
  assert.deepEqual(storageOf('storage = "Internal"', null), { backend: 'other', name: 'Internal' });
});

test('a host the config does not declare gets the global choice', () => {
  assert.equal(
    storageOf('storage = "sql"\nVirtualHost "a"\n storage = "internal"', 'b').backend,
    'sql',
  );
});

test('a computed storage option in a host section hides the global one', () => {
  assert.deepEqual(storageOf('storage = "sql"\nVirtualHost "a"\n storage = pick()', 'a'), {
    backend: 'other',
    name: UNKNOWN_STORAGE,
  });
});

test('a computed default_storage matters only when storage does not decide', () => {
  assert.equal(storageOf('storage = "sql"\ndefault_storage = x()', null).backend, 'sql');
  assert.deepEqual(storageOf('default_storage = x()', null), {
    backend: 'other',
    name: UNKNOWN_STORAGE,
  });
});

test('authentication and measure_active_users_count_disabled follow Prosody: the host’s own, else the global', () => {
  const config = [
    'authentication = "internal_hashed"',
    'VirtualHost "a.test"',
    'VirtualHost "b.test"',
    '  authentication = "ldap"',
    '  measure_active_users_count_disabled = true',
    'VirtualHost "c.test"',
    '  authentication = os.getenv("AUTH")',
  ].join('\n');
  const facts = parseProsodyConfig(config);
  assert.deepEqual(ruleConfig(facts, 'a.test'), {
    authentication: 'internal_hashed',
    configRead: true,
  });
  assert.deepEqual(ruleConfig(facts, 'b.test'), {
    authentication: 'ldap',
    countDisabled: true,
    configRead: true,
  });
  assert.deepEqual(ruleConfig(facts, 'c.test'), { configRead: false });
  assert.deepEqual(ruleConfig(parseProsodyConfig(''), 'd.test'), { configRead: true });
});
