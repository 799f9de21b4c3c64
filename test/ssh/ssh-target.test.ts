/*
 * Target resolution, held against OpenSSH itself: for every crafted config the expected result is
 * written out by hand and also compared with what the real ssh resolves. `ssh -G` prints the host
 * name, user, port and ProxyJump without connecting; the identity files come from `ssh -v` with a
 * ProxyCommand that exits at once (ssh prints each expanded "identity file" before the key
 * exchange fails), since `ssh -G` prints them unexpanded.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import type { Failure } from '../../main/core/failure.js';
import { DEFAULT_IDENTITY_FILES } from '../../main/ssh/private-keys.js';
import {
  type SshTarget,
  type TargetSpec,
  parseTargetSpec,
  resolveSshTarget,
} from '../../main/ssh/ssh-target.js';

const dir = mkdtempSync(join(tmpdir(), 'pau-ssh-target-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// ssh takes ~ and %d from the password database, as os.userInfo() does.
const { username: me, homedir: home } = userInfo();
const cwd = join(dir, 'cwd');
mkdirSync(cwd);
let configCount = 0;

function configFile(text: string): string {
  const path = join(dir, `config-${++configCount}`);
  writeFileSync(path, text);
  return path;
}

const defaults = DEFAULT_IDENTITY_FILES.map((name) => join(home, '.ssh', name));

// --- What OpenSSH says ------------------------------------------------------------------------

interface SshView {
  ok: boolean;
  stderr: string;
  get(key: string): string[];
}

function sshG(configPath: string, args: string[]): SshView {
  const r = spawnSync('ssh', ['-G', '-F', configPath, ...args], { encoding: 'utf8', cwd });
  const lines = r.stdout.split('\n');
  return {
    ok: r.status === 0,
    stderr: r.stderr,
    get: (key) => lines.filter((l) => l.startsWith(`${key} `)).map((l) => l.slice(key.length + 1)),
  };
}

/** The identity files ssh would try, expanded, as `ssh -v` lists them. */
function sshIdentityFiles(configPath: string, args: string[]): string[] {
  const r = spawnSync(
    'ssh',
    ['-v', '-F', configPath, '-o', 'ProxyCommand=exit 0', '-o', 'BatchMode=yes', ...args, 'true'],
    { encoding: 'utf8', cwd, timeout: 20_000 },
  );
  return [...r.stderr.matchAll(/^debug1: identity file (.*) type -?\d+$/gm)]
    .map((m) => m[1] ?? '')
    .filter((file) => !file.endsWith('-cert'))
    .map((file) => resolve(cwd, file));
}

/** Our result against ssh's, for a target and (recursively) its jump host. */
function assertSameAsSsh(target: SshTarget, configPath: string, sshArgs: string[]): void {
  const view = sshG(configPath, sshArgs);
  assert.ok(view.ok, view.stderr);
  assert.deepEqual(view.get('hostname'), [target.host], 'hostname');
  assert.deepEqual(view.get('user'), [target.user], 'user');
  assert.deepEqual(view.get('port'), [String(target.port)], 'port');
  let identities = sshIdentityFiles(configPath, sshArgs);
  if (target.defaultIdentityFiles) {
    identities = identities.filter((f) => DEFAULT_IDENTITY_FILES.includes(basename(f)));
  }
  assert.deepEqual(identities, target.identityFiles, 'identity files');

  const jump = view.get('proxyjump');
  if (target.proxyJump === undefined) {
    assert.deepEqual(jump, [], 'proxyjump');
    return;
  }
  const hop = parseTargetSpec(jump[0] ?? '');
  assert.ok(hop.ok, `ssh's proxyjump ${jump[0]}`);
  assert.equal(hop.value.host, target.proxyJump.alias);
  if (hop.value.user !== undefined) assert.equal(hop.value.user, target.proxyJump.user);
  if (hop.value.port !== undefined) assert.equal(hop.value.port, target.proxyJump.port);
  // What ssh runs for the hop: ssh [-l user] [-p port] -F config host (ProxyJump in ssh.c).
  assertSameAsSsh(target.proxyJump, configPath, [
    ...(hop.value.user === undefined ? [] : ['-l', hop.value.user]),
    ...(hop.value.port === undefined ? [] : ['-p', String(hop.value.port)]),
    hop.value.host,
  ]);
}

