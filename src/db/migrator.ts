import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SqlClient, SqlExecutor } from './sqlClient.js';

/** Read at run time from the package root, so that src/ and dist/ (one level deeper) both find it. */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../migrations', import.meta.url));

/** Held for the whole run: a second process waits, then finds everything applied. */
const MIGRATION_LOCK = 7_240_118_300;

const FILE_NAME = /^(\d{4})_[a-z0-9_]+\.sql$/;

/**
 * Splits a file into the statements sent one by one: PGlite's query takes one statement, and
 * function bodies hold semicolons. The marker is drizzle-kit's, so its output can be pasted in.
 */
const STATEMENT_BREAK = /^--> statement-breakpoint$/m;

export interface Migration {
  version: number;
  /** The file name without `.sql`, e.g. `0001_event_store`. */
  name: string;
  statements: string[];
}

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
}

/** The numbered SQL files of `folder`, in order; a misnamed or twice-numbered file is an error. */
export function readMigrations(folder = MIGRATIONS_FOLDER): Migration[] {
  const migrations = readdirSync(folder)
    .filter((file) => file.endsWith('.sql'))
    .map((file) => readMigration(folder, file))
    .sort((a, b) => a.version - b.version);
  migrations.forEach((migration, index) => {
    const previous = migrations[index - 1];
    if (previous?.version === migration.version) throw new MigrationError(`migrations ${previous.name} and ${migration.name} have the same number`);
  });
  return migrations;
}

function readMigration(folder: string, file: string): Migration {
  const match = FILE_NAME.exec(file);
  if (!match) throw new MigrationError(`migration file ${file} is not named NNNN_lower_case_name.sql`);
  const statements = readFileSync(join(folder, file), 'utf8')
    .split(STATEMENT_BREAK)
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0);
  return { version: Number(match[1]), name: file.slice(0, -'.sql'.length), statements };
}

/**
 * Applies the migrations not yet recorded in `schema_migrations`, in order, in one transaction
 * under one advisory lock, on PostgreSQL and PGlite alike; answers the names it applied. A
 * failing migration leaves the database as it was. Versions recorded but unknown here (a newer
 * build migrated first) are left alone; a known version recorded under another name (two
 * branches took the same number) is an error.
 */
export async function migrate(db: SqlClient, migrations: Migration[] = readMigrations()): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await tx.query<{ version: number; name: string }>('SELECT version, name FROM schema_migrations');
    const applied = new Map(rows.map((row) => [row.version, row.name]));
    const pending = migrations.filter((migration) => !applied.has(migration.version));
    for (const migration of migrations) {
      const recorded = applied.get(migration.version);
      if (recorded !== undefined && recorded !== migration.name) throw new MigrationError(`migration ${migration.version} was applied as ${recorded}, not ${migration.name}`);
    }
    for (const migration of pending) {
      await applyStatements(tx, migration);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
    }
    return pending.map((migration) => migration.name);
  });
}

async function applyStatements(tx: SqlExecutor, migration: Migration): Promise<void> {
  try {
    for (const statement of migration.statements) await tx.query(statement);
  } catch (error) {
    throw new MigrationError(`migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
  }
}
