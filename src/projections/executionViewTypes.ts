import type { ExecutionStatus, NodeStatus } from '../domain/execution/events.js';
import type { Dependencies } from './criticalPath.js';

/**
 * The shapes of what clients see of an execution (DESIGN section 5) and of what it is computed
 * from. Their own file: executionView builds them, executionRows and executionMetrics read them,
 * and none of those needs the others' code for that.
 */

export interface NodeStateView {
  nodeId: string;
  status: NodeStatus;
  attempt: number;
  progress: number;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  error: string | null;
  errorCode: string | null;
  skipReason: string | null;
  message: string | null;
  input: unknown;
  output: unknown;
  outputName: string | null;
  /** The execution whose recorded result a rerun took instead of running the node. */
  reusedFrom: string | null;
  dependencies: string[];
  dependents: string[];
}

export interface ExecutionMetrics {
  totalNodes: number;
  completedNodes: number;
  failedNodes: number;
  averageNodeDurationMs: number | null;
  longestRunningNode: string | null;
  bottleneckNodes: string[];
  parallelismUtilization: number | null;
}

export interface ExecutionView {
  id: string;
  workflowId: string;
  workflowVersion: number;
  status: ExecutionStatus;
  triggerNodeId: string;
  triggerType: string;
  /** 0..100: settled affected nodes / affected nodes. */
  progress: number;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  error: string | null;
  errorCode: string | null;
  rerunOf: string | null;
  /** A child execution: the execution and node that started it (null for a top-level one). */
  parentExecutionId: string | null;
  parentNodeId: string | null;
  /** A map node's child: the index of its item (null for the others). */
  itemIndex: number | null;
  nodeStates: NodeStateView[];
  executionPath: string[];
  currentlyExecuting: string[];
  completedNodes: string[];
  failedNodes: string[];
  queuedNodes: string[];
  estimatedTimeRemainingMs: number | null;
  metrics: ExecutionMetrics;
  streamVersion: number;
}

/** Average duration in ms of a node id in completed executions of the same workflow. */
export type DurationHistory = ReadonlyMap<string, number>;

export type NodeSnapshot = Omit<NodeStateView, 'durationMs' | 'dependencies' | 'dependents'>;

/** An edge of the execution graph, with both ends' positions in the workflow definition. */
export interface DependencyEdge {
  nodeId: string;
  dependsOn: string;
  nodeOrdinal: number;
  dependsOnOrdinal: number;
}

export interface Adjacency {
  /** Per node, its upstream and downstream nodes, in definition order. */
  dependencies: Dependencies;
  dependents: Dependencies;
}

/** What the view is computed from: the execution's own facts, as the view shows them. */
export type ExecutionFields = Pick<
  ExecutionView,
  | 'id'
  | 'workflowId'
  | 'workflowVersion'
  | 'status'
  | 'triggerNodeId'
  | 'triggerType'
  | 'startedAt'
  | 'finishedAt'
  | 'error'
  | 'errorCode'
  | 'rerunOf'
  | 'parentExecutionId'
  | 'parentNodeId'
  | 'itemIndex'
  | 'executionPath'
  | 'streamVersion'
>;

export interface ExecutionSnapshot extends Adjacency, ExecutionFields {
  /** In definition order. */
  nodes: NodeSnapshot[];
}
