import type { ExecutionEvent } from '../../domain/execution/events.js';
import { DEFAULT_TENANT } from '../../domain/tenants.js';
import type { ExecutionFacts } from '../processManager/executionFacts.js';
import type { TableChanges } from '../processManager/tableChanges.js';
import type { Wait } from './wait.js';

/**
 * The waits an event sets or clears: a started wait-run attempt becomes a row, and anything that
 * ends the attempt, or the execution, removes it (a cancel too). A row that outlives its attempt
 * (a replayed batch) only meets a refused signal.
 */
export function planWaits(changes: TableChanges<Wait>, event: ExecutionEvent, { executionId }: ExecutionFacts): void {
  switch (event.type) {
    case 'NodeStarted': {
      const { nodeId, attempt, wait } = event.data;
      if (!wait) return;
      // TENANT: executions carry no tenant yet; every wait is the default tenant's.
      const tenantId = DEFAULT_TENANT;
      changes.put({ id: `${executionId}:${nodeId}`, executionId, nodeId, attempt, tenantId, eventName: wait.event, match: wait.match });
      return;
    }
    case 'ExecutionCompleted':
    case 'ExecutionFailed':
    case 'ExecutionCancelled':
      changes.clearExecution(executionId);
      return;
    case 'NodeCompleted':
    case 'NodeFailed':
    case 'NodeRetryScheduled':
    case 'NodeSkipped':
    case 'NodeCancelled':
    case 'NodeReleased':
    case 'NodeReset':
      changes.clearNode(executionId, event.data.nodeId);
      return;
  }
}
