import type { ExecutionEvent } from '../../domain/execution/events.js';
import type { ExecutionFacts } from '../processManager/executionFacts.js';
import type { TableChanges } from '../processManager/tableChanges.js';
import type { Wait } from './wait.js';

const ENDS_EXECUTION: ReadonlySet<ExecutionEvent['type']> = new Set(['ExecutionCompleted', 'ExecutionFailed', 'ExecutionCancelled']);
const ENDS_ATTEMPT: ReadonlySet<ExecutionEvent['type']> = new Set([
  'NodeCompleted',
  'NodeFailed',
  'NodeRetryScheduled',
  'NodeSkipped',
  'NodeCancelled',
  'NodeReleased',
  'NodeReset',
]);

/**
 * The waits an event sets or clears: a started wait-run attempt becomes a row, and anything that
 * ends the attempt, or the execution, removes it (a cancel too). A row that outlives its attempt
 * (a replayed batch) only meets a refused signal.
 */
export function planWaits(changes: TableChanges<Wait>, event: ExecutionEvent, { executionId, tenantId }: ExecutionFacts): void {
  if (event.type === 'NodeStarted') {
    const { nodeId, attempt, wait } = event.data;
    if (!wait) return;
    changes.put({ id: `${executionId}:${nodeId}`, executionId, nodeId, attempt, tenantId, eventName: wait.event, match: wait.match });
  } else if (ENDS_EXECUTION.has(event.type)) {
    changes.clearExecution(executionId);
  } else if (ENDS_ATTEMPT.has(event.type)) {
    changes.clearNode(executionId, (event.data as { nodeId: string }).nodeId);
  }
}
