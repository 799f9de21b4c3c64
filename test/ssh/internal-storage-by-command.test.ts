/**
 * Internal storage over SSH by one command's stream (main/ssh/files-by-command.ts) against a real
 * OpenSSH sshd: the same figures and skip counts as the SFTP path on tricky data and on Prosody 13
 * accounts, SFTP for a key that may run only sftp-server, and no secret of an accounts file in the
 * stream. A stream that starts right and then turns to garbage comes from an in-process ssh2
 * server (test/support/fault-server.ts): a real sshd runs what it is told.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  lutimesSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import { FILES_SCRIPT } from '../../main/ssh/files-by-command.js';
import type { AccountsWanted } from '../../main/sources/storage-fs.js';
import { writeDatFile, writeProsodyInternal } from '../fixtures/prosody-internal.js';
import type { ActivitySeed } from '../fixtures/prosody-sqlite.js';
import { runBuiltCliAsync } from '../fixtures/run-built-cli.js';
import { startFaultServer } from '../support/fault-server.js';
import { sshCliOptions, startSshTestHost } from '../helpers/ssh-test-host.js';
import type { GeneratedKey, SshdInstance, TestUser } from '../support/sshd.js';

const NOW = 1_795_536_000;
const DAY = 86400;
const SALT = 'e7a1c0de-5a17-4bad-beef-000000000001';
const STORED_KEY = '0123456789abcdef0123456789abcdef01234567';

let sshd: SshdInstance;
let key: GeneratedKey;
let full: TestUser;
let sftpOnly: TestUser;
let work: string;
let knownHosts: string;
let data: string;

const account = (extra = '') =>
  `return {\n\t["salt"] = "${SALT}";\n\t["stored_key"] = "${STORED_KEY}";\n\t["iteration_count"] = 4096;\n${extra}};\n`;

/** Every kind of file the reader classifies, Prosody's own and ones it never writes. */
function writeTrickyData(dir: string): void {
  const seeds = [];
  for (let i = 0; i < 40; i++) {
    const host = i % 2 ? 'a.test' : 'b.test';
    seeds.push({ host, user: `u${i}`, event: 'login' as const, timestamp: NOW - i * DAY - 60 });
    if (i % 3 === 0) {
      seeds.push({
        host,
        user: `u${i}`,
        event: 'logout' as const,
        timestamp: NOW - i * 3600,
        ip: '2001:db8::1',
      });
    }
    if (i % 5 === 0)
      seeds.push({ host, user: `u${i}`, event: 'registered' as const, timestamp: NOW - i * 900 });
  }
  writeProsodyInternal(dir, seeds);
  const ll = (user: string, text: string) => writeDatFile(dir, 'a.test', 'lastlog2', user, text);
  ll('room', 'return {\n\t["muc.a.test"] = "message";\n};\n');
  ll('evil', 'return os.execute("touch /tmp/pwned-by-pau")\n');
  ll('cut', 'return {\n\t["login"] = {\n\t\t["timest');
  ll('nots', 'return {\n\t["login"] = {\n\t\t["ip"] = "x";\n\t};\n};\n');
  ll('frac', `return {\n\t["login"] = {\n\t\t["timestamp"] = ${NOW - 0.5};\n\t};\n};\n`);
  ll('huge', 'return {\n\t["login"] = {\n\t\t["timestamp"] = 1e308;\n\t};\n};\n');
  ll('inf', 'return {\n\t["login"] = {\n\t\t["timestamp"] = (1/0);\n\t};\n};\n');
  ll('crlf', `return {\r\n\t["login"] = {\r\n\t\t["timestamp"] = ${NOW - 5};\r\n\t};\r\n};\r\n`);
  ll('nonl', `return { ["login"] = { ["timestamp"] = ${NOW - 7} } }`);
  ll(
    'twoip',
    `return {\n\t["login"] = {\n\t\t["ip"] = "1.2.3.4";\n\t\t["ip"] = "1.2.3.4";\n\t\t["timestamp"] = ${NOW};\n\t};\n};\n`,
  );
  ll('nul', `return {\n\t["login"] = {\n\t\t["timestamp"] = ${NOW};\0\n\t};\n};\n`);
  ll(
    'big',
    `return { ["login"] = { ["timestamp"] = ${NOW}; ["pad"] = "${'x'.repeat(70_000)}"; }; };\n`,
  );
  // Written as Prosody writes, but more events than one record of the stream holds.
  ll(
    'manykeys',
    `return {\n${Array.from({ length: 300 }, (_, k) => `\t["k${k}"] = {\n\t\t["timestamp"] = ${NOW - k};\n\t};\n`).join('')}};\n`,
  );
  ll('zo\u00eb', `return {\n\t["login"] = {\n\t\t["timestamp"] = ${NOW - 9};\n\t};\n};\n`);
  const lastlog2 = join(dir, 'a%2etest', 'lastlog2');
  writeFileSync(join(lastlog2, 'new\nline.dat'), 'return {};\n');
  writeFileSync(join(lastlog2, 'esc\u001b[2J.dat'), 'return {};\n');
  writeFileSync(join(lastlog2, 'bad%zz.dat'), 'return {};\n');
  writeFileSync(join(lastlog2, 'empty.dat'), '');
  execFileSync('mkfifo', [join(lastlog2, 'fifo.dat')]);
  symlinkSync('loop.dat', join(lastlog2, 'loop.dat'));
  symlinkSync('u1.dat', join(lastlog2, 'link.dat'));
  writeFileSync(join(lastlog2, 'secret.dat'), 'return {};\n', { mode: 0o600 });
  mkdirSync(join(lastlog2, 'folder.dat'));
  // Prosody 13 on a.test: account_roles exists; accounts enabled, disabled, odd and missing.
  const accounts = join(dir, 'a%2etest', 'accounts');
  mkdirSync(accounts);
  mkdirSync(join(dir, 'a%2etest', 'account_roles'));
  writeFileSync(
    join(dir, 'a%2etest', 'account_roles', 'u1.dat'),
    'return { _default = "prosody:member" };\n',
  );
  for (let i = 1; i < 40; i += 2) {
    if (i % 7 === 0) continue; // no account at all
    writeFileSync(
      join(accounts, `u${i}.dat`),
      account(i % 3 === 0 ? '\t["disabled"] = true;\n' : ''),
    );
  }
  writeFileSync(join(accounts, 'frac.dat'), account('\t["disabled"] = "yes";\n'));
  writeFileSync(join(accounts, 'crlf.dat'), 'return { disabled = true; salt = "x" }\n');
  writeFileSync(join(accounts, 'nonl.dat'), 'return { not lua');
  writeFileSync(join(accounts, 'room.dat'), account('\t["disabled"] = false;\n'));
  // Stores the count never reads, with a file per account like a real server's.
  mkdirSync(join(dir, 'a%2etest', 'roster'));
  writeFileSync(join(dir, 'a%2etest', 'roster', 'u1.dat'), 'return {};\n');
  writeFileSync(join(dir, 'prosody.err'), '');
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const p = join(e.parentPath, e.name);
    if (e.isDirectory()) chmodSync(p, 0o755);
    else if (e.isFile() && !e.name.startsWith('secret')) chmodSync(p, 0o644);
  }
  // As on a quiet server: everything last changed an hour ago.
  const then = Date.now() / 1000 - 3600;
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    lutimesSync(join(e.parentPath, e.name), then, then);
  }
  lutimesSync(dir, then, then);
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pau-by-command-'));
  ({ sshd, key, knownHosts } = await startSshTestHost(work));
  full = await sshd.addUser('fullreader', { authorizedKeys: [key.authorizedKey] });
  sftpOnly = await sshd.addUser('sftponly', {
    authorizedKeys: [`restrict,command="/usr/lib/openssh/sftp-server" ${key.authorizedKey}`],
  });
  const remote = mkdtempSync(join(sshd.dir, 'prosody-'));
  chmodSync(remote, 0o755);
  data = join(remote, 'data');
  mkdirSync(data);
  writeTrickyData(data);
});

