import type { SqlExecutor } from '../db/sqlClient.js';
import type { ExecutionEventType, ExecutionStarted } from '../domain/execution/events.js';
import type { RecordedEvent } from '../eventstore/eventStore.js';

const FINISHING: readonly ExecutionEventType[] = ['ExecutionCompleted', 'ExecutionFailed', 'ExecutionCancelled'];
/** A queued execution got its slot, or a finished one goes on (manual retry) and takes one again. */
const RUNNING_AGAIN: readonly ExecutionEventType[] = ['ExecutionAdmitted', 'ExecutionReopened'];

/** The execution events that take, free or wait for a slot. */
export const SLOT_EVENT_TYPES: ExecutionEventType[] = ['ExecutionStarted', ...RUNNING_AGAIN, ...FINISHING];

const is = (types: readonly string[], type: string): boolean => types.includes(type);

/**
 * Applies slot-changing events to `execution_slots`, in log order, and returns the workflows whose
 * queue may move now: a slot was freed, or a queued start was confirmed.
 */
export async function applySlotEvents(tx: SqlExecutor, events: RecordedEvent[], now: Date): Promise<Set<string>> {
  const movable = new Set<string>();
  for (const event of events) {
    const workflowId = await applyOne(tx, event, now);
    if (workflowId !== null) movable.add(workflowId);
  }
  return movable;
}

async function applyOne(tx: SqlExecutor, event: RecordedEvent, now: Date): Promise<string | null> {
  if (event.type === 'ExecutionStarted') return started(tx, (event as unknown as ExecutionStarted).data, now);
  const state = is(RUNNING_AGAIN, event.type) ? 'RUNNING' : is(FINISHING, event.type) ? 'DONE' : null;
  if (state === null) return null;
  const { rows } = await tx.query<{ workflow_id: string }>(
    `UPDATE execution_slots SET state = $2, confirmed = true, version = $3, updated_at = $4
     WHERE execution_id = $1 AND version < $3 RETURNING workflow_id`,
    [event.metadata.correlationId, state, event.streamVersion, now],
  );
  return state === 'DONE' ? (rows[0]?.workflow_id ?? null) : null;
}

/** Confirms the reservation made for this start, or records a start made without one. */
async function started(tx: SqlExecutor, data: ExecutionStarted['data'], now: Date): Promise<string | null> {
  const state = data.waitsForSlot ? 'QUEUED' : 'RUNNING';
  await tx.query(
    `INSERT INTO execution_slots (execution_id, workflow_id, trigger_node_id, trigger_type, state, confirmed, max_concurrent, version, updated_at)
     VALUES ($1, $2, $3, $4, $5, true, $6, 1, $7)
     ON CONFLICT (execution_id) DO UPDATE SET confirmed = true, version = 1, updated_at = EXCLUDED.updated_at
     WHERE execution_slots.version = 0 AND execution_slots.state = EXCLUDED.state`,
    [data.executionId, data.workflowId, data.triggerNodeId, data.triggerType, state, data.settings.maxConcurrentExecutions ?? null, now],
  );
  return data.waitsForSlot ? data.workflowId : null;
}
