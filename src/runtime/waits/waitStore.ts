import type { SqlExecutor } from '../../db/sqlClient.js';
import type { TableChanges } from '../processManager/tableChanges.js';
import type { Wait } from './wait.js';

interface WaitRow {
  execution_id: string;
  node_id: string;
  attempt: number;
  match: string | null;
}

/** Where a page of waits of one event ends: the next page starts after it. */
export interface WaitCursor {
  executionId: string;
  nodeId: string;
}

/** A wait as emitEvent offers it the event. */
export type ListeningWait = Pick<Wait, 'executionId' | 'nodeId' | 'attempt' | 'match'>;

/** The `waits` table: one row per waiting attempt, written with the process manager's checkpoint. */
export class WaitStore {
  constructor(private readonly db: SqlExecutor) {}

  static async apply(tx: SqlExecutor, changes: TableChanges<Wait>): Promise<void> {
    await changes.deleteCleared(tx, 'waits');
    const waits = changes.rows;
    if (waits.length === 0) return;
    await tx.query(
      `INSERT INTO waits (execution_id, node_id, attempt, tenant_id, event_name, match)
       SELECT * FROM unnest($1::text[], $2::text[], $3::integer[], $4::text[], $5::text[], $6::text[])
       ON CONFLICT (execution_id, node_id) DO UPDATE
       SET attempt = EXCLUDED.attempt, tenant_id = EXCLUDED.tenant_id, event_name = EXCLUDED.event_name, match = EXCLUDED.match`,
      [
        waits.map((wait) => wait.executionId),
        waits.map((wait) => wait.nodeId),
        waits.map((wait) => wait.attempt),
        waits.map((wait) => wait.tenantId),
        waits.map((wait) => wait.eventName),
        waits.map((wait) => wait.match),
      ],
    );
  }

  /** Those of `names` that some wait listens to, in any tenant (by the index on event_name: one probe each). */
  async listenedNames(names: readonly string[]): Promise<Set<string>> {
    const { rows } = await this.db.query<{ name: string }>('SELECT name FROM unnest($1::text[]) AS name WHERE EXISTS (SELECT 1 FROM waits WHERE event_name = name)', [names]);
    return new Set(rows.map((row) => row.name));
  }

  /** Up to `limit` waits of the event after `after`, in key order (by the index: no scan of other events' waits). */
  async listening(tenantId: string, eventName: string, after: WaitCursor | null, limit: number): Promise<ListeningWait[]> {
    const { rows } = await this.db.query<WaitRow>(
      `SELECT execution_id, node_id, attempt, match FROM waits
       WHERE tenant_id = $1 AND event_name = $2 AND (execution_id, node_id) > ($3, $4)
       ORDER BY execution_id, node_id LIMIT $5`,
      [tenantId, eventName, after?.executionId ?? '', after?.nodeId ?? '', limit],
    );
    return rows.map((row) => ({ executionId: row.execution_id, nodeId: row.node_id, attempt: row.attempt, match: row.match }));
  }
}
