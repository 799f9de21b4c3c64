/**
 * Faults a real sshd cannot produce, from an in-process ssh2 server (test/support/fault-server.ts):
 * cuts mid-transfer, stalls, garbage. Every one must end in one typed failure and its sentence,
 * with no figures, no temporary file left behind, no late error and no hang.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { openSshSources } from '../../main/monitor/open-ssh-sources.js';
import { realCliDeps } from '../../main/cli/real-cli-deps.js';
import { runCli } from '../../main/cli/run-cli.js';
import { type SourcedReport, countSources } from '../../main/core/activity-source.js';
import { describeFailure } from '../../main/core/describe-failure.js';
import { type Failure, type FailureKind, type Result, ok } from '../../main/core/failure.js';
import { DAY } from '../../main/core/windows.js';
import type { ActivityQueryRow } from '../../main/sources/activity-query.js';
import { InternalStorageSource } from '../../main/sources/internal-storage-source.js';
import { loadPrivateKey } from '../../main/ssh/private-keys.js';
import { remoteSources } from '../../main/ssh/remote-sources.js';
import { sftpStorageFs } from '../../main/ssh/sftp-storage-fs.js';
import {
  QUERY_ATTEMPTS,
  SMALL_FILE_QUERY_ATTEMPTS,
  type SqlMethod,
} from '../../main/ssh/remote-sqlite-source.js';
import { CHUNK_FROM_BYTES } from '../../main/ssh/remote-query-command.js';
import { SshConnection } from '../../main/ssh/ssh-connection.js';
import { writeProsodyInternal } from '../fixtures/prosody-internal.js';
import { activityRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';
import {
  type ExecContext,
  type FaultServer,
  type FaultServerOptions,
  startFaultServer,
} from '../support/fault-server.js';

const NOW = 1_795_536_000;
/** Each case ends well within this, or it hangs: a failure either way. */
const LIMIT = { timeout: 15_000 };
const DB = '/var/lib/prosody/prosody.sqlite';
const ACCOUNTS = 3000;

// ---------------------------------------------------------------------------------------------
// What a healthy server would send.

const rows: ActivityQueryRow[] = Array.from({ length: ACCOUNTS }, (_, i) => ({
  host: i % 2 === 0 ? 'a.test' : 'b.test',
  user: `user${i}`,
  last_active: NOW - (i % 40) * DAY - 60,
  registered: null,
  not_an_event: 0,
  malformed: 0,
  no_timestamp: 0,
  account: 1,
}));

/** What the remote query's script prints: header bytes before and after, the rows between. */
function queryOutput(body: string, header = '1 1 0 64 32 32 0 0 0 7'): string {
  return `PAU:before: ${header} \nPAU:v7:${NOW}\nPAU:state:\n${body}\nPAU:after: ${header} \n`;
}

/** One line an account, then the digest line, as SQLite's json_array writes them. */
function rowLines(accounts: ReadonlyArray<{ [K in keyof ActivityQueryRow]?: unknown }>): string {
  return [
    ...accounts.map((r, i) =>
      JSON.stringify([r.host, r.user, r.last_active, r.registered, r.account ?? 1, 0, i]),
    ),
    '[1,0]',
  ].join('\n');
}

const GOOD_OUTPUT = queryOutput(rowLines(rows));

function answer(output: string | Buffer) {
  return ({ channel }: ExecContext) => {
    channel.write(output);
    channel.exit(0);
    channel.end();
  };
}

