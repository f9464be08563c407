import type { NodeErrorCode, RequestErrorCode } from '../errors/catalogue.js';

/** The machine-readable codes clients see in `extensions.code` (DESIGN section 5; src/errors/catalogue.ts). */
export type ErrorCode = RequestErrorCode;

export type { NodeErrorCode };

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
