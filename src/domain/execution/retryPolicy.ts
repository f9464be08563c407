import type { NodeDefinition, RecoverySettings, RetryPolicy } from '../workflow/workflow.js';

const DEFAULT_WORKFLOW_RETRIES = 3;
const DEFAULT_INITIAL_DELAY_MS = 1000;
const DEFAULT_BACKOFF_FACTOR = 2;

/** The node's own policy wins; otherwise `recovery.retryFailedNodes` gives every node retries. */
export function retryPolicyOf(node: NodeDefinition, recovery: RecoverySettings): RetryPolicy {
  if (node.retry) return node.retry;
  if (recovery.retryFailedNodes) return { maxAttempts: 1 + (recovery.maxRetryAttempts ?? DEFAULT_WORKFLOW_RETRIES) };
  return { maxAttempts: 1 };
}

/** Delay before the attempt after `failures` failed ones: exponential backoff, capped. */
export function retryDelayMs(policy: RetryPolicy, failures: number): number {
  const initial = policy.initialDelayMs ?? DEFAULT_INITIAL_DELAY_MS;
  const delay = initial * (policy.backoffFactor ?? DEFAULT_BACKOFF_FACTOR) ** Math.max(0, failures - 1);
  return Math.round(Math.min(delay, policy.maxDelayMs ?? Number.POSITIVE_INFINITY));
}