after(async () => {
  await sshd?.stop();
  rmSync(work, { recursive: true, force: true });
});

interface Run {
  hosts: Record<string, unknown>;
  total: unknown;
  method: string;
  bytes: number;
}

async function count(who: TestUser, ...rest: string[]): Promise<Run> {
  const run = await runBuiltCliAsync([
    ...sshCliOptions(who.name, sshd.port, key.privatePath, knownHosts),
    '--remote-data-dir',
    data,
    '--no-live',
    '--at',
    String(NOW),
    '--json',
    ...rest,
  ]);
  assert.equal(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout) as {
    hosts: Record<string, unknown>;
    total: unknown;
    fetch: Array<{ method: string; bytesReceived: number }>;
  };
  const fetch = out.fetch[0]!;
  return { hosts: out.hosts, total: out.total, method: fetch.method, bytes: fetch.bytesReceived };
}

test('the command path gives exactly the figures and skip counts of the SFTP path, Prosody 13 accounts included', async () => {
  const byCommand = await count(full);
  const bySftp = await count(sftpOnly);
  assert.equal(byCommand.method, 'files by command');
  assert.equal(bySftp.method, 'SFTP files', 'a key that runs only sftp-server falls back to SFTP');
  assert.deepEqual(byCommand.hosts, bySftp.hosts);
  assert.deepEqual(byCommand.total, bySftp.total);
  const a = byCommand.hosts['a.test'] as { excludedDisabled: number; excludedNoAccount: number };
  assert.ok(a.excludedDisabled > 0 && a.excludedNoAccount > 0, JSON.stringify(a));
});

