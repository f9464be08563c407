import type { Workflow } from '../workflow/workflow.js';
import type { ExecutionParent } from './events.js';
import type { RerunRequest } from './rerun.js';
import type { WaitSpec } from './waiting.js';

/** What can be asked of an execution. `decide` turns each into events or a DomainError. */
export type ExecutionCommand =
  | {
      type: 'StartExecution';
      data: {
        executionId: string;
        workflow: Workflow;
        triggerNodeId: string;
        triggerData: unknown;
        waitsForSlot: boolean;
        /** Makes the start a rerun of a finished execution (see rerun.ts). */
        rerun?: RerunRequest;
        userId?: string | null;
        /** Makes it a child execution of that node attempt. */
        parent?: ExecutionParent;
      };
    }
  | { type: 'AdmitExecution' }
  | { type: 'QueueReadyNodes' }
  /** `wait`: what a wait-run node (a `wait`, an `approval`) waits for, from its parameters as resolved at its start. */
  | { type: 'StartNode'; data: { nodeId: string; attempt: number; workerId: string; leaseMs: number | null; waitMs?: number; wait?: WaitSpec } }
  /** Without `leaseMs` the lease is renewed for as long as the attempt was first leased; `attempt` guards a worker against renewing a later attempt. */
  | { type: 'ReportNodeProgress'; data: { nodeId: string; attempt?: number; progress: number | null; message: string | null; leaseMs: number | null } }
  | { type: 'CompleteNode'; data: { nodeId: string; attempt?: number; output: unknown; outputName: string | null } }
  /** `errorCode`: a catalogue code (EXPRESSION_LIMIT, ...) when the failure has one; the node's `error` then starts with it. */
  | { type: 'FailNode'; data: { nodeId: string; attempt?: number; error: string; retryable: boolean; errorCode?: string | null } }
  | { type: 'ReleaseNode'; data: { nodeId: string; attempt: number; reason: string } }
  /** Sent by the durable timer of the attempt's `timeoutMs`. */
  | { type: 'TimeoutNode'; data: { nodeId: string; attempt: number } }
  /** Sent by the durable timer of the attempt's lease. */
  | { type: 'ExpireLease'; data: { nodeId: string; attempt: number } }
  | { type: 'PauseExecution' }
  | { type: 'ResumeExecution' }
  | { type: 'CancelExecution'; data: { reason: string } }
  | { type: 'TimeoutExecution' }
  /** Sent by the runtime when handling the execution itself failed (a bug, a value it cannot use): `error` starts with `code`. */
  | { type: 'FailExecution'; data: { code: string; error: string } }
  | { type: 'RetryNode'; data: { nodeId: string } }
  | { type: 'SkipNode'; data: { nodeId: string; output?: unknown } }
  /** Completes a waiting node (signalNode, or a matching emitEvent with `attempt`); `outputName` picks an approval's branch. */
  | { type: 'SignalNode'; data: { nodeId: string; attempt?: number; output: unknown; outputName: string | null } };

export type ExecutionCommandType = ExecutionCommand['type'];
