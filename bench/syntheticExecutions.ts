import { randomUUID } from 'node:crypto';
import type { ExecutionCommand } from '../src/domain/execution/commands.js';
import { decide } from '../src/domain/execution/decide.js';
import { executionStreamId, type ExecutionEvent } from '../src/domain/execution/events.js';
import { evolve } from '../src/domain/execution/evolve.js';
import type { ExecutionState } from '../src/domain/execution/state.js';
import type { Workflow } from '../src/domain/workflow/workflow.js';
import type { EventStore } from '../src/eventstore/eventStore.js';
import { HTTP_NODE_DEFAULTS } from '../src/nodes/http.js';
import { builtinNodeTypes, NodeTypeRegistry } from '../src/nodes/registry.js';

const NODE_TYPES = new NodeTypeRegistry(builtinNodeTypes(HTTP_NODE_DEFAULTS)).capabilities;

/**
 * The events a real run of the workflow would record, made by the engine's own decider without
 * running anything, so that a large log can be written quickly for the rebuild benchmark.
 */
export function syntheticRun(workflow: Workflow, executionId: string, now: Date): ExecutionEvent[] {
  const events: ExecutionEvent[] = [];
  let state: ExecutionState | null = null;
  const apply = (command: ExecutionCommand) => {
    for (const event of decide(command, state, now, NODE_TYPES)) {
      state = evolve(state, event);
      events.push(event);
    }
  };
  apply({ type: 'StartExecution', data: { executionId, workflow, triggerNodeId: 'start', triggerData: { n: 1 }, waitsForSlot: false } });
  apply({ type: 'QueueReadyNodes' });
  while (state!.status === 'RUNNING') {
    const queued = [...state!.nodes.values()].filter((node) => node.status === 'QUEUED');
    for (const node of queued) {
      apply({ type: 'StartNode', data: { nodeId: node.nodeId, attempt: node.attempt, workerId: 'bench', leaseMs: null } });
      apply({ type: 'CompleteNode', data: { nodeId: node.nodeId, attempt: node.attempt, output: node.input, outputName: null } });
    }
    apply({ type: 'QueueReadyNodes' });
  }
  return events;
}

/** Appends synthetic executions until the log holds at least `minEvents` execution events. */
export async function writeSyntheticLog(store: EventStore, workflow: Workflow, minEvents: number): Promise<number> {
  let written = 0;
  const now = new Date();
  while (written < minEvents) {
    const batch = Array.from({ length: 8 }, () => {
      const executionId = randomUUID();
      return { executionId, events: syntheticRun(workflow, executionId, now) };
    });
    await Promise.all(
      batch.map(({ executionId, events }) =>
        store.append(
          executionStreamId(executionId),
          events.map((event) => ({ id: randomUUID(), type: event.type, data: event.data, metadata: { correlationId: executionId, causationId: null, userId: null } })),
          'no_stream',
        ),
      ),
    );
    written += batch.reduce((sum, run) => sum + run.events.length, 0);
  }
  return written;
}
