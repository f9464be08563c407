import type { Connection, NodeDefinition, WorkflowSettings } from '../workflow/workflow.js';
import type { WaitStarted } from './waiting.js';

/**
 * The execution event catalogue: everything that happens to an execution is one of these,
 * appended to the stream `execution-<id>`. Each event carries what `evolve` needs, so a stream
 * replays on its own: ExecutionStarted holds the affected part of the workflow as it was.
 */

export type ExecutionStatus = 'QUEUED' | 'RUNNING' | 'PAUSED' | 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'PARTIAL';
export type NodeStatus = 'IDLE' | 'QUEUED' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'SKIPPED';

export interface ExecutionStarted {
  type: 'ExecutionStarted';
  data: {
    executionId: string;
    workflowId: string;
    workflowVersion: number;
    triggerNodeId: string;
    triggerType: string;
    triggerData: unknown;
    /** The affected nodes: the trigger and everything reachable from it. */
    nodes: NodeDefinition[];
    connections: Connection[];
    settings: WorkflowSettings;
    /** True when the execution waits for a concurrency slot (status QUEUED) before it runs. */
    waitsForSlot: boolean;
    rerunOf: string | null;
    /** A rerun (see rerun.ts): the node that runs first whatever its trigger rule says, and its input. */
    rerunFrom?: RerunFrom;
    userId: string | null;
    /** A child execution (started by a `workflow` or `map` node): where it was started from. Absent for the others. */
    parent?: ExecutionParent;
    /** The workflow's tenant; absent in events from before tenants: `default`. */
    tenantId?: string;
    at: string;
  };
}
/** The node attempt that started a child execution, and how deep the child is nested (1: a child of a top-level execution). */
export interface ExecutionParent {
  executionId: string;
  nodeId: string;
  attempt: number;
  depth: number;
  /** A `map` node's child: the index of its item. Absent for a `workflow` node's child, and in events from before it was recorded. */
  itemIndex?: number;
}
export interface RerunFrom {
  nodeId: string;
  input: Record<string, unknown>;
}
/** A concurrency slot was granted to a QUEUED execution. */
export interface ExecutionAdmitted {
  type: 'ExecutionAdmitted';
  data: { at: string };
}
export interface NodeQueued {
  type: 'NodeQueued';
  data: { nodeId: string; attempt: number; input: Record<string, unknown>; at: string };
}
export interface NodeStarted {
  type: 'NodeStarted';
  /**
   * `wakeAt`: when a timer-run node (a delay) completes, from its parameters as resolved at its start.
   * `wait`: what a wait-run node waits for (absent for other types).
   */
  data: { nodeId: string; attempt: number; workerId: string; leaseExpiresAt: string | null; wakeAt?: string; wait?: WaitStarted; at: string };
}
export interface NodeProgressed {
  type: 'NodeProgressed';
  data: { nodeId: string; attempt: number; progress: number | null; message: string | null; leaseExpiresAt: string | null; at: string };
}
export interface NodeCompleted {
  type: 'NodeCompleted';
  data: { nodeId: string; attempt: number; output: unknown; outputName: string | null; at: string };
}
/** An attempt failed and another one will run after `delayMs`. */
export interface NodeRetryScheduled {
  type: 'NodeRetryScheduled';
  data: { nodeId: string; attempt: number; error: string; errorCode?: string | null; nextAttempt: number; delayMs: number; retryAt: string; at: string };
}
/** The node's last attempt failed: it is FAILED. `errorCode`: the catalogue code when the failure has one (absent in older events). */
export interface NodeFailed {
  type: 'NodeFailed';
  data: { nodeId: string; attempt: number; error: string; errorCode?: string | null; at: string };
}
export interface NodeSkipped {
  type: 'NodeSkipped';
  data: { nodeId: string; reason: string; at: string };
}
export interface NodeCancelled {
  type: 'NodeCancelled';
  data: { nodeId: string; attempt: number; reason: string; at: string };
}
/** A running attempt was handed back (its runner stopped or lost its lease) and the node is queued again. */
export interface NodeReleased {
  type: 'NodeReleased';
  /** `leaseLost`: the runtime running the attempt stopped renewing its lease (it died); absent in older events. */
  data: { nodeId: string; attempt: number; nextAttempt: number; reason: string; leaseLost?: boolean; at: string };
}
/** A rerun took the node's result from the execution it re-runs instead of running it (COMPLETED, FAILED or SKIPPED as there). */
export interface NodeReused {
  type: 'NodeReused';
  data: {
    nodeId: string;
    fromExecutionId: string;
    status: ReusedStatus;
    attempt: number;
    input: Record<string, unknown> | null;
    output: unknown;
    outputName: string | null;
    error: string | null;
    skipReason: string | null;
    at: string;
  };
}
export type ReusedStatus = 'COMPLETED' | 'FAILED' | 'SKIPPED';
/** A finished node is put back to run again (manual retry). */
export interface NodeReset {
  type: 'NodeReset';
  data: { nodeId: string; at: string };
}
export interface ExecutionPaused {
  type: 'ExecutionPaused';
  data: { at: string };
}
export interface ExecutionResumed {
  type: 'ExecutionResumed';
  data: { at: string };
}
/** Every affected node settled; PARTIAL when some failed but recovery settings let it go on. */
export interface ExecutionCompleted {
  type: 'ExecutionCompleted';
  data: { status: 'COMPLETED' | 'PARTIAL'; at: string };
}
export interface ExecutionFailed {
  type: 'ExecutionFailed';
  data: { error: string; code: string; at: string };
}
export interface ExecutionCancelled {
  type: 'ExecutionCancelled';
  data: { reason: string; at: string };
}
/** A finished execution goes on (manual retry or skip after it ended). */
export interface ExecutionReopened {
  type: 'ExecutionReopened';
  data: { at: string };
}

export type ExecutionEvent =
  | ExecutionStarted
  | ExecutionAdmitted
  | NodeQueued
  | NodeStarted
  | NodeProgressed
  | NodeCompleted
  | NodeRetryScheduled
  | NodeFailed
  | NodeSkipped
  | NodeCancelled
  | NodeReleased
  | NodeReused
  | NodeReset
  | ExecutionPaused
  | ExecutionResumed
  | ExecutionCompleted
  | ExecutionFailed
  | ExecutionCancelled
  | ExecutionReopened;

export type ExecutionEventType = ExecutionEvent['type'];

export const SETTLED_NODE_STATUSES: ReadonlySet<NodeStatus> = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'SKIPPED']);
export const TERMINAL_EXECUTION_STATUSES: ReadonlySet<ExecutionStatus> = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'PARTIAL']);

export const executionStreamId = (executionId: string): string => `execution-${executionId}`;
export const EXECUTION_STREAM_PREFIX = 'execution-';

/** An event of an execution's stream as stored (a RecordedEvent), as the domain knows it: the type says what its data holds. */
export const toExecutionEvent = (event: { type: string; data: unknown }): ExecutionEvent => ({ type: event.type, data: event.data }) as ExecutionEvent;
