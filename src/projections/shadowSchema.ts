import { quoteIdentifier as quote } from '../db/quoteIdentifier.js';
import type { SqlClient, SqlExecutor } from '../db/sqlClient.js';
import { loadCheckpoint } from '../eventstore/checkpoints.js';
import { READ_MODEL } from './projectionRunner.js';
import { READ_MODEL_TABLES } from './schema.js';

/** Where an online rebuild builds the read model while the live tables (in public) keep serving. */
export const SHADOW_SCHEMA = 'read_model_next';
/** Where the replaced live tables go at the swap, until they are dropped. */
const RETIRED_SCHEMA = 'read_model_old';

const LIVE = 'public';

/** A fresh shadow schema holding an empty copy of each live read-model table, with the same constraint and index names. */
export async function createShadowTables(db: SqlClient): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(`DROP SCHEMA IF EXISTS ${quote(SHADOW_SCHEMA)} CASCADE`);
    await tx.query(`CREATE SCHEMA ${quote(SHADOW_SCHEMA)}`);
    for (const table of READ_MODEL_TABLES) await cloneTable(tx, table);
  });
}

export const dropShadowTables = async (db: SqlClient): Promise<void> => void (await db.query(`DROP SCHEMA IF EXISTS ${quote(SHADOW_SCHEMA)} CASCADE`));

/**
 * LIKE copies columns, defaults and NOT NULLs but names indexes its own way; the constraints and
 * indexes are recreated under their live names instead, so that once swapped in, the tables are
 * exactly what later migrations expect. (The read model has no foreign keys.)
 */
async function cloneTable(tx: SqlExecutor, table: string): Promise<void> {
  const [live, shadow] = [`${quote(LIVE)}.${quote(table)}`, `${quote(SHADOW_SCHEMA)}.${quote(table)}`];
  await tx.query(`CREATE TABLE ${shadow} (LIKE ${live} INCLUDING ALL EXCLUDING INDEXES)`);
  const { rows: constraints } = await tx.query<{ name: string; definition: string }>(
    `SELECT conname AS name, pg_get_constraintdef(oid) AS definition FROM pg_constraint WHERE conrelid = $1::regclass AND contype IN ('p', 'u', 'x')`,
    [live],
  );
  for (const { name, definition } of constraints) await tx.query(`ALTER TABLE ${shadow} ADD CONSTRAINT ${quote(name)} ${definition}`);
  const { rows: indexes } = await tx.query<{ definition: string }>(
    `SELECT pg_get_indexdef(i.indexrelid) AS definition FROM pg_index i
     WHERE i.indrelid = $1::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`,
    [live],
  );
  for (const { definition } of indexes) await tx.query(definition.replace(/ ON (ONLY )?\S+ USING /, ` ON ${shadow} USING `));
}

/**
 * Puts the shadow tables in place of the live ones, in one transaction: a reader sees the old
 * tables or the new ones, never a mix of a table half built. Only if the live projection has not
 * committed since its checkpoint was `liveCheckpoint` (the shadow caught up with that much), else
 * it changes nothing and answers false. The live projection then carries on from its own
 * position, which the shadow has passed: it re-applies a few events, which changes nothing.
 */
export async function swapInShadow(db: SqlClient, liveCheckpoint: string | null): Promise<boolean> {
  const swapped = await db.transaction(async (tx) => {
    const live = READ_MODEL_TABLES.map((table) => `${quote(LIVE)}.${quote(table)}`);
    await tx.query(`LOCK TABLE ${live.join(', ')} IN ACCESS EXCLUSIVE MODE`);
    if ((await loadCheckpoint(tx, 'projection_checkpoints', READ_MODEL)) !== liveCheckpoint) return false;
    await tx.query(`DROP SCHEMA IF EXISTS ${quote(RETIRED_SCHEMA)} CASCADE`);
    await tx.query(`CREATE SCHEMA ${quote(RETIRED_SCHEMA)}`);
    for (const table of live) await tx.query(`ALTER TABLE ${table} SET SCHEMA ${quote(RETIRED_SCHEMA)}`);
    for (const table of READ_MODEL_TABLES) await tx.query(`ALTER TABLE ${quote(SHADOW_SCHEMA)}.${quote(table)} SET SCHEMA ${quote(LIVE)}`);
    await tx.query(`DROP SCHEMA ${quote(SHADOW_SCHEMA)}`);
    return true;
  });
  // Apart, to keep the transaction readers wait for as short as can be.
  if (swapped) await db.query(`DROP SCHEMA ${quote(RETIRED_SCHEMA)} CASCADE`);
  return swapped;
}
