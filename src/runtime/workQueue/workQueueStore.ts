import type { SqlClient, SqlExecutor } from '../../db/sqlClient.js';
import type { TableChanges } from '../processManager/tableChanges.js';
import { notifyJobs, type EndedAttempt } from './jobNotices.js';

/** A queued attempt of an `external` node, waiting for a worker of its queue. */
export interface ExternalJob {
  /** `<executionId>:<nodeId>`: one job per node, the attempt it waits for. */
  id: string;
  executionId: string;
  nodeId: string;
  attempt: number;
  queue: string;
  availableAt: Date;
  /** Its execution's tenant: only that tenant's workers claim it. */
  tenantId: string;
}

type JobKey = Pick<ExternalJob, 'executionId' | 'nodeId' | 'attempt'>;

/**
 * The `external_jobs` table, kept from events (see workQueuePlan). Claiming reserves rows for a
 * short while instead of holding a transaction open across the StartNode that follows, since on
 * PGlite that command would wait for the very connection the transaction holds.
 */
export class WorkQueueStore {
  constructor(private readonly db: SqlClient) {}

  /** Writes the changes, and tells the queues' listeners (see jobNotices) of offered jobs and `ended` attempts. */
  static async apply(tx: SqlExecutor, changes: TableChanges<ExternalJob>, ended: EndedAttempt[] = []): Promise<void> {
    await changes.deleteCleared(tx, 'external_jobs');
    const jobs = changes.rows;
    await notifyJobs(
      tx,
      jobs.map(({ tenantId, queue }) => ({ tenantId, queue })),
      ended,
    );
    if (jobs.length === 0) return;
    await tx.query(
      `INSERT INTO external_jobs (execution_id, node_id, attempt, queue, available_at, tenant_id)
       SELECT * FROM unnest($1::text[], $2::text[], $3::integer[], $4::text[], $5::timestamptz[], $6::text[])
       ON CONFLICT (execution_id, node_id) DO UPDATE
       SET attempt = EXCLUDED.attempt, queue = EXCLUDED.queue, available_at = EXCLUDED.available_at, reserved_until = NULL`,
      [
        jobs.map((job) => job.executionId),
        jobs.map((job) => job.nodeId),
        jobs.map((job) => job.attempt),
        jobs.map((job) => job.queue),
        jobs.map((job) => job.availableAt.toISOString()),
        jobs.map((job) => job.tenantId),
      ],
    );
  }

  /**
   * Reserves up to `max` available jobs of a tenant's queue until `until`, oldest first. Rows another
   * caller is reserving right now are skipped (SKIP LOCKED), and reserved rows are not offered
   * again until their reservation ends, so each job goes to one caller.
   */
  async reserve(tenantId: string, queue: string, max: number, now: Date, until: Date): Promise<JobKey[]> {
    const { rows } = await this.db.query<{ execution_id: string; node_id: string; attempt: number }>(
      `UPDATE external_jobs j SET reserved_until = $3
       FROM (SELECT execution_id, node_id FROM external_jobs
             WHERE tenant_id = $5 AND queue = $1 AND available_at <= $2 AND (reserved_until IS NULL OR reserved_until <= $2)
             ORDER BY available_at, execution_id, node_id LIMIT $4 FOR UPDATE SKIP LOCKED) picked
       WHERE j.execution_id = picked.execution_id AND j.node_id = picked.node_id
       RETURNING j.execution_id, j.node_id, j.attempt`,
      [queue, now.toISOString(), until.toISOString(), max, tenantId],
    );
    return rows.map((row) => ({ executionId: row.execution_id, nodeId: row.node_id, attempt: row.attempt }));
  }

  /** Removes reserved jobs, unless a newer attempt of the node was offered meanwhile. */
  async remove(jobs: JobKey[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.db.query(
      `DELETE FROM external_jobs j USING unnest($1::text[], $2::text[], $3::integer[]) AS k(e, id, attempt)
       WHERE j.execution_id = k.e AND j.node_id = k.id AND j.attempt = k.attempt`,
      [jobs.map((job) => job.executionId), jobs.map((job) => job.nodeId), jobs.map((job) => job.attempt)],
    );
  }
}