test('with the cache, later counts by command equal a count without it', async () => {
  const state = mkdtempSync(join(work, 'state-'));
  const truth = await count(full);
  const first = await count(full, '--state-dir', state);
  const second = await count(full, '--state-dir', state);
  assert.deepEqual(first.hosts, truth.hosts);
  assert.deepEqual(second.hosts, truth.hosts);
  assert.match(second.method, /^files by command: 0 read, [1-9]\d+ unchanged from the cache$/);
});

/** `dir` made readable and counted by command and by SFTP: the same figures, by command's. */
async function countBothWays(dir: string): Promise<Run> {
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    chmodSync(join(e.parentPath, e.name), e.isDirectory() ? 0o755 : 0o644);
  }
  const byCommand = await count(full, '--remote-data-dir', dir);
  const bySftp = await count(sftpOnly, '--remote-data-dir', dir);
  assert.equal(byCommand.method, 'files by command');
  assert.deepEqual(byCommand.hosts, bySftp.hosts);
  return byCommand;
}

test('thousands of accounts whose two folders the server walks at once count as by SFTP', async () => {
  // Enough records that each folder's reader writes many times while the others do: the records
  // interleave on one pipe, and must arrive whole.
  const remote = mkdtempSync(join(sshd.dir, 'many-'));
  chmodSync(remote, 0o755);
  const dir = join(remote, 'data');
  const seeds: ActivitySeed[] = [];
  for (let i = 0; i < 3000; i++) {
    const host = i % 3 ? 'a.test' : 'b.test';
    seeds.push({ host, user: `user${i}`, event: 'login', timestamp: NOW - (i % 40) * DAY - 60 });
  }
  writeProsodyInternal(dir, seeds);
  for (const host of ['a%2etest', 'b%2etest']) {
    // Prosody 13's: account_roles is there, so a disabled account does not count.
    mkdirSync(join(dir, host, 'account_roles'));
    mkdirSync(join(dir, host, 'accounts'));
    for (let i = 0; i < 3000; i += 2) {
      writeFileSync(
        join(dir, host, 'accounts', `user${i}.dat`),
        account(i % 4 === 0 ? '\t["disabled"] = true;\n' : ''),
      );
    }
  }
  const byCommand = await countBothWays(dir);
  const b = byCommand.hosts['b.test'] as { mau: number; excludedDisabled: number };
  assert.ok(b.mau > 0 && b.excludedDisabled > 0, JSON.stringify(b));
  // The CLI's server ran perl; mawk's records, interleaved the same way, are the same.
  assertSameOutputs({
    perl: comparable(scriptOutput(dir, 'perl')),
    mawk: comparable(scriptOutput(dir, 'mawk')),
  });
});

test('Prosody 0.12 data with accounts folders counts as by SFTP, disabled accounts included', async () => {
  // No account_roles anywhere and no version known: 0.12's rule, which never asks about
  // accounts, so the stream does not walk their folders.
  const remote = mkdtempSync(join(sshd.dir, 'twelve-'));
  chmodSync(remote, 0o755);
  const dir = join(remote, 'data');
  writeProsodyInternal(
    dir,
    Array.from({ length: 20 }, (_, i) => ({
      host: 'a.test',
      user: `u${i}`,
      event: 'login' as const,
      timestamp: NOW - 60,
    })),
  );
  mkdirSync(join(dir, 'a%2etest', 'accounts'));
  for (let i = 0; i < 20; i++) {
    writeFileSync(
      join(dir, 'a%2etest', 'accounts', `u${i}.dat`),
      account(i % 2 ? '\t["disabled"] = true;\n' : ''),
    );
  }
  const byCommand = await countBothWays(dir);
  assert.equal((byCommand.hosts['a.test'] as { dau: number }).dau, 20);
});

