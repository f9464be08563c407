import type { ExecutionState, NodeState } from '../domain/execution/state.js';
import type { NodeStatus } from '../domain/execution/events.js';
import { elapsedMs } from './executionMetrics.js';
import type { DependencyEdge, NodeSnapshot } from './executionViewTypes.js';
import type { ColumnSpec } from './insertRows.js';

/**
 * The rows of flow_execution, node_execution_state and execution_dependency (see schema.ts), as
 * the projection writes them from a folded state and as queries read them back.
 */

/** Written as ISO strings; pg and PGlite read timestamptz back as Date. */
export type Timestamp = string | Date;
/** pg reads bigint back as a string, PGlite as a number. */
export type Int8 = number | string;

export interface FlowExecutionRow {
  id: string;
  workflow_id: string;
  workflow_version: number;
  status: string;
  trigger_node_id: string;
  trigger_type: string;
  progress: number;
  started_at: Timestamp;
  finished_at: Timestamp | null;
  duration_ms: Int8 | null;
  error: string | null;
  error_code: string | null;
  execution_path: string[];
  total_nodes: number;
  completed_nodes: number;
  failed_nodes: number;
  rerun_of: string | null;
  parent_execution_id: string | null;
  parent_node_id: string | null;
  parent_attempt: number | null;
  item_index: number | null;
  stream_version: number;
  updated_at: Timestamp;
  tenant_id: string;
}

export const FLOW_EXECUTION_COLUMNS: ReadonlyArray<ColumnSpec<FlowExecutionRow>> = [
  ['id', 'text'],
  ['workflow_id', 'text'],
  ['workflow_version', 'integer'],
  ['status', 'text'],
  ['trigger_node_id', 'text'],
  ['trigger_type', 'text'],
  ['progress', 'double precision'],
  ['started_at', 'timestamptz'],
  ['finished_at', 'timestamptz'],
  ['duration_ms', 'bigint'],
  ['error', 'text'],
  ['error_code', 'text'],
  ['execution_path', 'jsonb'],
  ['total_nodes', 'integer'],
  ['completed_nodes', 'integer'],
  ['failed_nodes', 'integer'],
  ['rerun_of', 'text'],
  ['parent_execution_id', 'text'],
  ['parent_node_id', 'text'],
  ['parent_attempt', 'integer'],
  ['item_index', 'integer'],
  ['stream_version', 'integer'],
  ['updated_at', 'timestamptz'],
  ['tenant_id', 'text'],
];

export interface NodeStateRow {
  execution_id: string;
  node_id: string;
  ordinal: number;
  status: string;
  attempt: number;
  progress: number;
  queued_at: Timestamp | null;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
  duration_ms: Int8 | null;
  error: string | null;
  error_code: string | null;
  skip_reason: string | null;
  message: string | null;
  input: unknown;
  output: unknown;
  output_name: string | null;
  reused_from: string | null;
  stream_version: number;
}

export const NODE_STATE_COLUMNS: ReadonlyArray<ColumnSpec<NodeStateRow>> = [
  ['execution_id', 'text'],
  ['node_id', 'text'],
  ['ordinal', 'integer'],
  ['status', 'text'],
  ['attempt', 'integer'],
  ['progress', 'double precision'],
  ['queued_at', 'timestamptz'],
  ['started_at', 'timestamptz'],
  ['finished_at', 'timestamptz'],
  ['duration_ms', 'bigint'],
  ['error', 'text'],
  ['error_code', 'text'],
  ['skip_reason', 'text'],
  ['message', 'text'],
  ['input', 'jsonb'],
  ['output', 'jsonb'],
  ['output_name', 'text'],
  ['reused_from', 'text'],
  ['stream_version', 'integer'],
];

export interface DependencyRow {
  execution_id: string;
  node_id: string;
  depends_on_node_id: string;
  node_ordinal: number;
  depends_on_ordinal: number;
}

