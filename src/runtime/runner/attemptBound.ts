import type { ExecutionState } from '../../domain/execution/state.js';
import { CodedNodeError } from '../../nodes/nodeErrors.js';

/** setTimeout fires at once past this: a bound further away than ~24.8 days is left to the durable timers. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The execution's deadline came while an attempt ran in process: the execution times out. */
export class ExecutionDeadline extends Error {
  override readonly name = 'ExecutionDeadline';
}

/** What stops an attempt that runs in process, and when: the nearer of its timeoutMs and the execution's deadline. */
export interface AttemptBound {
  ms: number;
  reason: CodedNodeError | ExecutionDeadline;
}

/**
 * Side-effect-free attempts run before their NodeStarted is recorded, so the durable timers of
 * `timeoutMs` and `executionTimeoutMs` cannot reach them: the runner bounds them itself.
 */
export function attemptBound(state: ExecutionState, nodeId: string, nowMs: number): AttemptBound | null {
  const timeoutMs = state.graph.nodes.get(nodeId)?.timeoutMs;
  const { executionTimeoutMs } = state.settings;
  const leftMs = executionTimeoutMs ? Date.parse(state.startedAt) + executionTimeoutMs - nowMs : Infinity;
  const nodeTimeout = timeoutMs ? new CodedNodeError(`node ${nodeId} timed out after ${timeoutMs} ms`, 'EXECUTION_TIMEOUT', true) : null;
  const bound: AttemptBound | null =
    nodeTimeout && timeoutMs! <= leftMs
      ? { ms: timeoutMs!, reason: nodeTimeout }
      : Number.isFinite(leftMs)
        ? { ms: Math.max(0, leftMs), reason: new ExecutionDeadline('execution timed out') }
        : null;
  return bound && bound.ms <= MAX_TIMER_MS ? bound : null;
}
