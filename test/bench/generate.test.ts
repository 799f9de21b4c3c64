import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { countSources } from '../../main/core/activity-source.js';
import { InternalStorageSource } from '../../main/sources/internal-storage-source.js';
import { SqliteSource } from '../../main/sources/sqlite-source.js';
import { parseDatFile } from '../helpers/lua-data.js';
import {
  BENCH_NOW,
  type DatasetSpec,
  type Manifest,
  PROSODY_SCHEMA,
  ensureDataset,
  parseCount,
} from './generate.js';

const root = mkdtempSync(join(tmpdir(), 'pau-bench-gen-'));
after(() => rmSync(root, { recursive: true, force: true }));

const spec: DatasetSpec = { accounts: 3000, hosts: 3, archiveMb: 2, seed: 7 };

function figures(hosts: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [h, c] of Object.entries(hosts)) {
    const { dau, wau, mau, accounts, new1d, new7d, new30d, skipped } = c as Record<string, number>;
    out[h] = { dau, wau, mau, accounts, new1d, new7d, new30d, skipped };
  }
  return out;
}

async function counted(m: Manifest): Promise<Record<string, unknown>> {
  const source =
    m.layout === 'sqlite' ? new SqliteSource(m.path) : new InternalStorageSource(m.path);
  const r = await countSources([source], BENCH_NOW);
  assert.ok(r.ok);
  return figures(r.value.hosts);
}

test('the SQLite data counts to the figures the generator predicts', async () => {
  const m = await ensureDataset('sqlite', spec, { root });
  assert.deepEqual(await counted(m), m.expected);
  // Realistic, not degenerate: every kind of account and a component's rows are there; about a
  // tenth of the accounts are disabled and a twentieth gone (Prosody 13 leaves both out).
  const total = Object.values(m.expected).reduce((a, c) => a + c.accounts, 0);
  assert.ok(total > 0.8 * spec.accounts && total < 0.9 * spec.accounts, String(total));
  const example = m.expected['example.org']!;
  assert.ok(example.dau > 0 && example.dau < example.wau && example.wau < example.mau);
  assert.ok(example.new30d > 0);
  assert.ok(m.expected['conference.example.org']!.skipped > 0);
});

test('the internal storage data counts to the same figures', async () => {
  const sqlite = await ensureDataset('sqlite', spec, { root });
  const internal = await ensureDataset('internal', spec, { root });
  assert.deepEqual(internal.expected, sqlite.expected);
  assert.deepEqual(await counted(internal), internal.expected);
});

test('the SQLite file has exactly the schema Prosody 0.12 creates', async () => {
  const m = await ensureDataset('sqlite', spec, { root });
  const db = new Database(m.path, { readonly: true });
  try {
    const sql = db
      .prepare("SELECT sql FROM sqlite_master WHERE name LIKE 'prosody%' ORDER BY rowid")
      .pluck()
      .all() as string[];
    // SQLite keeps each statement's text without "IF NOT EXISTS" and the final ';'.
    const normalize = (s: string) => s.replace(/;$/, '').replace(/ IF NOT EXISTS/, '');
    assert.deepEqual(sql, PROSODY_SCHEMA.map(normalize));
    const stores = db
      .prepare('SELECT store, key, type, count(*) AS n FROM prosody GROUP BY 1, 2, 3 ORDER BY 1, 2')
      .all() as Array<{ store: string; key: string; type: string; n: number }>;
    assert.deepEqual(
      stores.map((s) => `${s.store}/${s.key}/${s.type}`),
      [
        'account_activity/timestamp/number',
        'account_roles/_default/string',
        'accounts/created/number',
        'accounts/disabled/boolean',
        'accounts/iteration_count/number',
        'accounts/salt/string',
        'accounts/server_key/string',
        'accounts/stored_key/string',
        'accounts/updated/number',
        'lastlog2/conference.example.org/string',
        'lastlog2/login/json',
        'lastlog2/logout/json',
        'lastlog2/registered/json',
      ],
    );
    const archive = db.prepare('SELECT store, type, value FROM prosodyarchive LIMIT 1').get() as {
      store: string;
      type: string;
      value: string;
    };
    assert.equal(archive.store, 'archive');
    assert.equal(archive.type, 'xml');
    assert.match(archive.value, /^<message xmlns='jabber:client' .*<\/message>$/);
    // The archive is the size asked for, within a tenth.
    assert.ok(Math.abs(m.stats.archiveBytes / 2 ** 20 - spec.archiveMb) < spec.archiveMb / 10);
  } finally {
    db.close();
  }
});

test('internal storage folders are dated as the data, not as the moment they were made', async () => {
  const m = await ensureDataset('internal', spec, { root });
  const folders = [m.path];
  for (const host of readdirSync(m.path)) {
    folders.push(join(m.path, host));
    for (const store of readdirSync(join(m.path, host))) folders.push(join(m.path, host, store));
  }
  assert.ok(folders.length > 8, 'hosts and their stores');
  for (const f of folders) assert.equal(statSync(f).mtimeMs / 1000, m.now, f);
});

test('internal storage files are what util.serialization writes and parse as data', async () => {
  const m = await ensureDataset('internal', spec, { root });
  const db = new Database((await ensureDataset('sqlite', spec, { root })).path, {
    readonly: true,
  });
  try {
    // One account with an address (the second host logs addresses), read both ways.
    const row = db
      .prepare(
        "SELECT user, value FROM prosody WHERE host = 'chat.example.net' AND key = 'login' LIMIT 1",
      )
      .get() as { user: string; value: string };
    const { encodeProsodyName } = await import('../../main/sources/prosody-name-encoding.js');
    const text = readFileSync(
      join(m.path, 'chat%2eexample%2enet', 'lastlog2', `${encodeProsodyName(row.user)}.dat`),
      'utf8',
    );
    assert.match(
      text,
      /^return \{\n\t\["login"\] = \{\n\t\t\["timestamp"\] = \d+;\n\t\t\["ip"\] = "/,
    );
    const parsed = parseDatFile(text) as Record<string, Record<string, unknown>>;
    assert.deepEqual(parsed.login, JSON.parse(row.value));
  } finally {
    db.close();
  }
});

test('the same parameters give the same data, and a second call reuses it', async () => {
  const other = mkdtempSync(join(root, 'again-'));
  const a = await ensureDataset('sqlite', spec, { root });
  const b = await ensureDataset('sqlite', spec, { root: other });
  const digest = (path: string) => {
    const db = new Database(path, { readonly: true });
    try {
      const hash = createHash('sha256');
      for (const r of db.prepare('SELECT * FROM prosody ORDER BY rowid').raw().iterate()) {
        hash.update(JSON.stringify(r));
      }
      return hash.digest('hex');
    } finally {
      db.close();
    }
  };
  assert.equal(digest(a.path), digest(b.path));
  let generated = false;
  const again = await ensureDataset('sqlite', spec, { root, log: () => (generated = true) });
  assert.equal(generated, false);
  assert.equal(again.path, a.path);
});

test('counts are read as a person writes them', () => {
  assert.deepEqual(
    ['10k', '100k', '1M', '2500', '1.5k'].map(parseCount),
    [10_000, 100_000, 1_000_000, 2500, 1500],
  );
  assert.throws(() => parseCount('lots'), /not a count/);
});