test('hosts the reader skips, walked between those it counts, do not hold the stream back for good', async () => {
  // The stream is held back while two walked hosts wait to be counted; a host whose folder name
  // Prosody could not have written is walked but never counted.
  const remote = mkdtempSync(join(sshd.dir, 'skipped-hosts-'));
  chmodSync(remote, 0o755);
  const dir = join(remote, 'data');
  // The first host keeps the reader busy while the skipped ones arrive.
  const seeds: ActivitySeed[] = [
    { host: 'z.test', user: 'v', event: 'login', timestamp: NOW - 60 },
  ];
  for (let i = 0; i < 3000; i++) {
    seeds.push({ host: 'a.test', user: `u${i}`, event: 'login', timestamp: NOW - 60 });
  }
  writeProsodyInternal(dir, seeds);
  const file = readFileSync(join(dir, 'a%2etest', 'lastlog2', 'u0.dat'));
  for (const bad of ['b 1', 'b 2', 'b 3']) {
    mkdirSync(join(dir, bad, 'lastlog2'), { recursive: true });
    // Names that do not compress away: the stream comes in many chunks.
    for (let i = 0; i < 4000; i++) {
      writeFileSync(join(dir, bad, 'lastlog2', `${randomBytes(12).toString('hex')}.dat`), file);
    }
  }
  const byCommand = await countBothWays(dir);
  assert.deepEqual(Object.keys(byCommand.hosts).sort(), ['a.test', 'z.test']);
});

/** What the script prints for `dir`, run by the sh, find, perl and awk of this machine (`reader` names one). */
function scriptOutput(
  dir: string,
  reader?: string,
  since = 0,
  accounts: AccountsWanted = 'all',
): Buffer {
  return execFileSync('sh', ['-s', dir, String(since), accounts, ...(reader ? [reader] : [])], {
    input: FILES_SCRIPT,
  });
}

/**
 * The script's output with what may differ between two runs made the same: the banner's clock,
 * and the order of a host's records (its two folders are walked at once).
 */
function comparable(out: Buffer): string {
  const records = out.toString('latin1').split('\0');
  records[0] = records[0]!.replace(/^PAU-FILES (\d+) \d+\n/, 'PAU-FILES $1 <now>\n');
  const listingEnd = records.indexOf('');
  const sections: string[][] = [[]];
  for (const r of records.slice(listingEnd + 1)) {
    sections[sections.length - 1]!.push(r);
    if (r.startsWith('E ')) sections.push([]);
  }
  return [...records.slice(0, listingEnd + 1), ...sections.flatMap((s) => s.sort())].join('\n');
}

