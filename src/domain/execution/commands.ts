import type { Workflow } from '../workflow/workflow.js';

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
        rerunOf?: string | null;
        userId?: string | null;
      };
    }
  | { type: 'AdmitExecution' }
  | { type: 'QueueReadyNodes' }
  | { type: 'StartNode'; data: { nodeId: string; attempt: number; workerId: string; leaseMs: number | null } }
  | { type: 'ReportNodeProgress'; data: { nodeId: string; progress: number | null; message: string | null; leaseMs: number | null } }
  | { type: 'CompleteNode'; data: { nodeId: string; attempt?: number; output: unknown; outputName: string | null } }
  | { type: 'FailNode'; data: { nodeId: string; attempt?: number; error: string; retryable: boolean } }
  | { type: 'ReleaseNode'; data: { nodeId: string; attempt: number; reason: string } }
  | { type: 'PauseExecution' }
  | { type: 'ResumeExecution' }
  | { type: 'CancelExecution'; data: { reason: string } }
  | { type: 'TimeoutExecution' }
  | { type: 'RetryNode'; data: { nodeId: string } }
  | { type: 'SkipNode'; data: { nodeId: string; output?: unknown } };

export type ExecutionCommandType = ExecutionCommand['type'];
