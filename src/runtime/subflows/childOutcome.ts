import { storableString } from '../../domain/jsonHygiene.js';
import { leafOutputs } from '../../domain/execution/leafOutputs.js';
import type { ExecutionState } from '../../domain/execution/state.js';
import { MAX_MESSAGE_LENGTH } from '../../domain/limits.js';
import type { ChildOutcome } from './childStore.js';

const DEPTH_CODE = 'SUBFLOW_DEPTH_EXCEEDED';

/**
 * How a child ended, as its parent node takes it: a COMPLETED or PARTIAL child gives its leaf
 * nodes' outputs; any other end is a failure, retried by the parent's policy, except the nesting
 * bound, which no retry can lift: it is passed up as it is (no level adds to its message), so
 * that a workflow calling itself fails at every level at once, with that code.
 */
export function childOutcome(childId: string, state: ExecutionState | null, startError?: string): ChildOutcome {
  if (state && (state.status === 'COMPLETED' || state.status === 'PARTIAL')) {
    return { childId, ok: true, result: leafOutputs(state), error: null, errorCode: null, retryable: false };
  }
  const bound = state ? [...state.nodes.values()].find((node) => node.errorCode === DEPTH_CODE) : undefined;
  if (bound?.error) return failed(childId, bound.error, DEPTH_CODE, false);
  const why = startError ?? (state ? `${state.status.toLowerCase()}${state.error ? `: ${state.error}` : ''}` : 'was not found');
  return failed(childId, `CHILD_EXECUTION_FAILED: child execution ${childId} ${startError ? `could not start: ${why}` : why}`, 'CHILD_EXECUTION_FAILED', true);
}

function failed(childId: string, message: string, errorCode: string, retryable: boolean): ChildOutcome {
  const error = storableString(message).slice(0, MAX_MESSAGE_LENGTH);
  return { childId, ok: false, result: { error }, error, errorCode, retryable };
}