/** A folder of tools: a `perl` and a `mawk` that leave a mark and run the real one, or fail. */
function wrappedTools(perlRuns: boolean): { bin: string; ran: (tool: string) => boolean } {
  const bin = mkdtempSync(join(work, 'tools-'));
  for (const tool of ['perl', 'mawk']) {
    const body =
      tool === 'perl' && !perlRuns
        ? 'exit 127'
        : `: > '${bin}/${tool}.ran'\nexec /usr/bin/${tool} "$@"`;
    writeFileSync(join(bin, tool), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  }
  return { bin, ran: (tool) => existsSync(join(bin, `${tool}.ran`)) };
}

function runScriptWith(bin: string): string {
  return comparable(
    execFileSync('sh', ['-s', data, '0', 'all'], {
      input: FILES_SCRIPT,
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
    }),
  );
}

test('the script reads the files with perl where it runs, and with mawk where it does not', () => {
  const withPerl = wrappedTools(true);
  const byPerl = runScriptWith(withPerl.bin);
  assert.equal(withPerl.ran('perl'), true);
  assert.equal(withPerl.ran('mawk'), false);
  const withoutPerl = wrappedTools(false);
  const byMawk = runScriptWith(withoutPerl.bin);
  assert.equal(withoutPerl.ran('mawk'), true);
  assert.equal(byMawk, byPerl);
});

/**
 * A folder of tools: a `perl` that notes the CPU niceness and I/O class it runs at, and its first
 * argument, then runs the real one; and, when `refused`, a `nice` and an `ionice` that refuse as a
 * server may (an account or kernel that allows no change), each noting that it was tried.
 */
function priorityTools(refused: boolean): {
  bin: string;
  seen: () => string[];
  tried: () => string[];
} {
  const bin = mkdtempSync(join(work, 'priority-'));
  const log = join(bin, 'seen');
  const script = (lines: string[]) => ['#!/bin/sh', ...lines, ''].join('\n');
  writeFileSync(
    join(bin, 'perl'),
    script([
      `echo "$(/usr/bin/nice) $(/usr/bin/ionice -p $$) $1" >> '${log}'`,
      'exec /usr/bin/perl "$@"',
    ]),
    { mode: 0o755 },
  );
  if (refused) {
    for (const tool of ['nice', 'ionice']) {
      writeFileSync(
        join(bin, tool),
        script([`echo ${tool} >> '${bin}/tried'`, `echo "${tool}: not permitted" >&2`, 'exit 1']),
        { mode: 0o755 },
      );
    }
  }
  // The readers' lines (perl -e), not the check that perl runs (perl -MPOSIX …).
  const seen = () =>
    readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .filter((line) => line.endsWith(' -e'))
      .map((line) => line.slice(0, -' -e'.length));
  const tried = () =>
    existsSync(join(bin, 'tried'))
      ? readFileSync(join(bin, 'tried'), 'utf8').trim().split('\n')
      : [];
  return { bin, seen, tried };
}

test('the readers run below Prosody, CPU and disk, and run all the same where the server refuses that', () => {
  const own = Number(execFileSync('nice', { encoding: 'utf8' }).trim());
  const plain = comparable(scriptOutput(data, 'perl'));
  // Each reader starts its half of a folder with the folder's name.
  const readers = plain.split('\n').filter((r) => r.startsWith('S ')).length;
  assert.ok(readers >= 4);
  const lowered = priorityTools(false);
  assert.equal(runScriptWith(lowered.bin), plain);
  const seen = lowered.seen();
  assert.equal(seen.length, readers);
  for (const line of seen) assert.equal(line, `${Math.min(own + 10, 19)} best-effort: prio 7`);
  const refused = priorityTools(true);
  assert.equal(runScriptWith(refused.bin), plain);
  const asIs = refused.seen();
  assert.equal(asIs.length, readers);
  for (const line of asIs) assert.match(line, new RegExp(`^${own} `));
  // Tried once for the whole stream, not once a host or a reader.
  assert.deepEqual(refused.tried(), ['nice', 'ionice']);
});

test('a refresh with nothing changed walks no folder and tries neither nice nor ionice', () => {
  const tools = priorityTools(true);
  const later = Math.floor(Date.now() / 1000) + 3600;
  const out = execFileSync('sh', ['-s', data, String(later), 'all'], {
    input: FILES_SCRIPT,
    env: { ...process.env, PATH: `${tools.bin}:${process.env.PATH}` },
  }).toString('latin1');
  assert.equal(out.includes('\0S '), false);
  assert.match(out, /PAU-END\0$/);
  assert.deepEqual(tools.tried(), []);
});

/** The outputs equal, or the first place they differ. */
function assertSameOutputs(outputs: Record<string, string>): void {
  const [firstName, first] = Object.entries(outputs)[0]!;
  for (const [name, other] of Object.entries(outputs).slice(1)) {
    let at = 0;
    while (at < first.length && first[at] === other[at]) at++;
    assert.equal(
      other,
      first,
      `${firstName} and ${name} differ at ${at}: ${JSON.stringify(first.slice(at - 80, at + 80))} / ${JSON.stringify(other.slice(at - 80, at + 80))}`,
    );
  }
}

test('no salt, key or IP address of any file leaves the server, by perl, gawk or mawk', () => {
  const outputs = { perl: scriptOutput(data, 'perl'), gawk: scriptOutput(data, 'gawk') };
  assertSameOutputs({
    perl: comparable(outputs.perl),
    gawk: comparable(outputs.gawk),
    mawk: comparable(scriptOutput(data, 'mawk')),
  });
  for (const out of Object.values(outputs)) {
    for (const secret of [SALT, STORED_KEY, '2001:db8::1', '1.2.3.4']) {
      assert.equal(out.includes(secret), false, secret);
    }
  }
});

/** The store folders the script walked for `dir`, asked for `accounts`. */
function walkedFolders(dir: string, accounts: AccountsWanted): string[] {
  const records = scriptOutput(dir, undefined, 0, accounts).toString('latin1').split('\0');
  return [...new Set(records.filter((r) => r.startsWith('S ')))].sort();
}

test('accounts folders are walked for every host, for none, or where some host has account_roles', () => {
  // a.test has account_roles: the server is Prosody 13, so b.test's accounts are walked too.
  const dir = mkdtempSync(join(work, 'accounts-wanted-'));
  writeProsodyInternal(dir, [
    { host: 'a.test', user: 'u', event: 'login', timestamp: NOW },
    { host: 'b.test', user: 'v', event: 'login', timestamp: NOW },
  ]);
  for (const host of ['a%2etest', 'b%2etest']) {
    mkdirSync(join(dir, host, 'accounts'));
    writeFileSync(join(dir, host, 'accounts', 'u.dat'), account());
  }
  const lastlog2 = ['S a%2etest/lastlog2', 'S b%2etest/lastlog2'];
  const all = [...lastlog2, 'S a%2etest/accounts', 'S b%2etest/accounts'].sort();
  // No account_roles yet: what Prosody 0.12 leaves.
  assert.deepEqual(walkedFolders(dir, 'roles'), lastlog2);
  assert.deepEqual(walkedFolders(dir, 'none'), lastlog2);
  assert.deepEqual(walkedFolders(dir, 'all'), all);
  mkdirSync(join(dir, 'a%2etest', 'account_roles'));
  assert.deepEqual(walkedFolders(dir, 'roles'), all);
  assert.deepEqual(walkedFolders(dir, 'none'), lastlog2);
});

test('folders unchanged since the given time are named, not listed, and no file is sent', () => {
  const out = scriptOutput(data, undefined, Math.floor(Date.now() / 1000) - 600).toString('latin1');
  const records = out.split('\0');
  assert.ok(
    records.some((r) => /^U \d+ [\d.]+ a%2etest\/lastlog2$/.test(r)),
    out,
  );
  assert.deepEqual(
    records.filter((r) => /^[SLAla] /.test(r)),
    [],
    'no folder is walked and no file is listed or sent',
  );
  assert.ok(out.endsWith('PAU-END\0'));
});

test('only a host with a changed folder is walked', () => {
  const dir = mkdtempSync(join(work, 'changed-host-'));
  writeProsodyInternal(dir, [
    { host: 'a.test', user: 'u', event: 'login', timestamp: NOW },
    { host: 'b.test', user: 'v', event: 'login', timestamp: NOW },
  ]);
  const then = Date.now() / 1000 - 3600;
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    lutimesSync(join(e.parentPath, e.name), then, then);
  }
  const now = Date.now() / 1000;
  lutimesSync(join(dir, 'b%2etest', 'lastlog2'), now, now);
  const records = scriptOutput(dir, undefined, Math.floor(now) - 600)
    .toString('latin1')
    .split('\0');
  assert.deepEqual(records.filter((r) => /^[SE] /.test(r)).sort(), [
    'E b%2etest',
    'S b%2etest/lastlog2',
    'S b%2etest/lastlog2',
  ]);
});

