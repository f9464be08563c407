import { SETTLED_NODE_STATUSES, type ExecutionStatus, type NodeStatus } from '../domain/execution/events.js';
import type { ExecutionState, NodeState } from '../domain/execution/state.js';
import { topologicalOrder } from '../domain/workflow/graph.js';
import { elapsedMs, estimateRemainingMs, executionMetrics } from './executionMetrics.js';
import { dependencyEdge, dependencyRows, isoOrNull, isoTimestamp, nodeOrdinals, nodeSnapshotFromRow, type FlowExecutionRow, type NodeStateRow } from './executionRows.js';
import type { Adjacency, DependencyEdge, DurationHistory, ExecutionFields, ExecutionSnapshot, ExecutionView, NodeSnapshot, NodeStateView } from './executionViewTypes.js';

/**
 * What clients see of an execution (DESIGN section 5). It is computed in one place,
 * `buildExecutionView`, from a snapshot that either a folded state or the read-model rows
 * provide, so that the live view, time travel and the read model always agree.
 */

export function buildExecutionView(snapshot: ExecutionSnapshot, history: DurationHistory = new Map(), now: Date = new Date()): ExecutionView {
  const { nodes, dependencies } = snapshot;
  const order = topologicalOrder(
    nodes.map((node) => node.nodeId),
    dependencies,
  );
  const metrics = executionMetrics(nodes, dependencies, order);
  const withStatus = (status: NodeStatus) => nodes.filter((node) => node.status === status).map((node) => node.nodeId);
  const settled = nodes.filter((node) => SETTLED_NODE_STATUSES.has(node.status)).length;
  return {
    id: snapshot.id,
    workflowId: snapshot.workflowId,
    workflowVersion: snapshot.workflowVersion,
    status: snapshot.status,
    triggerNodeId: snapshot.triggerNodeId,
    triggerType: snapshot.triggerType,
    progress: nodes.length === 0 ? 0 : (settled / nodes.length) * 100,
    startedAt: snapshot.startedAt,
    finishedAt: snapshot.finishedAt,
    durationMs: elapsedMs(snapshot.startedAt, snapshot.finishedAt),
    error: snapshot.error,
    errorCode: snapshot.errorCode,
    rerunOf: snapshot.rerunOf,
    parentExecutionId: snapshot.parentExecutionId,
    parentNodeId: snapshot.parentNodeId,
    itemIndex: snapshot.itemIndex,
    nodeStates: nodes.map((node) => nodeStateView(node, snapshot)),
    executionPath: snapshot.executionPath,
    currentlyExecuting: withStatus('RUNNING'),
    completedNodes: withStatus('COMPLETED'),
    failedNodes: withStatus('FAILED'),
    queuedNodes: withStatus('QUEUED'),
    estimatedTimeRemainingMs: estimateRemainingMs({
      status: snapshot.status,
      nodes,
      dependencies,
      order,
      history,
      ownAverageMs: metrics.averageNodeDurationMs,
      now,
    }),
    metrics,
    streamVersion: snapshot.streamVersion,
  };
}

export function nodeStateView(node: NodeSnapshot, adjacency: Adjacency): NodeStateView {
  return {
    ...node,
    durationMs: elapsedMs(node.startedAt, node.finishedAt),
    dependencies: [...(adjacency.dependencies.get(node.nodeId) ?? [])],
    dependents: [...(adjacency.dependents.get(node.nodeId) ?? [])],
  };
}

/** Both directions of the edges, each list in definition order whatever order the edges came in. */
export function adjacencyOf(edges: Iterable<DependencyEdge>): Adjacency {
  const sorted = [...edges];
  const dependencies = new Map<string, string[]>();
  sorted.sort((a, b) => a.dependsOnOrdinal - b.dependsOnOrdinal);
  for (const edge of sorted) push(dependencies, edge.nodeId, edge.dependsOn);
  const dependents = new Map<string, string[]>();
  sorted.sort((a, b) => a.nodeOrdinal - b.nodeOrdinal);
  for (const edge of sorted) push(dependents, edge.dependsOn, edge.nodeId);
  return { dependencies, dependents };
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** The view of a folded execution: what the live API and time travel show. */
export function executionViewFromState(state: ExecutionState, history?: DurationHistory, now?: Date): ExecutionView {
  const snapshot: ExecutionSnapshot = {
    id: state.id,
    workflowId: state.workflowId,
    workflowVersion: state.workflowVersion,
    status: state.status,
    triggerNodeId: state.triggerNodeId,
    triggerType: state.triggerType,
    startedAt: state.startedAt,
    finishedAt: state.finishedAt,
    error: state.error,
    errorCode: state.errorCode,
    rerunOf: state.rerunOf,
    parentExecutionId: state.parent?.executionId ?? null,
    parentNodeId: state.parent?.nodeId ?? null,
    itemIndex: state.parent?.itemIndex ?? null,
    executionPath: [...state.executionPath],
    streamVersion: state.version,
    nodes: [...state.nodes.values()].map(nodeSnapshotOfState),
    ...adjacencyOf(dependencyRows(state, nodeOrdinals(state)).map(dependencyEdge)),
  };
  return buildExecutionView(snapshot, history, now);
}

function nodeSnapshotOfState(node: NodeState): NodeSnapshot {
  return {
    nodeId: node.nodeId,
    status: node.status,
    attempt: node.attempt,
    progress: node.progress,
    startedAt: node.startedAt,
    finishedAt: node.finishedAt,
    error: node.error,
    errorCode: node.errorCode,
    skipReason: node.skipReason,
    message: node.message,
    // The read model can't tell a missing value from null: neither may this view.
    input: node.input ?? null,
    output: node.output ?? null,
    outputName: node.outputName,
    reusedFrom: node.reusedFrom,
  };
}

/** The execution's own facts from its read-model row. */
export function executionFieldsFromRow(execution: FlowExecutionRow): ExecutionFields {
  return {
    id: execution.id,
    workflowId: execution.workflow_id,
    workflowVersion: execution.workflow_version,
    status: execution.status as ExecutionStatus,
    triggerNodeId: execution.trigger_node_id,
    triggerType: execution.trigger_type,
    startedAt: isoTimestamp(execution.started_at),
    finishedAt: isoOrNull(execution.finished_at),
    error: execution.error,
    errorCode: execution.error_code,
    rerunOf: execution.rerun_of,
    parentExecutionId: execution.parent_execution_id ?? null,
    parentNodeId: execution.parent_node_id ?? null,
    itemIndex: execution.item_index ?? null,
    executionPath: execution.execution_path,
    streamVersion: execution.stream_version,
  };
}

/** The same view from the read model's rows: `edges` are the execution's dependency edges. */
export function executionViewFromRows(
  execution: FlowExecutionRow,
  nodes: readonly NodeStateRow[],
  edges: Iterable<DependencyEdge>,
  history?: DurationHistory,
  now?: Date,
): ExecutionView {
  const snapshot: ExecutionSnapshot = {
    ...executionFieldsFromRow(execution),
    nodes: [...nodes].sort((a, b) => a.ordinal - b.ordinal).map(nodeSnapshotFromRow),
    ...adjacencyOf(edges),
  };
  return buildExecutionView(snapshot, history, now);
}
