import { DomainError, invalidState } from '../errors.js';
import { TERMINAL_EXECUTION_STATUSES, type ExecutionEvent, type ExecutionStarted, type NodeReused, type ReusedStatus } from './events.js';
import { buildGraph, reachableFrom } from '../workflow/graph.js';
import type { Readiness } from './readiness.js';
import type { ExecutionState, NodeState } from './state.js';

/**
 * Rerun from a node: a new execution of a finished one runs `nodeId` and everything downstream of
 * it again, and takes every other node's recorded result instead of running it (NodeReused).
 * Only COMPLETED, FAILED and SKIPPED nodes have a result to take; a node that never got one
 * (IDLE, or CANCELLED when the original ended early) starts IDLE and its trigger rule decides it
 * from the reused upstream, like any node.
 */
export interface RerunRequest {
  original: ExecutionState;
  nodeId: string;
  /** Replaces the node's recorded input (the trigger data, when it is the trigger); null or absent: as recorded. */
  data?: unknown;
}

const REUSABLE: ReadonlySet<string> = new Set<ReusedStatus>(['COMPLETED', 'FAILED', 'SKIPPED']);

/** The start of a rerun: `started` (decided as for a fresh start) made a rerun, then the reused results. */
export function rerunEvents(started: ExecutionStarted, request: RerunRequest): ExecutionEvent[] {
  const { original, nodeId } = request;
  if (!TERMINAL_EXECUTION_STATUSES.has(original.status)) {
    throw invalidState(`execution ${original.id} is ${original.status}: only a finished execution can be re-run`, { status: original.status });
  }
  const graph = buildGraph(started.data.nodes, started.data.connections);
  if (!graph.nodes.has(nodeId)) throw new DomainError('NOT_FOUND', `the re-run workflow has no node ${nodeId} downstream of ${started.data.triggerNodeId}`);
  const runsAgain = reachableFrom(graph, [nodeId]);
  const reused = reusableNodes(original).filter((node) => graph.nodes.has(node.nodeId) && !runsAgain.has(node.nodeId));
  return [asRerun(started, request), ...reused.map((node) => reusedEvent(original.id, node, started.data.at))];
}

function asRerun(started: ExecutionStarted, { original, nodeId, data = null }: RerunRequest): ExecutionStarted {
  const isTrigger = nodeId === started.data.triggerNodeId;
  return {
    type: 'ExecutionStarted',
    data: {
      ...started.data,
      triggerData: isTrigger && data !== null ? data : original.triggerData,
      rerunOf: original.id,
      rerunFrom: { nodeId, input: isTrigger ? {} : inputOf(original, nodeId, data) },
    },
  };
}

/** A rerun's first node is queued once, with its given input, whatever its trigger rule says. */
export function forcedByRerun(state: ExecutionState, nodeId: string): Readiness | null {
  const forced = state.rerunFrom?.nodeId === nodeId && state.nodes.get(nodeId)!.attempt === 0;
  return forced ? { kind: 'ready', input: state.rerunFrom!.input } : null;
}

function inputOf(original: ExecutionState, nodeId: string, data: unknown): Record<string, unknown> {
  if (data === null) return original.nodes.get(nodeId)?.input ?? {};
  if (typeof data === 'object' && data !== null && !Array.isArray(data)) return data as Record<string, unknown>;
  throw new DomainError('BAD_USER_INPUT', `data must be a JSON object: it replaces the input of ${nodeId} ({ <upstream id>: output })`);
}

/** Completed nodes first, in the order they completed, so that the rerun's execution path starts as the original's did. */
function reusableNodes(original: ExecutionState): NodeState[] {
  const completed = original.executionPath.map((id) => original.nodes.get(id)!);
  const others = [...original.nodes.values()].filter((node) => node.status !== 'COMPLETED' && REUSABLE.has(node.status));
  return [...completed, ...others];
}

function reusedEvent(fromExecutionId: string, node: NodeState, at: string): NodeReused {
  const { nodeId, attempt, input, output, outputName, error, skipReason } = node;
  return {
    type: 'NodeReused',
    data: { nodeId, fromExecutionId, status: node.status as ReusedStatus, attempt, input, output: output ?? null, outputName, error, skipReason, at },
  };
}