export const DEPENDENCY_COLUMNS: ReadonlyArray<ColumnSpec<DependencyRow>> = [
  ['execution_id', 'text'],
  ['node_id', 'text'],
  ['depends_on_node_id', 'text'],
  ['node_ordinal', 'integer'],
  ['depends_on_ordinal', 'integer'],
];

/** `updatedAt`: when the last applied event happened. */
export function flowExecutionRow(state: ExecutionState, updatedAt: string): FlowExecutionRow {
  return {
    id: state.id,
    workflow_id: state.workflowId,
    workflow_version: state.workflowVersion,
    status: state.status,
    trigger_node_id: state.triggerNodeId,
    trigger_type: state.triggerType,
    progress: state.nodes.size === 0 ? 0 : (state.settledCount / state.nodes.size) * 100,
    started_at: state.startedAt,
    finished_at: state.finishedAt,
    duration_ms: elapsedMs(state.startedAt, state.finishedAt),
    error: state.error,
    error_code: state.errorCode,
    execution_path: state.executionPath,
    total_nodes: state.nodes.size,
    completed_nodes: state.executionPath.length,
    failed_nodes: state.failedCount,
    rerun_of: state.rerunOf,
    parent_execution_id: state.parent?.executionId ?? null,
    parent_node_id: state.parent?.nodeId ?? null,
    parent_attempt: state.parent?.attempt ?? null,
    item_index: state.parent?.itemIndex ?? null,
    stream_version: state.version,
    updated_at: updatedAt,
    tenant_id: state.tenantId,
  };
}

/** `streamVersion`: the version of the last event that changed the node. */
export function nodeStateRow(executionId: string, node: NodeState, ordinal: number, streamVersion: number): NodeStateRow {
  return {
    execution_id: executionId,
    node_id: node.nodeId,
    ordinal,
    status: node.status,
    attempt: node.attempt,
    progress: node.progress,
    queued_at: node.queuedAt,
    started_at: node.startedAt,
    finished_at: node.finishedAt,
    duration_ms: elapsedMs(node.startedAt, node.finishedAt),
    error: node.error,
    error_code: node.errorCode,
    skip_reason: node.skipReason,
    message: node.message,
    input: node.input,
    output: node.output,
    output_name: node.outputName,
    reused_from: node.reusedFrom,
    stream_version: streamVersion,
  };
}

/** Each node's position in the workflow definition (the order `state.nodes` keeps). */
export const nodeOrdinals = (state: ExecutionState): Map<string, number> => new Map([...state.nodes.keys()].map((id, index) => [id, index]));

export function dependencyRows(state: ExecutionState, ordinals: ReadonlyMap<string, number>): DependencyRow[] {
  return [...state.graph.dependencies].flatMap(([nodeId, upstream]) =>
    upstream.map((dependsOn) => ({
      execution_id: state.id,
      node_id: nodeId,
      depends_on_node_id: dependsOn,
      node_ordinal: ordinals.get(nodeId)!,
      depends_on_ordinal: ordinals.get(dependsOn)!,
    })),
  );
}

export const dependencyEdge = (row: DependencyRow): DependencyEdge => ({
  nodeId: row.node_id,
  dependsOn: row.depends_on_node_id,
  nodeOrdinal: row.node_ordinal,
  dependsOnOrdinal: row.depends_on_ordinal,
});

export function isoTimestamp(value: Timestamp): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

export const isoOrNull = (value: Timestamp | null): string | null => (value === null ? null : isoTimestamp(value));

export function nodeSnapshotFromRow(row: NodeStateRow): NodeSnapshot {
  return {
    nodeId: row.node_id,
    status: row.status as NodeStatus,
    attempt: row.attempt,
    progress: row.progress,
    startedAt: isoOrNull(row.started_at),
    finishedAt: isoOrNull(row.finished_at),
    error: row.error,
    errorCode: row.error_code,
    skipReason: row.skip_reason,
    message: row.message,
    input: row.input,
    output: row.output,
    outputName: row.output_name,
    reusedFrom: row.reused_from,
  };
}
