import type { SqlClient, SqlExecutor } from '../../db/sqlClient.js';
import { admissible, type QueuedSlot } from './queueOrder.js';

export type SlotState = 'QUEUED' | 'RUNNING' | 'DONE';

export interface Reservation {
  executionId: string;
  workflowId: string;
  triggerNodeId: string;
  triggerType: string;
  /** The workflow's maxConcurrentExecutions; null: none. */
  limit: number | null;
  /** Who starts it, and the workflow's maxConcurrentExecutionsPerUser (null: none). */
  userId: string | null;
  maxPerUser: number | null;
  /** Its workflow's tenant. */
  tenantId: string;
}

/**
 * Whose executions queue together: a workflow's, or, when its tenant has a maxConcurrentExecutions,
 * the whole tenant's (the workflows' own limits still apply within). `limit`: the tenant's.
 */
export type SlotScope = { kind: 'workflow'; workflowId: string } | { kind: 'tenant'; tenantId: string; limit: number };

export const scopeOf = (workflowId: string, tenantId: string, tenantLimit: number | null): SlotScope =>
  tenantLimit === null ? { kind: 'workflow', workflowId } : { kind: 'tenant', tenantId, limit: tenantLimit };

export interface SlotRow {
  executionId: string;
  workflowId: string;
  tenantId: string;
  triggerNodeId: string;
  triggerType: string;
  state: SlotState;
}

interface Row {
  execution_id: string;
  workflow_id: string;
  tenant_id: string;
  trigger_node_id: string;
  trigger_type: string;
  state: SlotState;
}

const toSlot = (row: Row): SlotRow => ({
  executionId: row.execution_id,
  workflowId: row.workflow_id,
  tenantId: row.tenant_id,
  triggerNodeId: row.trigger_node_id,
  triggerType: row.trigger_type,
  state: row.state,
});

/**
 * The `execution_slots` table: one row per execution, QUEUED (waits for a slot), RUNNING (holds
 * one, paused included) or DONE (kept a while so that a replayed start cannot bring it back).
 * `confirmed` says the event log agrees with the row: false between a reservation or an admission
 * and the event that records it. `version` is the last stream version applied, so that replays
 * and several processes applying the same events never move a row backwards. Every change of a
 * queue's slots (a workflow's, or a limited tenant's: SlotScope) holds that queue's advisory lock.
 */
export class SlotStore {
  constructor(private readonly db: SqlClient) {}

  /**
   * Takes a slot for a new execution, or a place at the end of the queue when its workflow or its
   * user is at the limit, or when executions it may not overtake wait already (see admissible).
   * An execution that has a row already (a second start of a derived id) gets the state that row has.
   */
  reserve(reservation: Reservation, scope: SlotScope, now: Date): Promise<{ state: SlotState; reserved: boolean }> {
    const { executionId, workflowId, triggerNodeId, triggerType, limit, userId, maxPerUser, tenantId } = reservation;
    return this.db.transaction(async (tx) => {
      await lock(tx, scope);
      const candidate: QueuedSlot = { executionId, workflowId, state: 'QUEUED', confirmed: true, userId, maxConcurrent: limit, maxPerUser };
      const state: SlotState = (await admissibleIn(tx, scope, candidate)).includes(executionId) ? 'RUNNING' : 'QUEUED';
      const { rows } = await tx.query<{ state: SlotState }>(
        `INSERT INTO execution_slots (execution_id, workflow_id, trigger_node_id, trigger_type, state, confirmed, max_concurrent, user_id, max_per_user, tenant_id, version, updated_at)
         VALUES ($1, $2, $3, $4, $5, false, $6, $7, $8, $9, 0, $10) ON CONFLICT (execution_id) DO NOTHING RETURNING state`,
        [executionId, workflowId, triggerNodeId, triggerType, state, limit, userId, maxPerUser, tenantId, now],
      );
      if (rows.length > 0) return { state, reserved: true };
      const { rows: existing } = await tx.query<{ state: SlotState }>('SELECT state FROM execution_slots WHERE execution_id = $1', [executionId]);
      return { state: existing[0]?.state ?? state, reserved: false };
    });
  }

  /** Drops a reservation that no event confirmed (its start failed, or its process died before it). */
  async release(executionId: string): Promise<void> {
    await this.db.query('DELETE FROM execution_slots WHERE execution_id = $1 AND NOT confirmed', [executionId]);
  }

  /**
   * Moves queued executions into the free slots, first in, first out (see admissible), and
   * returns them: the caller admits them (AdmitExecution). A queued execution waits for the
   * limits of its own workflow version, and for its tenant's current one.
   */
  async admitQueued(scope: SlotScope, now: Date): Promise<string[]> {
    if (!(await this.hasQueued(scope))) return [];
    return this.db.transaction(async (tx) => {
      await lock(tx, scope);
      const admitted = await admissibleIn(tx, scope);
      if (admitted.length > 0) {
        await tx.query(`UPDATE execution_slots SET state = 'RUNNING', confirmed = false, updated_at = $2 WHERE execution_id = ANY($1::text[])`, [admitted, now]);
      }
      return admitted;
    });
  }

