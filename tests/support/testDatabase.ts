import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** Terminates every connection to the database and drops it. */
  drop(): Promise<void>;
}

const DEFAULT_SERVER_URL = 'postgres://postgres@127.0.0.1:5432';

/** A fresh, uniquely named database, so that test files can run in parallel on one server. */
export async function createTestDatabase(serverUrl = process.env.TEST_POSTGRES_URL ?? DEFAULT_SERVER_URL): Promise<TestDatabase> {
  const name = `cascade_test_${process.pid}_${randomBytes(6).toString('hex')}`;
  await asAdmin(serverUrl, (admin) => admin.query(`CREATE DATABASE ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => asAdmin(serverUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
  };
}

async function asAdmin(serverUrl: string, fn: (admin: pg.Client) => Promise<unknown>): Promise<void> {
  const url = new URL(serverUrl);
  url.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    await fn(admin);
  } finally {
    await admin.end();
  }
}
