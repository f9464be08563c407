import { DEFAULT_MAX_RETRY_DELAY_MS } from '../limits.js';
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

/**
 * Delay before the attempt after `failures` failed ones: exponential backoff, capped by the
 * policy's `maxDelayMs` or, without one, by DEFAULT_MAX_RETRY_DELAY_MS (or the initial delay, when
 * that is longer), so that the decider never computes a date out of range.
 */
export function retryDelayMs(policy: RetryPolicy, failures: number): number {
  const initial = policy.initialDelayMs ?? DEFAULT_INITIAL_DELAY_MS;
  const delay = initial * (policy.backoffFactor ?? DEFAULT_BACKOFF_FACTOR) ** Math.max(0, failures - 1);
  const cap = policy.maxDelayMs ?? Math.max(DEFAULT_MAX_RETRY_DELAY_MS, initial);
  return Math.round(Number.isFinite(delay) ? Math.min(delay, cap) : cap);
}