test('hosts are walked in the order of their names, the order the reader counts them in', () => {
  const dir = mkdtempSync(join(work, 'host-order-'));
  const seeds: ActivitySeed[] = [];
  // Created in another order than their names', and of other sizes: neither decides.
  for (const [host, users] of [
    ['m.test', 1],
    ['b.test', 400],
    ['z.test', 3],
    ['a.test', 20],
  ] as const) {
    for (let i = 0; i < users; i++) {
      seeds.push({ host, user: `user${i}`, event: 'login', timestamp: NOW });
    }
  }
  writeProsodyInternal(dir, seeds);
  const ends = scriptOutput(dir)
    .toString('latin1')
    .split('\0')
    .filter((r) => r.startsWith('E '));
  assert.deepEqual(ends, ['E a%2etest', 'E b%2etest', 'E m%2etest', 'E z%2etest']);
});

/** Prosody's files for these events, as the fault server's SFTP holds them under /var/lib/prosody. */
function faultServerFiles(dir: string, seeds: readonly ActivitySeed[]): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const local = mkdtempSync(join(work, dir));
  writeProsodyInternal(local, seeds);
  for (const e of readdirSync(local, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) {
      const p = join(e.parentPath, e.name);
      files.set(`/var/lib/prosody/${relative(local, p)}`, readFileSync(p));
    }
  }
  return files;
}

