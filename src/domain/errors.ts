/** The machine-readable codes clients see in `extensions.code` (DESIGN section 5). */
export type ErrorCode =
  | 'CIRCULAR_DEPENDENCY'
  | 'MISSING_DEPENDENCY'
  | 'VALIDATION_FAILED'
  | 'NOT_FOUND'
  | 'INVALID_FLOW_STATE'
  | 'CONCURRENT_EXECUTION_CONFLICT'
  | 'EXECUTION_TIMEOUT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  /** The engine failed handling an execution (a bug, a value it cannot use); the message holds no internals. */
  | 'INTERNAL_ERROR'
  /** An expression went past its time, memory or depth bound (a node's errorCode). */
  | 'EXPRESSION_LIMIT'
  /** A GraphQL document past a depth, alias, cost or token bound; refused before it runs. */
  | 'QUERY_TOO_COMPLEX'
  /** The caller sent more requests in the last minute than RATE_LIMIT_PER_MINUTE allows (HTTP 429). */
  | 'RATE_LIMITED';

/**
 * The codes a failed node attempt records (`errorCode` on NodeFailed / NodeRetryScheduled, shown
 * as `NodeExecutionState.errorCode`); the attempt's `error` message starts with the code.
 */
export type NodeErrorCode =
  | 'EXECUTION_TIMEOUT'
  | 'LEASE_EXPIRED'
  | 'EXPRESSION_LIMIT'
  /** The node produced a value the log cannot hold: a NUL, a lone surrogate, nesting past 64 levels, or no JSON (permanent). */
  | 'INVALID_OUTPUT'
  /** An http node's response body is larger than HTTP_NODE_MAX_RESPONSE_BYTES (permanent). */
  | 'HTTP_RESPONSE_TOO_LARGE'
  /** An http node was redirected more than 5 times (permanent). */
  | 'HTTP_TOO_MANY_REDIRECTS'
  /** An http node got a redirect without a Location header (permanent). */
  | 'HTTP_BAD_REDIRECT'
  /** An http node's request got no complete answer within HTTP_NODE_TIMEOUT_MS (retried by policy). */
  | 'HTTP_TIMEOUT'
  /** An http node's address (after DNS resolution, on any hop) is link-local, or private with HTTP_NODE_BLOCK_PRIVATE (permanent). */
  | 'HTTP_ADDRESS_BLOCKED'
  /** A node's parameters, their `{{ }}` expressions resolved, break its type's schema (permanent). */
  | 'INVALID_PARAMETERS'
  /** The process running the node does not have its type registered (a user type left out of startCascade; permanent). */
  | 'UNKNOWN_NODE_TYPE';

/** A rule of the domain said no: the command changes nothing and the caller learns why. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const invalidState = (message: string, details?: Record<string, unknown>): DomainError => new DomainError('INVALID_FLOW_STATE', message, details);
