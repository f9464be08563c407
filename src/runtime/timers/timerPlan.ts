import type { ExecutionEvent } from '../../domain/execution/events.js';
import { runModeOf, type ExecutionFacts } from '../processManager/executionFacts.js';
import type { TableChanges } from '../processManager/tableChanges.js';
import { timer, type Timer } from './timer.js';

const after = (at: string, ms: number) => new Date(Date.parse(at) + ms);

/**
 * The timers an event sets or clears. A started attempt gets its lease, its timeout, (for a
 * timer-run node, a delay) its end and (for a wait with timeoutMs) its deadline; a scheduled retry of a node the runtime runs gets its start
 * (a worker-run node's retry waits in the work queue instead); anything that ends an attempt clears its timers.
 */
export function planTimers(changes: TableChanges<Timer>, event: ExecutionEvent, facts: ExecutionFacts): void {
  const { executionId, nodes } = facts;
  switch (event.type) {
    case 'ExecutionStarted': {
      const timeoutMs = event.data.settings.executionTimeoutMs;
      if (timeoutMs) changes.put(timer('executionTimeout', executionId, '', 0, after(event.data.at, timeoutMs)));
      return;
    }
    case 'ExecutionCompleted':
    case 'ExecutionFailed':
    case 'ExecutionCancelled':
      changes.clearExecution(executionId);
      return;
    case 'NodeStarted': {
      const { nodeId, attempt, leaseExpiresAt, wakeAt, wait, at } = event.data;
      const node = nodes.get(nodeId);
      changes.clearNode(executionId, nodeId);
      if (leaseExpiresAt) changes.put(timer('lease', executionId, nodeId, attempt, new Date(leaseExpiresAt)));
      if (node?.timeoutMs) changes.put(timer('nodeTimeout', executionId, nodeId, attempt, after(at, node.timeoutMs)));
      if (wakeAt) changes.put(timer('delay', executionId, nodeId, attempt, new Date(wakeAt)));
      if (wait?.timeoutAt) changes.put(timer('waitTimeout', executionId, nodeId, attempt, new Date(wait.timeoutAt)));
      return;
    }
    case 'NodeProgressed': {
      const { nodeId, attempt, leaseExpiresAt } = event.data;
      if (leaseExpiresAt) changes.put(timer('lease', executionId, nodeId, attempt, new Date(leaseExpiresAt)));
      return;
    }
    case 'NodeRetryScheduled': {
      const { nodeId, nextAttempt, retryAt } = event.data;
      changes.clearNode(executionId, nodeId);
      if (runModeOf(facts, nodeId) !== 'worker') changes.put(timer('retry', executionId, nodeId, nextAttempt, new Date(retryAt)));
      return;
    }
    case 'NodeCompleted':
    case 'NodeFailed':
    case 'NodeSkipped':
    case 'NodeCancelled':
    case 'NodeReleased':
    case 'NodeReset':
      changes.clearNode(executionId, event.data.nodeId);
      return;
  }
}
