import type { ExecutionEvent, ExecutionStatus, NodeStatus } from './events.js';
import { evolve } from './evolve.js';
import type { ExecutionState } from './state.js';

export interface NodeStatusChange {
  nodeId: string;
  from: NodeStatus;
  to: NodeStatus;
  fromAttempt: number;
  toAttempt: number;
}

export interface ExecutionDiff {
  /** Null before the first event. */
  fromStatus: ExecutionStatus | null;
  toStatus: ExecutionStatus;
  /** Nodes whose status or attempt differs between the two points, in definition order. */
  nodes: NodeStatusChange[];
}

type NodeMark = Pick<NodeStatusChange, 'from' | 'fromAttempt'>;

interface Snapshot {
  status: ExecutionStatus | null;
  nodes: Map<string, NodeMark>;
}

/**
 * How an execution changed from after event `from` (0: before anything) to after event `to`, in
 * one fold: what `from` looked like is copied out before the fold goes on, since evolve changes
 * the state in place. `events` holds at least the first `to` events, and `to` >= 1.
 */
export function diffExecution(events: readonly ExecutionEvent[], from: number, to: number): ExecutionDiff {
  let state: ExecutionState | null = null;
  let before = snapshot(null);
  for (const [index, event] of events.slice(0, to).entries()) {
    if (index === from) before = snapshot(state);
    state = evolve(state, event);
  }
  if (!state) throw new Error('diffExecution needs at least one event');
  if (from === to) before = snapshot(state);
  return { fromStatus: before.status, toStatus: state.status, nodes: changes(state, before.nodes) };
}

function snapshot(state: ExecutionState | null): Snapshot {
  const nodes = [...(state?.nodes.values() ?? [])].map((node): [string, NodeMark] => [node.nodeId, { from: node.status, fromAttempt: node.attempt }]);
  return { status: state?.status ?? null, nodes: new Map(nodes) };
}

/** A node that did not exist yet (before the first event) was IDLE at attempt 0. */
function changes(state: ExecutionState, marks: ReadonlyMap<string, NodeMark>): NodeStatusChange[] {
  return [...state.nodes.values()].flatMap((node) => {
    const { from, fromAttempt } = marks.get(node.nodeId) ?? { from: 'IDLE' as const, fromAttempt: 0 };
    return from === node.status && fromAttempt === node.attempt ? [] : [{ nodeId: node.nodeId, from, to: node.status, fromAttempt, toAttempt: node.attempt }];
  });
}
