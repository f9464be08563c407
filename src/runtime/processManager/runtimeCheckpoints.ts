import type { SqlExecutor } from '../../db/sqlClient.js';

/** Where each log follower of the runtime resumes: `runtime_checkpoints` (created by RuntimeStore.migrate). */
export async function loadRuntimeCheckpoint(db: SqlExecutor, name: string): Promise<string | null> {
  const { rows } = await db.query<{ position: string }>('SELECT position FROM runtime_checkpoints WHERE name = $1', [name]);
  return rows[0]?.position ?? null;
}

/** Called inside the transaction of the batch's own writes, so that both commit together. */
export async function saveRuntimeCheckpoint(tx: SqlExecutor, name: string, position: string): Promise<void> {
  await tx.query('INSERT INTO runtime_checkpoints (name, position) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position', [name, position]);
}
