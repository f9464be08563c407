import type { SqlExecutor } from '../../db/sqlClient.js';
import type { ExecutionEventType, ExecutionStarted } from '../../domain/execution/events.js';
import { tenantOf } from '../../domain/tenants.js';
import type { RecordedEvent } from '../../eventstore/eventStore.js';

const FINISHING: readonly ExecutionEventType[] = ['ExecutionCompleted', 'ExecutionFailed', 'ExecutionCancelled'];
/** A queued execution got its slot, or a finished one goes on (manual retry) and takes one again. */
const RUNNING_AGAIN: readonly ExecutionEventType[] = ['ExecutionAdmitted', 'ExecutionReopened'];

/** The execution events that take, free or wait for a slot. */
export const SLOT_EVENT_TYPES: ExecutionEventType[] = ['ExecutionStarted', ...RUNNING_AGAIN, ...FINISHING];

const is = (types: readonly string[], type: string): boolean => types.includes(type);

/** A workflow whose queue may move, and its tenant (whose queue it is when the tenant has a limit). */
export interface MovableQueue {
  workflowId: string;
  tenantId: string;
}

/**
 * Applies slot-changing events to `execution_slots` (two statements per batch, whatever its size)
 * and returns the workflows whose queue may move now: a slot was freed, or a queued start was
 * confirmed. Per execution only the batch's last change of state counts, as in log order.
 */
export async function applySlotEvents(tx: SqlExecutor, events: RecordedEvent[], now: Date): Promise<MovableQueue[]> {
  const starts = events.filter((event) => event.type === 'ExecutionStarted').map((event) => (event as unknown as ExecutionStarted).data);
  const latest = new Map<string, { state: 'RUNNING' | 'DONE'; version: number }>();
  for (const event of events) {
    const state = is(RUNNING_AGAIN, event.type) ? 'RUNNING' : is(FINISHING, event.type) ? 'DONE' : null;
    if (state !== null) latest.set(event.metadata.correlationId, { state, version: event.streamVersion });
  }
  await confirmStarts(tx, starts, now);
  const freed = await moveSlots(tx, latest, now);
  const movable = [...starts.filter((start) => start.waitsForSlot).map((start) => ({ workflowId: start.workflowId, tenantId: tenantOf(start) })), ...freed];
  return [...new Map(movable.map((queue) => [JSON.stringify(queue), queue])).values()];
}

/** Confirms the reservations made for these starts, or records starts made without one. */
async function confirmStarts(tx: SqlExecutor, starts: Array<ExecutionStarted['data']>, now: Date): Promise<void> {
  if (starts.length === 0) return;
  await tx.query(
    `INSERT INTO execution_slots (execution_id, workflow_id, trigger_node_id, trigger_type, state, confirmed, max_concurrent, user_id, max_per_user, tenant_id, version, updated_at)
     SELECT s.execution_id, s.workflow_id, s.trigger_node_id, s.trigger_type, s.state, true, s.max_concurrent, s.user_id, s.max_per_user, s.tenant_id, 1, $9
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::integer[], $7::text[], $8::integer[], $10::text[])
         AS s(execution_id, workflow_id, trigger_node_id, trigger_type, state, max_concurrent, user_id, max_per_user, tenant_id)
     ON CONFLICT (execution_id) DO UPDATE SET confirmed = true, version = 1, updated_at = EXCLUDED.updated_at
     WHERE execution_slots.version = 0 AND execution_slots.state = EXCLUDED.state`,
    [
      starts.map((start) => start.executionId),
      starts.map((start) => start.workflowId),
      starts.map((start) => start.triggerNodeId),
      starts.map((start) => start.triggerType),
      starts.map((start) => (start.waitsForSlot ? 'QUEUED' : 'RUNNING')),
      starts.map((start) => start.settings.maxConcurrentExecutions ?? null),
      starts.map((start) => start.userId),
      starts.map((start) => start.settings.maxConcurrentExecutionsPerUser ?? null),
      now,
      starts.map(tenantOf),
    ],
  );
}

/** Moves slots forward (never back: `version`); returns the queues of the slots freed. */
async function moveSlots(tx: SqlExecutor, latest: Map<string, { state: string; version: number }>, now: Date): Promise<MovableQueue[]> {
  if (latest.size === 0) return [];
  const { rows } = await tx.query<{ workflow_id: string; tenant_id: string; state: string }>(
    `UPDATE execution_slots s SET state = m.state, confirmed = true, version = m.version, updated_at = $4
       FROM unnest($1::text[], $2::text[], $3::integer[]) AS m(execution_id, state, version)
      WHERE s.execution_id = m.execution_id AND s.version < m.version
      RETURNING s.workflow_id, s.tenant_id, m.state`,
    [[...latest.keys()], [...latest.values()].map((move) => move.state), [...latest.values()].map((move) => move.version), now],
  );
  return rows.filter((row) => row.state === 'DONE').map((row) => ({ workflowId: row.workflow_id, tenantId: row.tenant_id }));
}
