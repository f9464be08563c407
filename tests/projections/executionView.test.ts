import { describe, expect, it } from 'vitest';
import type { ExecutionEvent } from '../../src/domain/execution/events.js';
import { foldExecution } from '../../src/domain/execution/evolve.js';
import type { ExecutionState } from '../../src/domain/execution/state.js';
import { topologicalOrder } from '../../src/domain/workflow/graph.js';
import { heaviestPath } from '../../src/projections/criticalPath.js';
import { executionViewFromState } from '../../src/projections/executionView.js';

const T0 = Date.parse('2025-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

/** start -> a, start -> b, a -> join, b -> join */
const diamond: ExecutionEvent = {
  type: 'ExecutionStarted',
  data: {
    executionId: 'x1',
    workflowId: 'w1',
    workflowVersion: 1,
    triggerNodeId: 'start',
    triggerType: 'trigger.manual',
    triggerData: {},
    nodes: [
      { id: 'start', type: 'trigger.manual' },
      { id: 'a', type: 'noop' },
      { id: 'b', type: 'noop' },
      { id: 'join', type: 'merge' },
    ],
    connections: [
      { source: 'start', target: 'a' },
      { source: 'start', target: 'b' },
      { source: 'a', target: 'join' },
      { source: 'b', target: 'join' },
    ],
    settings: {},
    waitsForSlot: false,
    rerunOf: null,
    userId: null,
    at: at(0),
  },
};

/** The node runs from `from` to `to` ms after T0; without `to` it is still running. */
function run(nodeId: string, from: number, to?: number): ExecutionEvent[] {
  const events: ExecutionEvent[] = [
    { type: 'NodeQueued', data: { nodeId, attempt: 1, input: {}, at: at(from) } },
    { type: 'NodeStarted', data: { nodeId, attempt: 1, workerId: 'w', leaseExpiresAt: null, at: at(from) } },
  ];
  if (to !== undefined) events.push({ type: 'NodeCompleted', data: { nodeId, attempt: 1, output: null, outputName: null, at: at(to) } });
  return events;
}

const fold = (...events: ExecutionEvent[][]): ExecutionState => foldExecution([diamond, ...events.flat()])!;

describe('execution view', () => {
  it('measures a finished execution: averages, longest node, critical path, utilisation', () => {
    const state = fold(run('start', 0, 0), run('a', 0, 100), run('b', 0, 300), run('join', 300, 350), [{ type: 'ExecutionCompleted', data: { status: 'COMPLETED', at: at(360) } }]);
    const view = executionViewFromState(state);
    expect(view).toMatchObject({ status: 'COMPLETED', progress: 100, durationMs: 360, estimatedTimeRemainingMs: 0 });
    expect(view.completedNodes).toEqual(['start', 'a', 'b', 'join']);
    expect(view.nodeStates.find((node) => node.nodeId === 'join')).toMatchObject({ durationMs: 50, dependencies: ['a', 'b'], dependents: [] });
    expect(view.metrics).toEqual({
      totalNodes: 4,
      completedNodes: 4,
      failedNodes: 0,
      averageNodeDurationMs: (0 + 100 + 300 + 50) / 4,
      longestRunningNode: 'b',
      bottleneckNodes: ['b', 'join'],
      // busy 450 ms over a 350 ms span that peaked at two nodes at once
      parallelismUtilization: 450 / (350 * 2),
    });
  });

  it('estimates the rest from history, minus what a running node already ran', () => {
    const state = fold(run('start', 0, 0), run('a', 0), run('b', 0, 300));
    const now = new Date(T0 + 40);
    const view = executionViewFromState(
      state,
      new Map([
        ['a', 100],
        ['join', 50],
      ]),
      now,
    );
    expect(view).toMatchObject({ status: 'RUNNING', progress: 50, currentlyExecuting: ['a'], durationMs: null });
    // a has 60 ms left, then join takes 50; b is done
    expect(view.estimatedTimeRemainingMs).toBe(110);
  });

  it('falls back to its own average node duration, and knows nothing before a node finished', () => {
    const running = fold(run('start', 0, 0), run('a', 0), run('b', 0, 300));
    // own average (0 + 300) / 2 = 150: a has 110 left, join 150
    expect(executionViewFromState(running, new Map(), new Date(T0 + 40)).estimatedTimeRemainingMs).toBe(260);
    const fresh = fold(run('start', 0));
    expect(executionViewFromState(fresh).estimatedTimeRemainingMs).toBeNull();
    expect(executionViewFromState(fresh).metrics).toMatchObject({ averageNodeDurationMs: null, longestRunningNode: null, bottleneckNodes: [], parallelismUtilization: null });
  });

  it('finds the heaviest path of a 10,000-node chain in one pass', () => {
    const ids = Array.from({ length: 10_000 }, (_, index) => `n${index}`);
    const dependencies = new Map(ids.map((id, index) => [id, index === 0 ? [] : [ids[index - 1]!]]));
    const order = topologicalOrder([...ids].reverse(), dependencies);
    expect(order).toEqual(ids);
    const { path, weight } = heaviestPath(order, dependencies, () => 1);
    expect(path).toEqual(ids);
    expect(weight).toBe(10_000);
  });
});
