// A throwaway PostgreSQL or MariaDB server holding an empty `prosody` database that the role
// `prosody` owns, as an operator sets one up for Prosody's storage = "sql". Shared by the parity
// tests that run a real Prosody on a database server.

import { startMariadb } from './mariadb-server.js';
import { startPostgres } from './postgres-server.js';
import type { SqlServerSettings } from './prosody-server.js';

export interface ProsodyDatabase {
  /** Prosody's `sql = { … }` for this database. */
  sql: SqlServerSettings;
  /** The same as our CLI's `--sql` URL, without the password. */
  url: string;
  stop(): Promise<void>;
}

const PASSWORD = 'prosody-pw';

export async function startProsodyDatabase(
  driver: SqlServerSettings['driver'],
): Promise<ProsodyDatabase> {
  const common = { database: 'prosody', username: 'prosody', password: PASSWORD };
  if (driver === 'PostgreSQL') {
    const pg = await startPostgres();
    try {
      await pg.psql(`CREATE ROLE prosody LOGIN PASSWORD '${PASSWORD}'`);
      await pg.psql('CREATE DATABASE prosody OWNER prosody');
    } catch (e) {
      await pg.stop();
      throw e;
    }
    return {
      sql: { driver, ...common, host: '127.0.0.1', port: pg.port },
      url: `postgres://prosody@127.0.0.1:${pg.port}/prosody`,
      stop: () => pg.stop(),
    };
  }
  const db = await startMariadb();
  try {
    await db.sql(
      `CREATE DATABASE prosody CHARACTER SET utf8mb4;
       CREATE USER 'prosody'@'127.0.0.1' IDENTIFIED BY '${PASSWORD}';
       GRANT ALL ON prosody.* TO 'prosody'@'127.0.0.1';`,
    );
  } catch (e) {
    await db.stop();
    throw e;
  }
  return {
    sql: { driver, ...common, host: '127.0.0.1', port: db.port },
    url: `mysql://prosody@127.0.0.1:${db.port}/prosody`,
    stop: () => db.stop(),
  };
}
