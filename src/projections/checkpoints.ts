import type { SqlExecutor } from '../db/sqlClient.js';

/** Where a projection stopped in the event log, kept in the database it writes to. */
export async function loadCheckpoint(db: SqlExecutor, name: string): Promise<string | null> {
  const { rows } = await db.query<{ position: string }>('SELECT position FROM projection_checkpoints WHERE name = $1', [name]);
  return rows[0]?.position ?? null;
}

/** Call inside the transaction that wrote the rows up to `position`: they commit together. */
export async function saveCheckpoint(tx: SqlExecutor, name: string, position: string): Promise<void> {
  await tx.query('INSERT INTO projection_checkpoints (name, position) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position', [name, position]);
}
