import type { SqlClient, SqlExecutor } from '../../db/sqlClient.js';
import { loadCheckpoint, saveCheckpoint } from '../../eventstore/checkpoints.js';

/**
 * What the runtime keeps besides events: its subscription checkpoint and the executions it has
 * not seen finish, both changed in one transaction so that a crash never separates them; and
 * per unfinished execution, how many of its recoveries at start-up began and never ended (only
 * start-up writes these, so the path of every batch pays nothing for them).
 */
export class RuntimeStore {
  constructor(
    private readonly db: SqlClient,
    private readonly name: string,
  ) {}

  checkpoint(): Promise<string | null> {
    return loadCheckpoint(this.db, 'runtime_checkpoints', this.name);
  }

  async activeExecutions(): Promise<string[]> {
    const { rows } = await this.db.query<{ execution_id: string }>('SELECT execution_id FROM runtime_active_executions WHERE name = $1', [this.name]);
    return rows.map((row) => row.execution_id);
  }

  /**
   * Counts a recovery of each execution as begun, and answers how many of its recoveries began
   * and never ended, this one included. Counts of executions no longer unfinished are dropped.
   */
  async beginRecoveries(executionIds: string[]): Promise<Map<string, number>> {
    return this.db.transaction(async (tx) => {
      await tx.query('DELETE FROM runtime_recoveries WHERE name = $1 AND NOT (execution_id = ANY($2::text[]))', [this.name, executionIds]);
      const { rows } = await tx.query<{ execution_id: string; unfinished: number }>(
        `INSERT INTO runtime_recoveries (name, execution_id, unfinished) SELECT $1, unnest($2::text[]), 1
         ON CONFLICT (name, execution_id) DO UPDATE SET unfinished = runtime_recoveries.unfinished + 1
         RETURNING execution_id, unfinished`,
        [this.name, executionIds],
      );
      return new Map(rows.map((row) => [row.execution_id, row.unfinished]));
    });
  }

  /** The recovery was lived through: the execution's count starts again from nothing. */
  async endRecovery(executionId: string): Promise<void> {
    await this.db.query('DELETE FROM runtime_recoveries WHERE name = $1 AND execution_id = $2', [this.name, executionId]);
  }

  /** A quarantined execution: no longer recovered at start-up. */
  async forget(executionId: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('DELETE FROM runtime_active_executions WHERE name = $1 AND execution_id = $2', [this.name, executionId]);
      await tx.query('DELETE FROM runtime_recoveries WHERE name = $1 AND execution_id = $2', [this.name, executionId]);
    });
  }

  /** `alsoWrite` adds the batch's other writes (timers, claimable jobs) to the same transaction. */
  async save(position: string, started: string[], finished: string[], alsoWrite?: (tx: SqlExecutor) => Promise<void>): Promise<void> {
    await this.db.transaction(async (tx) => {
      await alsoWrite?.(tx);
      if (started.length > 0) {
        await tx.query('INSERT INTO runtime_active_executions (name, execution_id) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING', [this.name, started]);
      }
      if (finished.length > 0) {
        await tx.query('DELETE FROM runtime_active_executions WHERE name = $1 AND execution_id = ANY($2::text[])', [this.name, finished]);
      }
      await saveCheckpoint(tx, 'runtime_checkpoints', this.name, position);
    });
  }
}