// --- Spec parsing -----------------------------------------------------------------------------

describe('parseTargetSpec', () => {
  const good: [string, TargetSpec][] = [
    ['host.example', { host: 'host.example' }],
    ['bob@host.example', { user: 'bob', host: 'host.example' }],
    ['bob@host.example:2222', { user: 'bob', host: 'host.example', port: 2222 }],
    ['host.example:22', { host: 'host.example', port: 22 }],
    ['192.0.2.1:2222', { host: '192.0.2.1', port: 2222 }],
    ['a@b@host.example', { user: 'a@b', host: 'host.example' }],
    ['[::1]:2222', { host: '::1', port: 2222 }],
    ['bob@[2001:db8::1]:22', { user: 'bob', host: '2001:db8::1', port: 22 }],
    ['[::1]', { host: '::1' }],
    ['::1', { host: '::1' }],
    ['fe80::1%eth0', { host: 'fe80::1%eth0' }],
    ['bob@2001:db8::1', { user: 'bob', host: '2001:db8::1' }],
    ['ssh://bob@host.example:2200', { user: 'bob', host: 'host.example', port: 2200 }],
    ['ssh://host.example/', { host: 'host.example' }],
    ['host.example:00022', { host: 'host.example', port: 22 }],
  ];
  for (const [spec, expected] of good) {
    test(`"${spec}" is ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(parseTargetSpec(spec), { ok: true, value: expected });
    });
  }

  const bad: [string, RegExp][] = [
    ['', /empty/],
    ['-oProxyCommand=touch-x', /starts with "-"/],
    ['bob@-host', /host name .* starts with "-"/],
    ['-bob@host', /starts with "-"/],
    ['bob@', /no host name/],
    ['@host', /empty user name/],
    ['host:', /port "" .* is not a port number/],
    ['host:0', /port "0" .* is not a port number/],
    ['host:65536', /port "65536"/],
    ['host:ssh', /port "ssh"/],
    ['host:-1', /port "-1"/],
    ['ho st', /spaces/],
    ['host\t', /spaces/],
    ['host\n', /spaces/],
    ['[::1', /"\[" without "\]"/],
    ['[::1]x', /other than ":port"/],
    ['[]:22', /no host name/],
    ['host:22:33', /more than one ":"/],
    ['ho]st', /misplaced/],
  ];
  for (const [spec, message] of bad) {
    test(`${JSON.stringify(spec)} is refused`, () => {
      const result = parseTargetSpec(spec);
      assert.ok(!result.ok);
      assert.equal(result.failure.kind, 'usage');
      assert.match(result.failure.kind === 'usage' ? result.failure.message : '', message);
    });
  }
});

// --- Resolution, compared with OpenSSH --------------------------------------------------------

const aliasConfig = `
Host alias
  HostName Real.Example.COM
  User bob
  Port 2222
  IdentityFile ~/.ssh/alias_key
  IdentitiesOnly yes
`;

const wildcardConfig = `
Host alias
  HostName alias.example
  User bob
  IdentityFile ~/.ssh/alias_key

Host *.corp !secret.corp
  User corp-user
  Port 2022
  IdentityFile ~/.ssh/corp_key

Host *
  User everyone
  Port 2200
  IdentityFile ~/.ssh/star_key
`;

const firstWinsConfig = `
Host first
  User first-user
Host first
  User second-user
  Port 2022
Host fir*
  HostName first.example
  HostName second.example
`;

const matchConfig = `
Host matchme
  HostName matched.example
Match host matched.example
  User matched-user
Match originalhost matchme
  IdentityFile ~/.ssh/from_original
Match user carol
  Port 2023
`;

const finalConfig = `
Host final-check
  HostName final.example
Match final
  User final-user
Host final.example
  Port 2024
`;

const tokenConfig = `
Host tokens
  HostName %h.Inner.Example
  User bob
  Port 2222
  IdentityFile %d/.ssh/%r@%h:%p
  IdentityFile ~/.ssh/%n_%u_%%
  IdentityFile ~/.ssh/dup
  IdentityFile ~/.ssh/dup
Host relative
  IdentityFile keys/relative_key
Host "quoted"
  IdentityFile "~/My Keys/id_ed25519"
`;

const jumpConfig = `
Host jump-alias
  HostName Bastion.Example
  User jumper
  Port 2200
  IdentityFile ~/.ssh/jump_key

Host via-alias
  HostName inner.example
  ProxyJump jump-alias

Host via-direct
  ProxyJump carol@198.51.100.7:2201

Host via-uri
  ProxyJump ssh://dave@jump.example:2202

Host via-ipv6
  ProxyJump erin@[2001:db8::7]:2203

Host via-none
  ProxyJump none
  ProxyJump jump-alias

Host command-none
  ProxyCommand none
  ProxyJump jump-alias

Host jump-then-command
  ProxyJump jump-alias
  ProxyCommand nc %h %p

Host *
  IdentityFile ~/.ssh/star_key
`;

const caseConfig = `
Host UPPER
  HostName Upper.Example
Host lower
  User lower-user
`;

interface Case {
  name: string;
  config: string | null;
  spec: string;
  /** The same request on ssh's command line. */
  ssh: string[];
  identityOverride?: string;
  expected: Omit<SshTarget, 'warnings' | 'proxyJump'> & { proxyJump?: Partial<SshTarget> };
}

const ssh = (name: string): string => join(home, '.ssh', name);
const override = join(dir, 'override_key');
writeFileSync(override, ''); // ssh drops an -i file that does not exist

const cases: Case[] = [
  {
    name: 'an alias gives HostName (lowercased), User, Port, IdentityFile and IdentitiesOnly',
    config: aliasConfig,
    spec: 'alias',
    ssh: ['alias'],
    expected: {
      alias: 'alias',
      host: 'real.example.com',
      port: 2222,
      user: 'bob',
      identityFiles: [ssh('alias_key')],
      defaultIdentityFiles: false,
      identitiesOnly: true,
    },
  },
  {
    name: 'without a config: the host typed, the local user, port 22, the default identities',
    config: null,
    spec: 'plain.example',
    ssh: ['plain.example'],
    expected: {
      alias: 'plain.example',
      host: 'plain.example',
      port: 22,
      user: me,
      identityFiles: defaults,
      defaultIdentityFiles: true,
      identitiesOnly: false,
    },
  },
  {
    name: 'the user and port typed beat the config',
    config: aliasConfig,
    spec: 'zoe@alias:2345',
    ssh: ['-p', '2345', 'zoe@alias'],
    expected: {
      alias: 'alias',
      host: 'real.example.com',
      port: 2345,
      user: 'zoe',
      identityFiles: [ssh('alias_key')],
      defaultIdentityFiles: false,
      identitiesOnly: true,
    },
  },
  {
    name: 'a wildcard block applies, and Host * fills in what is left, IdentityFile accumulating',
    config: wildcardConfig,
    spec: 'build.corp',
    ssh: ['build.corp'],
    expected: {
      alias: 'build.corp',
      host: 'build.corp',
      port: 2022,
      user: 'corp-user',
      identityFiles: [ssh('corp_key'), ssh('star_key')],
      defaultIdentityFiles: false,
      identitiesOnly: false,
    },
  },
  {
    name: 'a negated pattern keeps a host out of a wildcard block',
    config: wildcardConfig,
    spec: 'secret.corp',
    ssh: ['secret.corp'],
    expected: {
      alias: 'secret.corp',
      host: 'secret.corp',
      port: 2200,
      user: 'everyone',
      identityFiles: [ssh('star_key')],
      defaultIdentityFiles: false,
      identitiesOnly: false,
    },
  },
  {
    name: 'an alias keeps its own values over the Host * defaults below it',
    config: wildcardConfig,
    spec: 'alias',
    ssh: ['alias'],
    expected: {
      alias: 'alias',
      host: 'alias.example',
      port: 2200,
      user: 'bob',
      identityFiles: [ssh('alias_key'), ssh('star_key')],
      defaultIdentityFiles: false,
      identitiesOnly: false,
    },
  },
  {
    name: 'the first value obtained wins, across blocks and within one',
    config: firstWinsConfig,
    spec: 'first',
    ssh: ['first'],
    expected: {
      alias: 'first',
      host: 'first.example',
      port: 2022,
      user: 'first-user',
      identityFiles: defaults,
      defaultIdentityFiles: true,
      identitiesOnly: false,
    },
  },
  {
    name: 'Match host sees HostName and Match originalhost sees the host typed',
    config: matchConfig,
    spec: 'matchme',
    ssh: ['matchme'],
    expected: {
      alias: 'matchme',
      host: 'matched.example',
      port: 22,
      user: 'matched-user',
      identityFiles: [ssh('from_original')],
      defaultIdentityFiles: false,
      identitiesOnly: false,
    },
  },
  {
    name: 'Match user sees the user typed',
    config: matchConfig,
    spec: 'carol@other.example',
    ssh: ['carol@other.example'],
    expected: {
      alias: 'other.example',
      host: 'other.example',
      port: 2023,
      user: 'carol',
      identityFiles: defaults,
      defaultIdentityFiles: true,
      identitiesOnly: false,
    },
  },
  {
    name: 'Match final re-reads the config with Host matched against HostName',
    config: finalConfig,
    spec: 'final-check',
    ssh: ['final-check'],
    expected: {
      alias: 'final-check',
      host: 'final.example',
      port: 2024,
      user: 'final-user',
      identityFiles: defaults,
      defaultIdentityFiles: true,
      identitiesOnly: false,
    },
  },
  {
    name: 'Host patterns match the host as typed, case and all',
    config: caseConfig,
    spec: 'UPPER',
    ssh: ['UPPER'],
    expected: {
      alias: 'UPPER',
      host: 'upper.example',
      port: 22,
      user: me,
      identityFiles: defaults,
      defaultIdentityFiles: true,
      identitiesOnly: false,
    },
  },
  {
    name: 'a host typed in capitals matches no lowercase block, and is lowercased',
    config: caseConfig,
    spec: 'LOWER',
    ssh: ['LOWER'],
    expected: {
      alias: 'LOWER',
      host: 'lower',
      port: 22,
      user: me,
      identityFiles: defaults,
      defaultIdentityFiles: true,
      identitiesOnly: false,
    },
  },
  {
    name: '~ and the %d %r %h %p %n %u %% tokens expand as ssh does; duplicates are tried once',
    config: tokenConfig,
    spec: 'tokens',
    ssh: ['tokens'],
    expected: {
      alias: 'tokens',
      host: 'tokens.inner.example',
      port: 2222,
      user: 'bob',
      identityFiles: [
        join(home, '.ssh', 'bob@tokens.inner.example:2222'),
        ssh(`tokens_${me}_%`),
        ssh('dup'),
      ],
      defaultIdentityFiles: false,
      identitiesOnly: false,
    },
  },
  {
    name: 'a relative identity file is relative to the working directory',
    config: tokenConfig,
    spec: 'relative',
    ssh: ['relative'],
    expected: {
      alias: 'relative',
      host: 'relative',
      port: 22,
      user: me,
      identityFiles: [join(cwd, 'keys', 'relative_key')],
      defaultIdentityFiles: false,
      identitiesOnly: false,
    },
  },
  {
    name: 'quoted values keep their spaces',
    config: tokenConfig,
    spec: 'quoted',
    ssh: ['quoted'],
    expected: {
      alias: 'quoted',
      host: 'quoted',
      port: 22,
      user: me,
      identityFiles: [join(home, 'My Keys', 'id_ed25519')],
      defaultIdentityFiles: false,
      identitiesOnly: false,
    },
  },
  {
    name: '--identity replaces the default identities',
    config: null,
    spec: 'plain.example',
    ssh: ['-i', override, 'plain.example'],
    identityOverride: override,
    expected: {
      alias: 'plain.example',
      host: 'plain.example',
      port: 22,
      user: me,
      identityFiles: [override],
      defaultIdentityFiles: false,
      identitiesOnly: false,
    },
  },
  {
    name: '--identity goes before the configured identity files',
    config: aliasConfig,
    spec: 'alias',
    ssh: ['-i', override, 'alias'],
    identityOverride: override,
    expected: {
      alias: 'alias',
      host: 'real.example.com',
      port: 2222,
      user: 'bob',
      identityFiles: [override, ssh('alias_key')],
      defaultIdentityFiles: false,
      identitiesOnly: true,
    },
  },
  {
    name: 'an IPv6 address with a port',
    config: wildcardConfig,
    spec: '[::1]:2345',
    ssh: ['-p', '2345', '::1'],
    expected: {
      alias: '::1',
      host: '::1',
      port: 2345,
      user: 'everyone',
      identityFiles: [ssh('star_key')],
      defaultIdentityFiles: false,
      identitiesOnly: false,
    },
  },
  {
    name: 'a bare IPv6 address',
    config: null,
    spec: 'bob@2001:db8::1',
    ssh: ['bob@2001:db8::1'],
    expected: {
      alias: '2001:db8::1',
      host: '2001:db8::1',
      port: 22,
      user: 'bob',
      identityFiles: defaults,
      defaultIdentityFiles: true,
      identitiesOnly: false,
    },
  },
  {
    name: 'ProxyJump through an alias resolves the jump host through the config, without --identity',
    config: jumpConfig,
    spec: 'via-alias',
    ssh: ['-i', override, 'via-alias'],
    identityOverride: override,
    expected: {
      alias: 'via-alias',
      host: 'inner.example',
      port: 22,
      user: me,
      identityFiles: [override, ssh('star_key')],
      defaultIdentityFiles: false,
      identitiesOnly: false,
      proxyJump: {
        alias: 'jump-alias',
        host: 'bastion.example',
        port: 2200,
        user: 'jumper',
        identityFiles: [ssh('jump_key'), ssh('star_key')],
      },
    },
  },
  {
    name: 'ProxyJump user@host:port gives the jump host its user and port',
    config: jumpConfig,
    spec: 'via-direct',
    ssh: ['via-direct'],
    expected: {
      alias: 'via-direct',
      host: 'via-direct',
      port: 22,
      user: me,
      identityFiles: [ssh('star_key')],
      defaultIdentityFiles: false,
      identitiesOnly: false,
      proxyJump: { alias: '198.51.100.7', host: '198.51.100.7', port: 2201, user: 'carol' },
    },
  },
  {
    name: 'ProxyJump as an ssh:// URI',
    config: jumpConfig,
    spec: 'via-uri',
    ssh: ['via-uri'],
    expected: {
      alias: 'via-uri',
      host: 'via-uri',
      port: 22,
      user: me,
      identityFiles: [ssh('star_key')],
      defaultIdentityFiles: false,
      identitiesOnly: false,
      proxyJump: { alias: 'jump.example', host: 'jump.example', port: 2202, user: 'dave' },
    },
  },
  {
    name: 'ProxyJump to an IPv6 address in brackets',
    config: jumpConfig,
    spec: 'via-ipv6',
    ssh: ['via-ipv6'],
    expected: {
      alias: 'via-ipv6',
      host: 'via-ipv6',
      port: 22,
      user: me,
      identityFiles: [ssh('star_key')],
      defaultIdentityFiles: false,
      identitiesOnly: false,
      proxyJump: { alias: '2001:db8::7', host: '2001:db8::7', port: 2203, user: 'erin' },
    },
  },
  {
    name: 'ProxyJump none means no jump host, and wins over a later ProxyJump',
    config: jumpConfig,
    spec: 'via-none',
    ssh: ['via-none'],
    expected: {
      alias: 'via-none',
      host: 'via-none',
      port: 22,
      user: me,
      identityFiles: [ssh('star_key')],
      defaultIdentityFiles: false,
      identitiesOnly: false,
    },
  },
  {
    name: 'ProxyCommand none first means no proxy, and stops a later ProxyJump',
    config: jumpConfig,
    spec: 'command-none',
    ssh: ['command-none'],
    expected: {
      alias: 'command-none',
      host: 'command-none',
      port: 22,
      user: me,
      identityFiles: [ssh('star_key')],
      defaultIdentityFiles: false,
      identitiesOnly: false,
    },
  },
];

describe('resolveSshTarget, compared with ssh', () => {
  for (const c of cases) {
    test(c.name, () => {
      const configPath = c.config === null ? '/dev/null' : configFile(c.config);
      const result = resolveSshTarget(c.spec, {
        configText: c.config,
        configPath,
        localUser: me,
        home,
        cwd,
        ...(c.identityOverride === undefined ? {} : { identityOverride: c.identityOverride }),
      });
      assert.ok(result.ok, JSON.stringify(!result.ok && result.failure));
      const { proxyJump, warnings, ...rest } = result.value;
      const { proxyJump: expectedJump, ...expectedRest } = c.expected;
      assert.deepEqual(rest, expectedRest);
      assert.deepEqual(warnings, []);
      if (expectedJump === undefined) {
        assert.equal(proxyJump, undefined);
      } else {
        assert.ok(proxyJump);
        assert.equal(proxyJump.proxyJump, undefined);
        for (const [key, value] of Object.entries(expectedJump)) {
          assert.deepEqual(proxyJump[key as keyof SshTarget], value, `proxyJump.${key}`);
        }
      }
      assertSameAsSsh(result.value, configPath, c.ssh);
    });
  }

  test('ProxyJump before ProxyCommand wins, as in ssh', () => {
    const configPath = configFile(jumpConfig);
    const result = resolve1('jump-then-command', jumpConfig, configPath);
    assert.ok(result.ok, JSON.stringify(!result.ok && result.failure));
    assert.equal(result.value.proxyJump?.alias, 'jump-alias');
    assert.deepEqual(sshG(configPath, ['jump-then-command']).get('proxycommand'), []);
    assertSameAsSsh(result.value, configPath, ['jump-then-command']);
  });
});

function resolve1(spec: string, config: string | null, configPath: string) {
  return resolveSshTarget(spec, { configText: config, configPath, localUser: me, home, cwd });
}

// --- Refusals ---------------------------------------------------------------------------------

interface Refusal {
  name: string;
  config: string;
  spec: string;
  detail: RegExp;
  /** What ssh does with the same config: its -G output or its error. */
  ssh: { args: string[]; says: RegExp };
}

const refusals: Refusal[] = [
  {
    name: 'ProxyCommand is refused, suggesting ProxyJump',
    config: 'Host pc\n  ProxyCommand ssh -W %h:%p bastion.example\n',
    spec: 'pc',
    detail: /ProxyCommand for pc is not supported: use ProxyJump/,
    ssh: { args: ['pc'], says: /^proxycommand ssh -W %h:%p bastion\.example$/m },
  },
  {
    name: 'a ProxyCommand before a ProxyJump wins, so it is refused',
    config: 'Host pc\n  ProxyCommand nc %h %p\n  ProxyJump bastion\n',
    spec: 'pc',
    detail: /ProxyCommand for pc is not supported/,
    ssh: { args: ['pc'], says: /^proxycommand nc %h %p$/m },
  },
  {
    name: 'ProxyJump none does not stop a later ProxyCommand',
    config: 'Host pc\n  ProxyJump none\n  ProxyCommand nc %h %p\n',
    spec: 'pc',
    detail: /ProxyCommand for pc is not supported/,
    ssh: { args: ['pc'], says: /^proxycommand nc %h %p$/m },
  },
  {
    name: 'more than one jump host is refused',
    config: 'Host two\n  ProxyJump a.example,bob@b.example:2200\n',
    spec: 'two',
    detail: /ProxyJump a\.example,bob@b\.example:2200 for two has 2 hops: only one jump host/,
    ssh: { args: ['two'], says: /^proxyjump a\.example,bob@b\.example:2200$/m },
  },
  {
    name: 'a jump host with its own ProxyJump is refused',
    config: 'Host inner\n  ProxyJump middle\nHost middle\n  ProxyJump outer.example\n',
    spec: 'inner',
    detail: /jump host middle has its own ProxyJump outer\.example: only one jump host/,
    ssh: { args: ['middle'], says: /^proxyjump outer\.example$/m },
  },
  {
    name: 'a jump host that jumps through itself is a loop',
    config: 'Host *\n  ProxyJump bastion\n',
    spec: 'web',
    detail: /ProxyJump for bastion goes through bastion itself \(a jump host loop\)/,
    ssh: { args: ['bastion'], says: /jumphost loop via bastion/ },
  },
  {
    name: 'a target that jumps through itself is a loop',
    config: 'Host *\n  ProxyJump bastion\n',
    spec: 'bastion',
    detail: /goes through bastion itself/,
    ssh: { args: ['bastion'], says: /jumphost loop via bastion/ },
  },
  {
    name: 'a Port that is not a number',
    config: 'Host x\n  Port abc\n',
    spec: 'x',
    detail: /Port abc for x is not a port number/,
    ssh: { args: ['x'], says: /Bad port 'abc'/ },
  },
  {
    name: 'a Port out of range',
    config: 'Host x\n  Port 70000\n',
    spec: 'x',
    detail: /Port 70000 for x is not a port number/,
    ssh: { args: ['x'], says: /Bad port '70000'/ },
  },
  {
    name: 'an unbalanced quote',
    config: 'Host x\n  IdentityFile "~/.ssh/id\n',
    spec: 'x',
    detail: /Unexpected line break/,
    ssh: { args: ['x'], says: /invalid quotes/ },
  },
  {
    name: 'a Match without its argument',
    config: 'Match host\n  User u\n',
    spec: 'x',
    detail: /Missing value for match criteria host/,
    ssh: { args: ['x'], says: /Missing Match criteria for host/ },
  },
  {
    name: 'a Host line without patterns',
    config: 'Host\n  User u\n',
    spec: 'x',
    detail: /^Host has no value$/,
    ssh: { args: ['x'], says: /no argument after keyword "host"/ },
  },
  {
    name: 'a HostName without a value',
    config: 'Host x\n  HostName\n  User bob\n',
    spec: 'x',
    detail: /^HostName has no value$/,
    ssh: { args: ['x'], says: /no argument after keyword "hostname"/ },
  },
  {
    name: 'a HostName without a value at the end of the file',
    config: 'Host x\n  HostName',
    spec: 'x',
    detail: /HostName for x has no value/,
    ssh: { args: ['x'], says: /no argument after keyword "hostname"/ },
  },
  {
    name: 'a HostName token other than %h',
    config: 'Host x\n  HostName %p.example\n',
    spec: 'x',
    detail: /HostName %p\.example for x: %p is not supported/,
    ssh: { args: ['x'], says: /unknown key %p/ },
  },
  {
    name: 'an IdentityFile token that needs the local host name',
    config: 'Host x\n  IdentityFile ~/.ssh/%C\n',
    spec: 'x',
    detail: /IdentityFile ~\/\.ssh\/%C for x: %C is not supported here/,
    ssh: { args: ['x'], says: /^identityfile ~\/\.ssh\/%C$/m },
  },
  {
    name: "an IdentityFile in another user's home",
    config: 'Host x\n  IdentityFile ~nobody/.ssh/id_ed25519\n',
    spec: 'x',
    detail: /~nobody \(another user's home\) is not supported/,
    ssh: { args: ['x'], says: /^identityfile ~nobody\/\.ssh\/id_ed25519$/m },
  },
  {
    name: 'an IdentityFile with an environment variable',
    config: 'Host x\n  IdentityFile ${HOME}/.ssh/id_ed25519\n',
    spec: 'x',
    detail: /environment variables/,
    ssh: { args: ['x'], says: /^identityfile \$\{HOME\}\/\.ssh\/id_ed25519$/m },
  },
];

describe('resolveSshTarget refuses, naming the config file', () => {
  for (const r of refusals) {
    test(r.name, () => {
      const configPath = configFile(r.config);
      const result = resolve1(r.spec, r.config, configPath);
      assert.ok(!result.ok, 'should fail');
      const failure: Failure = result.failure;
      assert.equal(failure.kind, 'ssh-config');
      assert.equal(failure.kind === 'ssh-config' && failure.path, configPath);
      assert.match(failure.kind === 'ssh-config' ? failure.detail : '', r.detail);
      const g = spawnSync('ssh', ['-G', '-F', configPath, ...r.ssh.args], { encoding: 'utf8' });
      assert.match(g.stdout + g.stderr, r.ssh.says);
    });
  }

  test('an --identity that cannot be expanded is a usage failure', () => {
    const result = resolveSshTarget('x', {
      configText: null,
      configPath: '/cfg',
      localUser: me,
      home,
      identityOverride: '~nobody/key',
    });
    assert.deepEqual(result, {
      ok: false,
      failure: {
        kind: 'usage',
        message: "The identity file ~nobody/key: ~nobody (another user's home) is not supported",
      },
    });
  });

  test('a bad spec is a usage failure before the config is read', () => {
    const result = resolve1('bob@', 'Host\n', '/nonexistent');
    assert.deepEqual(result.ok ? undefined : result.failure.kind, 'usage');
  });
});

// --- What we skip, and say so ------------------------------------------------------------------

describe('config features we do not apply are reported', () => {
  test('an Include that applies to the host is reported, not read', () => {
    const config = 'Host x\n  Include ~/.ssh/config.d/*\n  User u\n';
    const result = resolve1('x', config, '/cfg');
    assert.ok(result.ok);
    assert.equal(result.value.user, 'u');
    assert.deepEqual(result.value.warnings, ['Include ~/.ssh/config.d/* in /cfg was not read']);
    const other = resolve1('y', config, '/cfg');
    assert.ok(other.ok);
    assert.deepEqual(other.value.warnings, [], 'the Include does not apply to y');
  });

  test('Match exec is never run, never matches, and is reported', () => {
    const marker = join(dir, 'exec-ran');
    const config = `Match exec "touch ${marker}"\n  User from-exec\n`;
    const result = resolve1('x', config, '/cfg');
    assert.ok(result.ok);
    assert.equal(result.value.user, me);
    assert.deepEqual(result.value.warnings, [
      'Match exec blocks in /cfg are not run, so they never match',
    ]);
    assert.equal(spawnSync('test', ['-e', marker]).status, 1, 'the command did not run');
  });

  test('CanonicalizeHostname is dropped (no DNS lookups) and reported', () => {
    const config = 'Host x\n  CanonicalizeHostname yes\n  CanonicalDomains example.com\n  User u\n';
    const result = resolve1('x', config, '/cfg');
    assert.ok(result.ok);
    assert.equal(result.value.host, 'x');
    assert.deepEqual(result.value.warnings, ['CanonicalizeHostname in /cfg is not applied']);
  });

  test("a jump host's warnings reach the target", () => {
    const config = 'Host t\n  ProxyJump j\nHost j\n  Include extra\n';
    const result = resolve1('t', config, '/cfg');
    assert.ok(result.ok);
    assert.deepEqual(result.value.warnings, ['Include extra in /cfg was not read']);
  });
});