  /** Queued and running executions of a workflow, in start order. */
  async active(workflowId: string): Promise<SlotRow[]> {
    const { rows } = await this.db.query<Row>(
      `SELECT execution_id, workflow_id, tenant_id, trigger_node_id, trigger_type, state FROM execution_slots
       WHERE workflow_id = $1 AND state IN ('RUNNING', 'QUEUED') ORDER BY seq`,
      [workflowId],
    );
    return rows.map(toSlot);
  }

  /** The workflows of a tenant that have queued executions. */
  async queuedWorkflows(tenantId: string): Promise<string[]> {
    const { rows } = await this.db.query<{ workflow_id: string }>(`SELECT DISTINCT workflow_id FROM execution_slots WHERE tenant_id = $1 AND state = 'QUEUED'`, [tenantId]);
    return rows.map((row) => row.workflow_id);
  }

  /** Rows the event log has not confirmed since before `before`: their process may have died mid-way. */
  async unconfirmed(before: Date): Promise<SlotRow[]> {
    const { rows } = await this.db.query<Row>(
      `SELECT execution_id, workflow_id, tenant_id, trigger_node_id, trigger_type, state FROM execution_slots
       WHERE NOT confirmed AND state <> 'DONE' AND updated_at < $1`,
      [before],
    );
    return rows.map(toSlot);
  }

  /** Forgets finished executions; a replay reaching further back than `before` is not expected. */
  async prune(before: Date): Promise<void> {
    await this.db.query(`DELETE FROM execution_slots WHERE state = 'DONE' AND updated_at < $1`, [before]);
  }

  private async hasQueued(scope: SlotScope): Promise<boolean> {
    const { rows } = await this.db.query(`SELECT 1 FROM execution_slots WHERE ${scopeColumn(scope)} = $1 AND state = 'QUEUED' LIMIT 1`, [scopeId(scope)]);
    return rows.length > 0;
  }
}

const scopeColumn = (scope: SlotScope): string => (scope.kind === 'workflow' ? 'workflow_id' : 'tenant_id');
const scopeId = (scope: SlotScope): string => (scope.kind === 'workflow' ? scope.workflowId : scope.tenantId);

interface QueueRow {
  execution_id: string;
  workflow_id: string;
  state: 'QUEUED' | 'RUNNING';
  confirmed: boolean;
  user_id: string | null;
  max_concurrent: number | null;
  max_per_user: number | null;
}

const QUEUE_COLUMNS = 'execution_id, workflow_id, state, confirmed, user_id, max_concurrent, max_per_user';

/** Queued rows of a limited tenant read at a time, until its free slots are taken. */
const QUEUE_PAGE = 100;

/**
 * What admissible lets run of a queue, with `candidate` (a new start) at its end. A workflow's
 * queue is read whole. A limited tenant's is read as far as it takes: its running executions (at
 * most about its limit), then its queued ones a page at a time until the free slots are taken, so
 * that a start or an ending in a tenant with a long queue costs what it can change, not the queue.
 * The order is first in, first out, so admissible over a prefix decides the prefix as over all.
 */
async function admissibleIn(tx: SqlExecutor, scope: SlotScope, candidate?: QueuedSlot): Promise<string[]> {
  const tail = candidate ? [candidate] : [];
  if (scope.kind === 'workflow') {
    const rows = await tx.query<QueueRow>(`SELECT ${QUEUE_COLUMNS} FROM execution_slots WHERE workflow_id = $1 AND state IN ('RUNNING', 'QUEUED') ORDER BY seq`, [
      scope.workflowId,
    ]);
    return admissible([...slotsOf(rows), ...tail]);
  }
  const running = slotsOf(await tx.query<QueueRow>(`SELECT ${QUEUE_COLUMNS} FROM execution_slots WHERE tenant_id = $1 AND state = 'RUNNING'`, [scope.tenantId]));
  const free = scope.limit - running.length;
  if (free <= 0) return [];
  const queued: QueuedSlot[] = [];
  // Keyset pages (after the last seq read): rows the log feed changes meanwhile do not shift them.
  let after = '0';
  for (;;) {
    const { rows } = await tx.query<QueueRow & { seq: string }>(
      `SELECT ${QUEUE_COLUMNS}, seq::text AS seq FROM execution_slots WHERE tenant_id = $1 AND state = 'QUEUED' AND seq > $2::bigint ORDER BY seq LIMIT $3`,
      [scope.tenantId, after, QUEUE_PAGE],
    );
    const page = slotsOf({ rows });
    after = rows.at(-1)?.seq ?? after;
    queued.push(...page);
    const admitted = admissible([...running, ...queued], scope.limit);
    if (admitted.length >= free) return admitted;
    if (page.length < QUEUE_PAGE) return admissible([...running, ...queued, ...tail], scope.limit);
  }
}

function slotsOf({ rows }: { rows: QueueRow[] }): QueuedSlot[] {
  return rows.map((row) => ({
    executionId: row.execution_id,
    workflowId: row.workflow_id,
    state: row.state,
    confirmed: row.confirmed,
    userId: row.user_id,
    maxConcurrent: row.max_concurrent,
    maxPerUser: row.max_per_user,
  }));
}

async function lock(tx: SqlExecutor, scope: SlotScope): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`execution_slots:${scope.kind}:${scopeId(scope)}`]);
}
