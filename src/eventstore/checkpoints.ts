import type { SqlExecutor } from '../db/sqlClient.js';

/**
 * The tables of log positions: the read model's own (rebuilt and swapped with it, see
 * projections/shadowSchema.ts) and the runtime's (process manager, feeds). Both are made by
 * migrations/ with the columns (name text PRIMARY KEY, position text).
 */
export type CheckpointTable = 'projection_checkpoints' | 'runtime_checkpoints';

/** Where the follower `name` of the event log stopped, or null before its first batch. */
export async function loadCheckpoint(db: SqlExecutor, table: CheckpointTable, name: string): Promise<string | null> {
  const { rows } = await db.query<{ position: string }>(`SELECT position FROM ${table} WHERE name = $1`, [name]);
  return rows[0]?.position ?? null;
}

/** Call inside the transaction that wrote what the log held up to `position`: they commit together. */
export async function saveCheckpoint(tx: SqlExecutor, table: CheckpointTable, name: string, position: string): Promise<void> {
  await tx.query(`INSERT INTO ${table} (name, position) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position`, [name, position]);
}
