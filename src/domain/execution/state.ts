import type { RecoverySettings, WorkflowSettings } from '../workflow/workflow.js';
import type { ExecutionParent, ExecutionStatus, NodeStatus, RerunFrom } from './events.js';
import type { Graph } from '../workflow/graph.js';

export interface NodeState {
  nodeId: string;
  status: NodeStatus;
  /** The current (or last) attempt number, 1-based; 0 before the node was ever queued. */
  attempt: number;
  /** Failed attempts so far: what retry policies count. */
  failures: number;
  /** 0..100 */
  progress: number;
  message: string | null;
  input: Record<string, unknown> | null;
  output: unknown;
  outputName: string | null;
  error: string | null;
  /** The catalogue code of the last failure, when it has one (EXPRESSION_LIMIT, EXECUTION_TIMEOUT, ...). */
  errorCode: string | null;
  skipReason: string | null;
  queuedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  workerId: string | null;
  leaseExpiresAt: string | null;
  /** How long the running attempt was leased for: what a heartbeat renews it by, unless it says otherwise. */
  leaseMs: number | null;
  /** When a scheduled retry may start. */
  retryAt: string | null;
  /** Attempts released because their runtime died holding them (see MAX_LOST_LEASES in decide). */
  lostLeases: number;
  /** The execution whose recorded result this node took instead of running (a rerun). */
  reusedFrom: string | null;
}

export interface ExecutionState {
  id: string;
  workflowId: string;
  workflowVersion: number;
  triggerNodeId: string;
  triggerType: string;
  triggerData: unknown;
  status: ExecutionStatus;
  settings: WorkflowSettings;
  recovery: RecoverySettings;
  graph: Graph;
  nodes: Map<string, NodeState>;
  /** Idle nodes whose upstream changed since readiness was last decided for them. */
  candidates: Set<string>;
  /** Per node, how many of its dependencies have not settled yet. */
  unsettledDependencies: Map<string, number>;
  settledCount: number;
  failedCount: number;
  /** Node ids in the order they completed: the path the execution took. */
  executionPath: string[];
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
  errorCode: string | null;
  rerunOf: string | null;
  /** The node a rerun starts from: queued once, whatever its trigger rule says. */
  rerunFrom: RerunFrom | null;
  userId: string | null;
  /** The node attempt that started this execution as its child; null for a top-level execution. */
  parent: ExecutionParent | null;
  /** The tenant it belongs to (its workflow's): fixed at its start. */
  tenantId: string;
  /** How many events have been folded: the stream version this state stands for. */
  version: number;
}

export const idleNode = (nodeId: string): NodeState => ({
  nodeId,
  status: 'IDLE',
  attempt: 0,
  failures: 0,
  progress: 0,
  message: null,
  input: null,
  output: null,
  outputName: null,
  error: null,
  errorCode: null,
  skipReason: null,
  queuedAt: null,
  startedAt: null,
  finishedAt: null,
  workerId: null,
  leaseExpiresAt: null,
  leaseMs: null,
  retryAt: null,
  lostLeases: 0,
  reusedFrom: null,
});
