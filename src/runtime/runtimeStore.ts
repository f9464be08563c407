import type { SqlClient, SqlExecutor } from '../db/sqlClient.js';
import { loadRuntimeCheckpoint, saveRuntimeCheckpoint } from './runtimeCheckpoints.js';

/**
 * What the runtime keeps besides events: its subscription checkpoint and the executions it has
 * not seen finish, both changed in one transaction so that a crash never separates them.
 */
export class RuntimeStore {
  constructor(
    private readonly db: SqlClient,
    private readonly name: string,
  ) {}

  static async migrate(db: SqlClient): Promise<void> {
    await db.query('CREATE TABLE IF NOT EXISTS runtime_checkpoints (name text PRIMARY KEY, position text NOT NULL)');
    await db.query(
      'CREATE TABLE IF NOT EXISTS runtime_active_executions (name text NOT NULL, execution_id text NOT NULL, PRIMARY KEY (name, execution_id))',
    );
  }

  checkpoint(): Promise<string | null> {
    return loadRuntimeCheckpoint(this.db, this.name);
  }

  async activeExecutions(): Promise<string[]> {
    const { rows } = await this.db.query<{ execution_id: string }>('SELECT execution_id FROM runtime_active_executions WHERE name = $1', [this.name]);
    return rows.map((row) => row.execution_id);
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
      await saveRuntimeCheckpoint(tx, this.name, position);
    });
  }
}
