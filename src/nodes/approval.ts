import type { NodeType } from './nodeType.js';
import { waitNode } from './wait.js';

/**
 * A human approval step: a `wait` whose signal picks the branch. signalNode(outputName:
 * "approved" | "rejected") takes that output (the other branch is skipped, as an `if`'s); so
 * does an emitEvent whose match gives "approved" or "rejected" (any other text fails the wait,
 * any other truthy value approves).
 */
export const approvalNode: NodeType = {
  ...waitNode,
  type: 'approval',
  description: `A wait with outputs approved / rejected: signalNode(outputName) picks the branch, as does a match giving "approved" or "rejected" (other text fails the wait with WAIT_MATCH_FAILED, another truthy value approves); fails with WAIT_TIMEOUT after timeoutMs`,
  outputs: ['approved', 'rejected'],
};