let work: string;
/** A real Prosody SQLite file with the same accounts, for the SFTP copy. */
let database: Buffer;
/** The same accounts in Prosody's internal storage, by path on the server. */
const DATA_DIR = '/var/lib/prosody';
const internalFiles = new Map<string, Buffer>();
const INTERNAL_ACCOUNTS = 60;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'pau-ssh-faults-'));
  const path = join(work, 'prosody.sqlite');
  writeProsodySqlite(
    path,
    rows.map((r) =>
      activityRow({ host: r.host, user: r.user, event: 'login', timestamp: r.last_active! }),
    ),
  );
  database = readFileSync(path);
  const dataDir = join(work, 'data');
  writeProsodyInternal(
    dataDir,
    rows
      .slice(0, INTERNAL_ACCOUNTS)
      .map((r) => ({ host: r.host, user: r.user, event: 'login', timestamp: r.last_active! })),
  );
  for (const entry of readdirSync(dataDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const local = join(entry.parentPath, entry.name);
    internalFiles.set(`${DATA_DIR}/${relative(dataDir, local)}`, readFileSync(local));
  }
});

after(() => rmSync(work, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------
// Nothing may escape: every late error or rejection is collected and fails the test.

const escaped: string[] = [];
const onEscape = (e: unknown) =>
  escaped.push(e instanceof Error ? (e.stack ?? e.message) : String(e));
const warnings: string[] = [];
const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
before(() => {
  process.on('uncaughtException', onEscape);
  process.on('unhandledRejection', onEscape);
  process.on('warning', onWarning);
});
after(() => {
  process.off('uncaughtException', onEscape);
  process.off('unhandledRejection', onEscape);
  process.off('warning', onWarning);
});

let server: FaultServer | undefined;
let tempDir: string;

/** What the temporary copies take at this moment, in bytes. */
function tempBytes(): number {
  let bytes = 0;
  for (const e of readdirSync(tempDir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) bytes += statSync(join(e.parentPath, e.name)).size;
  }
  return bytes;
}
beforeEach(() => {
  escaped.length = 0;
  warnings.length = 0;
  tempDir = mkdtempSync(join(work, 'temp-'));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(options: FaultServerOptions): Promise<FaultServer> {
  server = await startFaultServer(options);
  return server;
}

// ---------------------------------------------------------------------------------------------
// The real code, in-process: connect, find the sources, count.

interface ReadOptions {
  method?: SqlMethod;
  /** Reads internal storage over SFTP instead of the SQLite database. */
  internal?: boolean;
  stepSeconds?: number;
  connectTimeoutSeconds?: number;
}

/** Logs in to the fault server as the CLI would, with its key and known_hosts. */
async function open(s: FaultServer, connectTimeoutSeconds = 5): Promise<Result<SshConnection>> {
  return SshConnection.open({
    target: {
      alias: s.host,
      host: s.host,
      port: s.port,
      user: s.user,
      identityFiles: [s.identityPath],
      explicitIdentityFiles: [s.identityPath],
    },
    knownHosts: {
      path: s.knownHostsPath,
      read: () => readFileSync(s.knownHostsPath, 'utf8'),
      append: () => assert.fail('the host key is known: nothing may be added'),
    },
    acceptNewHostKey: false,
    loadKey: async (path) => {
      const loaded = loadPrivateKey(path, readFileSync(path), undefined, 'PASSPHRASE');
      return loaded.ok
        ? ok({ key: loaded.value.key, type: loaded.value.type, fingerprint: '' })
        : loaded;
    },
    password: async () => null,
    connectTimeoutSeconds,
  });
}

/** An open connection, for tests that drive one step themselves. */
async function connect(s: FaultServer): Promise<SshConnection> {
  const opened = await open(s);
  if (!opened.ok) assert.fail(describeFailure(opened.failure));
  return opened.value;
}

async function readOver(s: FaultServer, o: ReadOptions = {}): Promise<Result<SourcedReport>> {
  const opened = await open(s, o.connectTimeoutSeconds);
  if (!opened.ok) return opened;
  const conn = opened.value;
  try {
    const found = await remoteSources(conn, {
      ...(o.internal ? { remoteDataDir: DATA_DIR } : { remoteDb: DB }),
      remoteConfig: '/etc/prosody/prosody.cfg.lua',
      method: o.method ?? 'auto',
      stepSeconds: o.stepSeconds ?? 5,
      maxCopyBytes: 64 * 1024 ** 2,
      maxQueryBytes: 64 * 1024 ** 2,
      tempDir,
    });
    if (!found.ok) return found;
    return await countSources(found.value, NOW);
  } finally {
    conn.close();
  }
}

/**
 * The failure a read ended in, after checking what every fault must leave behind: no figures, a
 * sentence, no temporary file, no late error, and the connection hung up.
 */
async function failureOf(
  result: Result<SourcedReport>,
  kind: FailureKind,
  { open: stillOpen = false } = {},
): Promise<Failure> {
  assert.equal(result.ok, false, 'a fault must never give figures');
  const failure = (result as { failure: Failure }).failure;
  assert.equal(failure.kind, kind, JSON.stringify(failure));
  const sentence = describeFailure(failure);
  assert.match(sentence, /^\S[^\n]*\.$/, 'one sentence');
  assert.doesNotMatch(sentence, /undefined|\[object /);
  // Late errors (a second 'error' event, a rejection after the result) show up within moments.
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(escaped, [], 'nothing may be thrown or rejected after the result');
  assert.deepEqual(readdirSync(tempDir), [], 'no temporary file may be left behind');
  if (!stillOpen) {
    assert.equal(await server!.waitForNoConnections(2000), true, 'the connection must be closed');
  }
  return failure;
}

// ---------------------------------------------------------------------------------------------

describe('the fault server, behaving', () => {
  test('gives figures by the remote query', LIMIT, async () => {
    const s = await serve({ exec: answer(GOOD_OUTPUT) });
    const result = await readOver(s, { method: 'query' });
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.value.total.accounts, ACCOUNTS);
  });

  test('gives the same figures by the SFTP copy', LIMIT, async () => {
    const s = await serve({ sftp: { files: new Map([[DB, database]]) } });
    const result = await readOver(s, { method: 'copy' });
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.value.total.accounts, ACCOUNTS);
    assert.deepEqual(readdirSync(tempDir), []);
  });
});

describe('a connection cut mid-transfer', () => {
  test(
    'while the query output arrives is connection-lost, never a partial count',
    LIMIT,
    async () => {
      const half = GOOD_OUTPUT.slice(0, Math.floor(GOOD_OUTPUT.length / 2));
      const s = await serve({
        exec: ({ channel, cut }) => {
          channel.write(half);
          setTimeout(cut, 100); // the half arrives first
        },
      });
      const failure = await failureOf(await readOver(s, { method: 'query' }), 'connection-lost');
      assert.deepEqual(failure, {
        kind: 'connection-lost',
        host: '127.0.0.1',
        step: 'running the query',
      });
      assert.equal(
        describeFailure(failure),
        'The connection to 127.0.0.1 was lost while running the query: nothing partial was used; try again.',
      );
    },
  );

  test(
    'during the SFTP copy is connection-lost, and the partial copy is removed',
    LIMIT,
    async () => {
      assert.ok(database.length > 10 * 32 * 1024, 'the file takes many reads');
      const s = await serve({
        sftp: {
          files: new Map([[DB, database]]),
          onRequest: (type, n) => (type === 'READ' && n > 5 ? 'cut' : 'answer'),
        },
      });
      const failure = await failureOf(await readOver(s, { method: 'copy' }), 'connection-lost');
      assert.match(
        describeFailure(failure),
        /^The connection to 127\.0\.0\.1 was lost while copying/,
      );
      assert.ok(s.stats.requests.READ > 5, 'the cut came after some reads');
    },
  );
});

describe('a server that stalls', () => {
  test('on the command times out, naming the step', LIMIT, async () => {
    const s = await serve({ exec: () => undefined });
    const started = Date.now();
    const failure = await failureOf(
      await readOver(s, { method: 'query', stepSeconds: 1 }),
      'timeout',
    );
    assert.deepEqual(failure, {
      kind: 'timeout',
      host: '127.0.0.1',
      step: 'running the query',
      seconds: 1,
    });
    assert.equal(
      describeFailure(failure),
      '127.0.0.1 did not answer within 1 s while running the query: check the network, or try again later.',
    );
    assert.ok(Date.now() - started < 4000);
  });

  test(
    'in the middle of the SFTP copy times out, naming the step, and removes the copy',
    LIMIT,
    async () => {
      const s = await serve({
        sftp: {
          files: new Map([[DB, database]]),
          onRequest: (type, n) => (type === 'READ' && n > 3 ? 'stall' : 'answer'),
        },
      });
      const started = Date.now();
      const failure = await failureOf(
        await readOver(s, { method: 'copy', stepSeconds: 1 }),
        'timeout',
      );
      assert.deepEqual(failure, {
        kind: 'timeout',
        host: '127.0.0.1',
        step: 'copying the database',
        seconds: 1,
      });
      assert.ok(Date.now() - started < 4000);
    },
  );

  test('during key exchange times out while logging in', LIMIT, async () => {
    const s = await serve({ login: 'stall-key-exchange' });
    const failure = await failureOf(await readOver(s, { connectTimeoutSeconds: 1 }), 'timeout');
    assert.deepEqual(failure, {
      kind: 'timeout',
      host: '127.0.0.1',
      step: 'logging in',
      seconds: 1,
    });
  });

  test('during authentication times out while logging in', LIMIT, async () => {
    const s = await serve({ login: 'stall-auth' });
    const failure = await failureOf(await readOver(s, { connectTimeoutSeconds: 1 }), 'timeout');
    assert.deepEqual(failure, {
      kind: 'timeout',
      host: '127.0.0.1',
      step: 'logging in',
      seconds: 1,
    });
  });
});

describe('a stream the reader holds back', () => {
  test('takes nothing while held, is not timed out for it, and arrives whole', LIMIT, async () => {
    const sent = randomBytes(4 * 1024 * 1024);
    const s = await serve({
      exec: ({ channel }) => {
        for (let at = 0; at < sent.length; at += 64 * 1024) {
          channel.write(sent.subarray(at, at + 64 * 1024));
        }
        channel.exit(0);
        channel.end();
      },
    });
    const conn = await connect(s);
    try {
      const got: Buffer[] = [];
      let held = false;
      let whileHeld = 0;
      const ran = await conn.execStream('x', '', 'reading', 1, (chunk) => {
        if (held) whileHeld++;
        got.push(chunk);
        if (got.length !== 1) return null;
        // Held for longer than the 1 s the server may be silent.
        held = true;
        return new Promise<void>((resolve) =>
          setTimeout(() => {
            held = false;
            resolve();
          }, 2500),
        );
      });
      assert.equal(ran.ok, true, JSON.stringify(ran));
      assert.equal(whileHeld, 0, 'no chunk came while the stream was held');
      assert.equal(Buffer.concat(got).equals(sent), true);
    } finally {
      conn.close();
    }
  });
});

describe('garbage on the wire', () => {
  test('instead of a key exchange is a remote-protocol failure', LIMIT, async () => {
    const s = await serve({ login: 'garbage-key-exchange' });
    await failureOf(await readOver(s, { connectTimeoutSeconds: 2 }), 'remote-protocol');
  });

  const garbage: Array<[string, string | Buffer, RegExp]> = [
    ['random bytes', randomBytes(64 * 1024), /not in the expected form/],
    ['the markers around broken JSON', queryOutput('["a.test","user'), /not valid JSON/],
    [
      'rows whose fields have the wrong types',
      queryOutput(
        rowLines([
          ...rows.slice(0, 10),
          { ...rows[10], last_active: 'yesterday' },
          ...rows.slice(11, 20),
        ]),
      ),
      /a row does not have the expected fields/,
    ],
    ['rows that are not lists', queryOutput('1\n2\n3'), /a row is not a list/],
    ['an older forced command', `PAU:before: 1 \n[]\nPAU:after: 1 \n`, /from an older version/],
    ['output cut short, then a clean exit', GOOD_OUTPUT.slice(0, 5000), /not in the expected form/],
  ];
  for (const [what, output, detail] of garbage) {
    test(`${what}: a remote-protocol failure, nothing counted`, LIMIT, async () => {
      const s = await serve({ exec: answer(output) });
      const failure = await failureOf(await readOver(s, { method: 'query' }), 'remote-protocol');
      assert.match(describeFailure(failure), detail);
      assert.match(
        describeFailure(failure),
        /^127\.0\.0\.1 answered with something other than activity data/,
      );
      assert.equal(s.stats.commands.length, 1, 'garbage is not asked for again');
    });
  }
});

describe('a query racing a writer', () => {
  /** What the script prints when sqlite3 stops on a page it cannot read. */
  const malformed = (counter: () => number) => {
    return ({ channel }: ExecContext) => {
      channel.write(`PAU:before: 1 1 0 64 32 32 0 0 0 ${counter()} \n`);
      channel.stderr.write('Error: stepping, database disk image is malformed (11)\n');
      channel.exit(11);
      channel.end();
    };
  };

  test('whose file keeps changing says so after every try', LIMIT, async () => {
    // The change counter (the header's last four bytes) moved while sqlite3 read.
    const s = await serve({
      exec: answer(
        `PAU:before: 1 1 0 64 32 32 0 0 0 1 \nPAU:v7:${NOW}\nPAU:state:\n[1,0]\nPAU:after: 1 1 0 64 32 32 0 0 0 2 \n`,
      ),
    });
    const failure = await failureOf(await readOver(s, { method: 'query' }), 'kept-changing');
    assert.equal(
      describeFailure(failure),
      `127.0.0.1:${DB} changed during each of ${QUERY_ATTEMPTS} reads (Prosody kept writing to it), so no read could be counted: try again in a moment.`,
    );
    assert.equal(s.stats.commands.length, QUERY_ATTEMPTS);
  });

  // The state: header, inode, then the size, on either side of CHUNK_FROM_BYTES. One server a
  // test: afterEach closes it.
  for (const [size, attempts, which] of [
    [CHUNK_FROM_BYTES - 1, SMALL_FILE_QUERY_ATTEMPTS, 'one byte under 64 MiB is asked more often'],
    [CHUNK_FROM_BYTES, QUERY_ATTEMPTS, 'of 64 MiB is asked as often as a larger one'],
  ] as const) {
    test(`whose file ${which}`, LIMIT, async () => {
      const state = `1.1.0.64.32.32.0.0.0.1.77.${size}.1796392048493478853.1796392048493478853`;
      const s = await serve({
        exec: answer(
          `PAU:before: 1 1 0 64 32 32 0 0 0 1 \nPAU:v7:${NOW}\nPAU:state:${state}\n[1,0]\nPAU:after: 1 1 0 64 32 32 0 0 0 2 \n`,
        ),
      });
      const failure = await failureOf(await readOver(s, { method: 'query' }), 'kept-changing');
      assert.match(
        describeFailure(failure),
        new RegExp(`changed during each of ${attempts} reads`),
      );
      assert.equal(s.stats.commands.length, attempts);
    });
  }

  test(
    'that makes sqlite3 say "malformed" while the file changes kept changing, not corrupt',
    LIMIT,
    async () => {
      let n = 0;
      const s = await serve({ exec: malformed(() => ++n) });
      await failureOf(await readOver(s, { method: 'query' }), 'kept-changing');
      assert.equal(s.stats.commands.length, QUERY_ATTEMPTS);
    },
  );

  test('"malformed" on every try on a file that does not change is corrupt', LIMIT, async () => {
    const s = await serve({ exec: malformed(() => 7) });
    const failure = await failureOf(await readOver(s, { method: 'query' }), 'corrupt');
    assert.match(
      describeFailure(failure),
      /^127\.0\.0\.1:\/var\/lib\/prosody\/prosody\.sqlite could not be read \(Error: stepping, database disk image is malformed \(11\)\)/,
    );
  });
});

describe('an SFTP copy that is not sound', () => {
  test(
    'of a file that is not a database is corrupt, named by its path on the server',
    LIMIT,
    async () => {
      const s = await serve({ sftp: { files: new Map([[DB, randomBytes(200 * 1024)]]) } });
      const failure = await failureOf(await readOver(s, { method: 'copy' }), 'corrupt');
      assert.equal((failure as { path: string }).path, `127.0.0.1:${DB}`);
      assert.match(
        describeFailure(failure),
        /^127\.0\.0\.1:\/var\/lib\/prosody\/prosody\.sqlite could not be read/,
      );
    },
  );

  test(
    'of a file that changes during every copy keeps one copy at a time, then says what happened',
    LIMIT,
    async () => {
      // The fault server, not sshd: its file changes between any two stats, every time, which a
      // real writer only does by chance. Each stat also looks at what the copies take meanwhile.
      let mostBytes = 0;
      const s = await serve({
        sftp: {
          files: new Map([[DB, database]]),
          attrs: (_path, n) => {
            mostBytes = Math.max(mostBytes, tempBytes());
            return { size: database.length, mtime: 1_795_000_000 + n };
          },
        },
      });
      const failure = await failureOf(await readOver(s, { method: 'copy' }), 'kept-changing');
      assert.equal(
        describeFailure(failure),
        `127.0.0.1:${DB} changed during each of 3 copies (Prosody kept writing to it), so no copy could be counted: try again in a moment, or install sqlite3 on the server so that the remote query reads it in place (--method query).`,
      );
      assert.equal(s.stats.requests.OPEN, 3, `three copies were tried: ${JSON.stringify(s.stats)}`);
      assert.equal(mostBytes, database.length, 'at most one copy at a time');
    },
  );
});

describe('internal storage over SFTP', () => {
  test('gives figures from a behaving server', LIMIT, async () => {
    const s = await serve({ sftp: { files: internalFiles } });
    const result = await readOver(s, { internal: true });
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.value.total.accounts, INTERNAL_ACCOUNTS);
  });

  for (const type of ['READDIR', 'OPEN', 'READ'] as const) {
    test(`a cut at a ${type} is connection-lost`, LIMIT, async () => {
      const s = await serve({
        sftp: {
          files: internalFiles,
          onRequest: (t, n) => (t === type && n > 3 ? 'cut' : 'answer'),
        },
      });
      const failure = await failureOf(await readOver(s, { internal: true }), 'connection-lost');
      assert.match(
        describeFailure(failure),
        /^The connection to 127\.0\.0\.1 was lost while reading \/var\/lib\/prosody/,
      );
    });
  }

  test('a file that changed size since it was listed is still read whole', LIMIT, async () => {
    const files = new Map(internalFiles);
    const s = await serve({ sftp: { files } });
    const conn = await connect(s);
    try {
      const sftp = await conn.sftp(5);
      assert.ok(sftp.ok);
      const fs = sftpStorageFs(sftp.value, s.host, 5);
      const [path] = [...files.keys()].filter((p) => p.endsWith('.dat'));
      const dir = path!.slice(0, path!.lastIndexOf('/'));
      const listed = (await fs.list(dir))?.find((e) => path!.endsWith(`/${e.name}`));
      assert.ok(listed?.size !== undefined);
      for (const text of ['return { grown = "' + 'x'.repeat(300) + '" };', 'return {};']) {
        files.set(path!, Buffer.from(text));
        assert.deepEqual(await fs.readCapped(path!, 64 * 1024, listed.size), { text });
      }
      // As listed: one READ, no FSTAT.
      files.set(path!, internalFiles.get(path!)!);
      const before = { ...s.stats.requests };
      const same = await fs.readCapped(path!, 64 * 1024, listed.size);
      assert.deepEqual(same, { text: internalFiles.get(path!)!.toString('utf8') });
      assert.equal(s.stats.requests.FSTAT - before.FSTAT, 0);
      assert.equal(s.stats.requests.READ - before.READ, 1);
    } finally {
      conn.close();
    }
  });

  test('a stalled READ times out, naming the file', LIMIT, async () => {
    const s = await serve({
      sftp: {
        files: internalFiles,
        onRequest: (t, n) => (t === 'READ' && n > 3 ? 'stall' : 'answer'),
      },
    });
    const conn = await connect(s);
    try {
      const sftp = await conn.sftp(5);
      assert.ok(sftp.ok);
      const source = new InternalStorageSource(DATA_DIR, {
        fs: sftpStorageFs(sftp.value, s.host, 1),
      });
      const started = Date.now();
      const failure = await failureOf(await countSources([source], NOW), 'timeout', { open: true });
      assert.match(
        describeFailure(failure),
        /^127\.0\.0\.1 did not answer within 1 s while reading \/var\/lib\/prosody\/.+\.dat:/,
      );
      assert.ok(Date.now() - started < 4000);
    } finally {
      conn.close();
    }
    assert.equal(await s.waitForNoConnections(2000), true);
  });
});

describe('one connection, many commands', () => {
  test('leaves no listeners behind', LIMIT, async () => {
    const s = await serve({ exec: answer(queryOutput('')) });
    const conn = await connect(s);
    try {
      for (let i = 0; i < 12; i++) {
        const ran = await conn.exec('true', 'running the query', 5, 1024);
        assert.ok(ran.ok);
      }
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(
        warnings.filter((w) => /MaxListeners/.test(w)),
        [],
        'each command must remove what it listens to',
      );
    } finally {
      conn.close();
    }
  });
});

describe('the CLI in-process', () => {
  async function cli(s: FaultServer, ...extra: string[]) {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const home = mkdtempSync(join(work, 'home-'));
    const code = await runCli(
      [
        '--ssh',
        `${s.user}@127.0.0.1:${s.port}`,
        '--identity',
        s.identityPath,
        '--known-hosts',
        s.knownHostsPath,
        '--ssh-config',
        '/dev/null',
        '--remote-db',
        DB,
        '--at',
        String(NOW),
        '--json',
        ...extra,
      ],
      {
        ...realCliDeps(),
        now: () => NOW,
        stdout: (t) => void stdout.push(t),
        stderr: (t) => void stderr.push(t),
        stderrIsTTY: false,
        sshSources: (options, onStep, onProgress) =>
          openSshSources(options, onStep, onProgress, {
            home,
            localUser: 'tester',
            env: {},
            platform: process.platform,
            prompt: async () => null,
          }),
      },
    );
    return { code, stdout: stdout.join(''), stderr: stderr.join('') };
  }

  test('a cut mid-transfer: exit 1, one sentence, no figures', LIMIT, async () => {
    const s = await serve({
      exec: ({ channel, cut }) => {
        channel.write(GOOD_OUTPUT.slice(0, 10_000));
        setTimeout(cut, 100);
      },
    });
    const run = await cli(s);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    assert.equal(
      run.stderr,
      'prosody-active-users: The connection to 127.0.0.1 was lost while running the query: nothing partial was used; try again.\n',
    );
  });

  test(
    'a stalled command: exit 1 after the step timeout (8 × --timeout), no figures',
    LIMIT,
    async () => {
      const s = await serve({ exec: () => undefined });
      const started = Date.now();
      const run = await cli(s, '--timeout', '0.25');
      assert.equal(run.code, 1);
      assert.equal(run.stdout, '');
      assert.equal(
        run.stderr,
        'prosody-active-users: 127.0.0.1 did not answer within 2 s while running the query: check the network, or try again later.\n',
      );
      assert.ok(Date.now() - started < 5000);
      assert.equal(await s.waitForNoConnections(2000), true);
    },
  );

  test('a healthy answer: exit 0 with figures', LIMIT, async () => {
    const s = await serve({ exec: answer(GOOD_OUTPUT) });
    const run = await cli(s);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(
      (JSON.parse(run.stdout) as { total: { accounts: number } }).total.accounts,
      ACCOUNTS,
    );
  });
});