/** The CLI against a fault server whose command answers with `stream`, then exits 0. */
async function countAgainstStream(files: Map<string, Buffer>, stream: Buffer, ...rest: string[]) {
  const s = await startFaultServer({
    sftp: { files },
    exec: ({ channel }) => {
      channel.write(stream);
      channel.exit(0);
      channel.end();
    },
  });
  try {
    return await runBuiltCliAsync([
      ...sshCliOptions(s.user, s.port, s.identityPath, s.knownHostsPath),
      '--remote-data-dir',
      '/var/lib/prosody',
      '--no-live',
      '--at',
      String(NOW),
      ...rest,
    ]);
  } finally {
    await s.close();
  }
}

test('a stream that starts right and turns to garbage is one line, not a figure', async () => {
  const files = faultServerFiles('fault-data-', [
    { host: 'a.test', user: 'u', event: 'login', timestamp: NOW - 60 },
  ]);
  const garbage = Buffer.concat([
    Buffer.from('PAU-FILES 2 1795536000\nd 4096 1 a%2etest\0'),
    Buffer.from('\u001b[2J\u0007 fake TOTAL row\n'.repeat(3)),
  ]);
  const run = await countAgainstStream(files, garbage);
  assert.equal(run.status, 1);
  assert.equal(run.stdout, '');
  assert.match(
    run.stderr,
    /^prosody-active-users: [^\n]*listing of the Prosody data folder is not usable \([^\n]*\n$/,
  );
  assert.equal(run.stderr.includes('\u001b'), false, 'no escape code reaches the terminal');
});

/**
 * Streams whose listing is whole and whose files' lines start right, so that the count has
 * started on the first host when the rest goes wrong: still one line, not a figure.
 */
const BROKEN_AFTER_THE_FIRST_HOST: Array<[what: string, tail: string]> = [
  ['garbage after the second host’s first line', '\u001b[2J fake TOTAL row\n'],
  ['a stream cut short after the second host’s first line', ''],
];

for (const [what, tail] of BROKEN_AFTER_THE_FIRST_HOST) {
  test(`a count started on the first host fails whole on ${what}`, async () => {
    const files = faultServerFiles('fault-two-', [
      { host: 'a.test', user: 'u', event: 'login', timestamp: NOW - 60 },
      { host: 'b.test', user: 'v', event: 'login', timestamp: NOW - 60 },
    ]);
    const size = (host: string, user: string) =>
      files.get(`/var/lib/prosody/${host}/lastlog2/${user}.dat`)!.length;
    const listing = ['a%2etest', 'b%2etest']
      .map((h) => `d 4096 1 ${h}\0d 4096 1 ${h}/lastlog2\0`)
      .join('');
    const stream = Buffer.from(
      `PAU-FILES 2 1795536000\n${listing}\0` +
        `S a%2etest/lastlog2\0L ${size('a%2etest', 'u')} 1 u.dat login=${NOW - 60}\0Z 0\0E a%2etest\0` +
        `S b%2etest/lastlog2\0L ${size('b%2etest', 'v')} 1 v.dat login=${NOW - 60}\0` +
        tail,
    );
    const run = await countAgainstStream(files, stream);
    assert.equal(run.stdout, '');
    assert.equal(run.status, 1, run.stderr);
    assert.match(
      run.stderr,
      /^prosody-active-users: [^\n]*listing of the Prosody data folder is not usable \([^\n]*\n$/,
    );
    assert.equal(run.stderr.includes('\u001b'), false, 'no escape code reaches the terminal');
  });
}

test('a folder listed as changed that the walk does not bring is read by SFTP, not taken as empty', async () => {
  const files = faultServerFiles('fault-unwalked-', [
    { host: 'a.test', user: 'u', event: 'login', timestamp: NOW - 60 },
    { host: 'a.test', user: 'v', event: 'login', timestamp: NOW - 3 * DAY },
  ]);
  const stream = Buffer.from(
    'PAU-FILES 2 1795536000\nd 4096 1 a%2etest\0d 4096 1 a%2etest/lastlog2\0\0E a%2etest\0PAU-END\0',
  );
  const run = await countAgainstStream(files, stream, '--json');
  assert.equal(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout) as { hosts: Record<string, { dau: number; wau: number }> };
  assert.deepEqual([out.hosts['a.test']?.dau, out.hosts['a.test']?.wau], [1, 2]);
});
