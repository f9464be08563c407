import type { ExecutionEvent } from '../../domain/execution/events.js';
import { queueOf } from '../../nodes/external.js';
import { runModeOf, type ExecutionFacts } from '../processManager/executionFacts.js';
import type { TableChanges } from '../processManager/tableChanges.js';
import type { EndedAttempt } from './jobNotices.js';
import type { ExternalJob } from './workQueueStore.js';

/**
 * The claimable jobs an event offers or withdraws: a queued attempt of a worker-run node is
 * offered on its node's queue (a retry from its retryAt on); starting, settling or resetting the
 * node withdraws it. A paused execution offers nothing, and offers its queued nodes again when it
 * resumes (which nodes wait is read from its current state, loaded for a resume). An attempt that
 * ends other than by its worker's completion goes to `ended`, so that the worker holding it hears.
 */
export function planJobs(changes: TableChanges<ExternalJob>, event: ExecutionEvent, facts: ExecutionFacts, ended: EndedAttempt[] = []): void {
  const { executionId, nodes, current, tenantId } = facts;
  endAttempt(ended, event, facts);
  const offer = (nodeId: string, attempt: number, availableAt: string) => {
    if (runModeOf(facts, nodeId) !== 'worker') return;
    const queue = queueOf(nodes.get(nodeId)?.parameters);
    changes.put({ id: `${executionId}:${nodeId}`, executionId, nodeId, attempt, queue, availableAt: new Date(availableAt), tenantId });
  };
  switch (event.type) {
    case 'NodeQueued':
      return offer(event.data.nodeId, event.data.attempt, event.data.at);
    case 'NodeRetryScheduled':
      return offer(event.data.nodeId, event.data.nextAttempt, event.data.retryAt);
    case 'NodeReleased':
      return offer(event.data.nodeId, event.data.nextAttempt, event.data.at);
    case 'NodeStarted':
    case 'NodeCompleted':
    case 'NodeFailed':
    case 'NodeSkipped':
    case 'NodeCancelled':
    case 'NodeReset':
      return changes.clearNode(executionId, event.data.nodeId);
    case 'ExecutionPaused':
    case 'ExecutionCompleted':
    case 'ExecutionFailed':
    case 'ExecutionCancelled':
      return changes.clearExecution(executionId);
    case 'ExecutionResumed':
      for (const node of current?.nodes.values() ?? []) {
        if (node.status === 'QUEUED') offer(node.nodeId, node.attempt, node.retryAt ?? event.data.at);
      }
      return;
  }
}

/** The attempt-ending events a worker cannot know of itself (its own failNode among them: harmless). */
function endAttempt(ended: EndedAttempt[], event: ExecutionEvent, facts: ExecutionFacts): void {
  switch (event.type) {
    case 'NodeCancelled':
    case 'NodeFailed':
    case 'NodeRetryScheduled':
    case 'NodeReleased': {
      const { nodeId, attempt } = event.data;
      if (runModeOf(facts, nodeId) !== 'worker') return;
      ended.push({ tenantId: facts.tenantId, queue: queueOf(facts.nodes.get(nodeId)?.parameters), executionId: facts.executionId, nodeId, attempt });
    }
  }
}
