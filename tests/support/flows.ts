import type { ExecutionEvent } from '../../src/domain/execution/events.js';
import type { NodeDefinition, WorkflowDefinition, WorkflowSettings } from '../../src/domain/workflow/workflow.js';
import type { RecordedEvent } from '../../src/eventstore/eventStore.js';
import type { ClaimedNode, ClaimOptions, WorkQueue } from '../../src/runtime/workQueue/workQueue.js';
import type { Harness } from './engineHarness.js';

/** A workflow from a manual trigger `start`, more nodes and [source, target, sourceOutput?] edges. */
export const flow = (nodes: NodeDefinition[], edges: Array<[string, string, string?]>, settings: WorkflowSettings = {}): WorkflowDefinition => ({
  name: 'test flow',
  nodes: [{ id: 'start', type: 'trigger.manual' }, ...nodes],
  connections: edges.map(([source, target, sourceOutput]) => ({ source, target, sourceOutput: sourceOutput ?? null })),
  settings,
});

/** Creates the workflow and starts it, without waiting for anything. */
export async function begin(h: Harness, definition: WorkflowDefinition, data: unknown = {}): Promise<string> {
  const workflow = await h.engine.workflows.create(definition);
  return (await h.engine.startTrigger(workflow.id, 'start', data)).id;
}

export type Recorded<T extends ExecutionEvent['type']> = RecordedEvent & Extract<ExecutionEvent, { type: T }>;

/** The execution's events of one type, optionally of one node, in order. */
export async function eventsOf<T extends ExecutionEvent['type']>(h: Harness, executionId: string, type: T, nodeId?: string): Promise<Array<Recorded<T>>> {
  const events = (await h.events(executionId)) as Array<RecordedEvent & ExecutionEvent>;
  return events.filter((event): event is Recorded<T> => event.type === type && (nodeId === undefined || (event.data as { nodeId?: string }).nodeId === nodeId));
}

/**
 * A manual trigger and a chain of `length` nodes after it, `noop` by default. A `noop` passes on
 * its input, which holds its upstream's output: along a noop chain every output nests the one
 * before, so the payload grows with the chain.
 */
export const chain = (length: number, node: Omit<NodeDefinition, 'id'> = { type: 'noop' }): WorkflowDefinition => {
  const nodes: NodeDefinition[] = [{ id: 'start', type: 'trigger.manual' }, ...Array.from({ length }, (_, i) => ({ ...node, id: `n${i}` }))];
  return { name: `chain of ${length}`, nodes, connections: nodes.slice(1).map((node, i) => ({ source: nodes[i]!.id, target: node.id })) };
};

/** A manual trigger fanning out to `width` noop branches that a merge joins. */
export const fanOutIn = (width: number): WorkflowDefinition => {
  const branches = Array.from({ length: width }, (_, i) => ({ id: `b${i}`, type: 'noop' }));
  return {
    name: `fan-out of ${width}`,
    nodes: [{ id: 'start', type: 'trigger.manual' }, ...branches, { id: 'join', type: 'merge' }],
    connections: branches.flatMap((branch) => [
      { source: 'start', target: branch.id },
      { source: branch.id, target: 'join' },
    ]),
  };
};

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const ms = (iso: string) => Date.parse(iso);

/** Claims from a queue until something is handed out: jobs are offered once the runtime has seen the NodeQueued. */
export async function claimWhenOffered(queue: WorkQueue, name: string, workerId: string, options: ClaimOptions = {}): Promise<ClaimedNode[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const claimed = await queue.claim(name, workerId, options);
    if (claimed.length > 0) return claimed;
    if (Date.now() > deadline) throw new Error(`nothing to claim on ${name}`);
    await sleep(10);
  }
}
