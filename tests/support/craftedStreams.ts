import { randomUUID } from 'node:crypto';
import type { ExecutionEvent, ExecutionStarted } from '../../src/domain/execution/events.js';
import { executionStreamId } from '../../src/domain/execution/events.js';
import type { NodeDefinition } from '../../src/domain/workflow/workflow.js';
import { NO_STREAM, type EventStore } from '../../src/eventstore/eventStore.js';

/**
 * Execution streams as an older version of Cascade could have written them, with values that
 * today's validation refuses, appended straight to the event store: the poison the runtime and
 * the projections must contain.
 */
export function startedEvent(executionId: string, nodes: NodeDefinition[], workflowId = 'crafted-workflow'): ExecutionStarted {
  return {
    type: 'ExecutionStarted',
    data: {
      executionId,
      workflowId,
      workflowVersion: 1,
      triggerNodeId: 'start',
      triggerType: 'trigger.manual',
      triggerData: {},
      nodes: [{ id: 'start', type: 'trigger.manual' }, ...nodes],
      connections: nodes.map((node) => ({ source: 'start', target: node.id })),
      settings: {},
      waitsForSlot: false,
      rerunOf: null,
      userId: null,
      at: new Date().toISOString(),
    },
  };
}

/** A delay of 1e300 ms: its end is no date, which used to throw inside the runtime's checkpoint transaction. */
export const endlessDelay: NodeDefinition = { id: 'wait', type: 'delay', parameters: { ms: 1e300 } };
/** Validation refuses an initial retry delay over a day, but an older log may hold one: the decider's retry date is then no date. */
export const endlessRetryDelay: NodeDefinition = { id: 'flaky', type: 'fail', retry: { maxAttempts: 5, initialDelayMs: 1e300 } };

export async function appendStream(store: EventStore, executionId: string, events: ExecutionEvent[]): Promise<void> {
  await store.append(
    executionStreamId(executionId),
    events.map((event) => ({ id: randomUUID(), type: event.type, data: event.data, metadata: { correlationId: executionId, causationId: null, userId: null } })),
    NO_STREAM,
  );
}
