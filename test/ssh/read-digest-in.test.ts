/**
 * readDigestIn (a folder and a name) against readDigest (their joined path) on the stream of
 * files-by-command.ts from a real OpenSSH sshd: the same answer for every file, for folders
 * written oddly, and for names that are no file name.
 */
import assert from 'node:assert/strict';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { after, before, test } from 'node:test';
import { ok } from '../../main/core/failure.js';
import { type CommandStorageFs, commandStorageFs } from '../../main/ssh/command-storage-fs.js';
import { loadPrivateKey } from '../../main/ssh/private-keys.js';
import { sftpStorageFs } from '../../main/ssh/sftp-storage-fs.js';
import { SshConnection } from '../../main/ssh/ssh-connection.js';
import { writeProsodyInternal } from '../fixtures/prosody-internal.js';
import { startSshTestHost } from '../helpers/ssh-test-host.js';
import type { SshdInstance } from '../support/sshd.js';

const NOW = 1_795_536_000;
let sshd: SshdInstance;
let work: string;
let data: string;
let conn: SshConnection;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pau-digest-in-'));
  const host = await startSshTestHost(work);
  sshd = host.sshd;
  const user = await sshd.addUser('digestin', { authorizedKeys: [host.key.authorizedKey] });
  const remote = mkdtempSync(join(sshd.dir, 'prosody-'));
  chmodSync(remote, 0o755);
  data = join(remote, 'data');
  mkdirSync(data);
  const seeds = [];
  for (let i = 0; i < 30; i++) {
    const h = i % 2 ? 'a.test' : 'b.test';
    seeds.push({ host: h, user: `u${i}`, event: 'login' as const, timestamp: NOW - i * 3600 });
  }
  writeProsodyInternal(data, seeds);
  const accounts = join(data, 'a%2etest', 'accounts');
  mkdirSync(accounts);
  for (let i = 1; i < 30; i += 4) {
    const text = `return {\n\t["disabled"] = ${i % 3 === 0};\n};\n`;
    writeFileSync(join(accounts, `u${i}.dat`), text);
  }
  for (const e of readdirSync(data, { recursive: true, withFileTypes: true })) {
    chmodSync(join(e.parentPath, e.name), e.isDirectory() ? 0o755 : 0o644);
  }
  const opened = await SshConnection.open({
    target: {
      alias: '127.0.0.1',
      host: '127.0.0.1',
      port: sshd.port,
      user: user.name,
      identityFiles: [host.key.privatePath],
      explicitIdentityFiles: [host.key.privatePath],
    },
    knownHosts: {
      path: host.knownHosts,
      read: () => readFileSync(host.knownHosts, 'utf8'),
      append: () => assert.fail('the host key is known'),
    },
    acceptNewHostKey: false,
    loadKey: async (path) => {
      const loaded = loadPrivateKey(path, readFileSync(path), undefined, 'x');
      return loaded.ok
        ? ok({ key: loaded.value.key, type: loaded.value.type, fingerprint: '' })
        : loaded;
    },
    password: async () => null,
  });
  if (!opened.ok) assert.fail(JSON.stringify(opened.failure));
  conn = opened.value;
});

after(async () => {
  conn?.close();
  await sshd?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** A file system over the stream, its stream whole: two of them each take a file once. */
async function prepared(): Promise<CommandStorageFs> {
  const sftp = await conn.sftp(5);
  assert.ok(sftp.ok);
  const fs = commandStorageFs(conn, data, sftpStorageFs(sftp.value, '127.0.0.1'), 10);
  await fs.prepare(null);
  await fs.finish!();
  assert.equal(fs.method, 'files by command');
  return fs;
}

/** Every store folder's files: the folder as the reader joins it, the name, the size. */
function files(): Array<[folder: string, name: string, size: number]> {
  const out: Array<[string, string, number]> = [];
  for (const host of readdirSync(data)) {
    for (const store of ['lastlog2', 'accounts']) {
      const folder = posix.join(data, host, store);
      let names: string[] = [];
      try {
        names = readdirSync(folder);
      } catch {
        continue;
      }
      for (const name of names) out.push([folder, name, statSync(join(folder, name)).size]);
    }
  }
  return out;
}

test('a file asked about by folder and name gets what asking by its path gets', async () => {
  const byPath = await prepared();
  const byFolder = await prepared();
  const all = files();
  assert.ok(all.length > 30);
  let sent = 0;
  for (const [folder, name, size] of all) {
    const a = byPath.readDigest!(byPath.join(folder, name), 4096, size);
    const b = byFolder.readDigestIn!(folder, name, 4096, size);
    assert.deepEqual(b, a, `${folder} ${name}`);
    if (a !== null) sent++;
    // Taken once, either way.
    assert.equal(byFolder.readDigestIn!(folder, name, 4096, size), null);
  }
  assert.ok(sent >= all.length - 2, `${sent} of ${all.length} sent`);
});

test('a folder written oddly, or a name that is no file name, gets what its joined path gets', async () => {
  const byPath = await prepared();
  const byFolder = await prepared();
  const lastlog2 = posix.join(data, 'a%2etest', 'lastlog2');
  const size = statSync(join(lastlog2, 'u1.dat')).size;
  const asks: Array<[folder: string, name: string]> = [
    // First the folder as the reader writes it, so that the odd forms come after it is known.
    [lastlog2, 'u3.dat'],
    [`${lastlog2}/`, 'u1.dat'],
    [`${data}/./a%2etest/lastlog2`, 'u5.dat'],
    [`${data}/a%2etest/accounts/../lastlog2`, 'u7.dat'],
    [`${data}//a%2etest/lastlog2`, 'u9.dat'],
    [posix.join(data, 'a%2etest'), 'lastlog2/u11.dat'],
    [`${lastlog2}/x`, '../u13.dat'],
    [lastlog2, 'x/../u17.dat'],
    [lastlog2, './u19.dat'],
    [lastlog2, '.'],
    [lastlog2, '..'],
    [lastlog2, ''],
    [lastlog2, 'u15.dat'],
  ];
  for (const [folder, name] of asks) {
    assert.deepEqual(
      byFolder.readDigestIn!(folder, name, 4096, size),
      byPath.readDigest!(byPath.join(folder, name), 4096, size),
      `${folder} ${name}`,
    );
  }
});
