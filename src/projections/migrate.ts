import { fileURLToPath } from 'node:url';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import type { PGlite } from '@electric-sql/pglite';
import type { PgliteClient } from '../db/pgliteClient.js';
import type { PostgresClient } from '../db/postgresClient.js';

/** The migrations drizzle-kit generated from schema.ts, shipped beside the sources. */
const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url));

// drizzle's migrator reads the last applied migration, then applies the rest: two processes
// starting together would both apply the first one. A session advisory lock serialises them.
const MIGRATION_LOCK = 7_240_118_302;

/** Brings the read-model tables up to date; safe to call on every start and concurrently. */
export async function migrateProjections(db: PostgresClient | PgliteClient): Promise<void> {
  if (db.kind === 'postgres') await migrateOnPostgres(db);
  else await migrateOnPglite(db.pglite);
}

async function migrateOnPostgres(db: PostgresClient): Promise<void> {
  const connection = await db.pool.connect();
  try {
    await connection.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await migratePg(drizzlePg(connection), { migrationsFolder: MIGRATIONS_FOLDER });
  } finally {
    // A connection that can't unlock would keep the lock in the pool: destroy it instead.
    const broken = await connection.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).then(
      () => undefined,
      (error: Error) => error,
    );
    connection.release(broken);
  }
}

/** PGlite lives in this process: chaining the calls per instance is the lock. */
const pgliteMigrations = new WeakMap<PGlite, Promise<void>>();

function migrateOnPglite(pglite: PGlite): Promise<void> {
  const previous = pgliteMigrations.get(pglite) ?? Promise.resolve();
  const next = previous.catch(() => {}).then(() => migratePglite(drizzlePglite(pglite), { migrationsFolder: MIGRATIONS_FOLDER }));
  pgliteMigrations.set(pglite, next);
  return next;
}
