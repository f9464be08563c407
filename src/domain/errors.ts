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
  | 'EXPRESSION_LIMIT';

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

export const invalidState = (message: string, details?: Record<string, unknown>): DomainError =>
  new DomainError('INVALID_FLOW_STATE', message, details);
