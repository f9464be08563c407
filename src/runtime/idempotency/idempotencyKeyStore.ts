import type { SqlClient } from '../../db/sqlClient.js';

/**
 * The `idempotency_keys` table: (workflow, key) -> the execution that key starts, and when the
 * key was first used. A key is claimed before its execution starts, so a process that dies in
 * between leaves the id behind for the client's retry to start.
 */
export class IdempotencyKeyStore {
  constructor(private readonly db: SqlClient) {}

  /**
   * The execution id the key stands for: `executionId` when the key is new or its last use is not
   * after `expiredBefore` (it then starts afresh), else the one it was claimed for. Concurrent
   * claims of one key wait for each other on the primary key, and all get the first one's id.
   */
  async claim(workflowId: string, key: string, executionId: string, now: Date, expiredBefore: Date): Promise<string> {
    for (;;) {
      const { rows } = await this.db.query<{ execution_id: string }>(
        `INSERT INTO idempotency_keys (workflow_id, key, execution_id, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (workflow_id, key) DO UPDATE SET execution_id = EXCLUDED.execution_id, created_at = EXCLUDED.created_at
         WHERE idempotency_keys.created_at <= $5
         RETURNING execution_id`,
        [workflowId, key, executionId, now, expiredBefore],
      );
      if (rows[0]) return rows[0].execution_id;
      const { rows: existing } = await this.db.query<{ execution_id: string }>('SELECT execution_id FROM idempotency_keys WHERE workflow_id = $1 AND key = $2', [workflowId, key]);
      // Absent only when a sweep removed it in between, as expired: claim it again.
      if (existing[0]) return existing[0].execution_id;
    }
  }

  /** Forgets keys whose window is over (a later use of one starts a new execution either way). */
  async sweep(expiredBefore: Date): Promise<void> {
    await this.db.query('DELETE FROM idempotency_keys WHERE created_at <= $1', [expiredBefore]);
  }
}
