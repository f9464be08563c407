export const TRIGGER_RULES = ['NONE_FAILED_MIN_ONE_SUCCESS', 'ALL_SUCCESS', 'ALL_DONE', 'ONE_SUCCESS', 'NONE_FAILED', 'ALWAYS'] as const;
export type TriggerRule = (typeof TRIGGER_RULES)[number];

export interface RetryPolicy {
  maxAttempts: number;
  initialDelayMs?: number;
  backoffFactor?: number;
  maxDelayMs?: number;
}

export interface NodeDefinition {
  id: string;
  type: string;
  name?: string;
  parameters?: Record<string, unknown>;
  retry?: RetryPolicy;
  timeoutMs?: number;
  triggerRule?: TriggerRule;
}

export interface Connection {
  source: string;
  target: string;
  /** The edge is active only when the source took this output; null/absent means any output. */
  sourceOutput?: string | null;
}

export interface RecoverySettings {
  continueOnNodeFailure?: boolean;
  skipFailedBranches?: boolean;
  retryFailedNodes?: boolean;
  maxRetryAttempts?: number;
}

export interface WorkflowSettings {
  recovery?: RecoverySettings;
  executionTimeoutMs?: number;
  maxConcurrentExecutions?: number;
  /** Running executions of one user (the userId of the start); starts without a user count only towards maxConcurrentExecutions. */
  maxConcurrentExecutionsPerUser?: number;
}

export interface WorkflowDefinition {
  name: string;
  nodes: NodeDefinition[];
  connections: Connection[];
  settings?: WorkflowSettings;
}

export interface Workflow extends WorkflowDefinition {
  id: string;
  version: number;
  /** The tenant of the identity that created it, for every version; absent in events from before tenants: `default`. */
  tenantId?: string;
}
