import type { Logger } from 'pino';

/** What an error reported by a background part (runtime, projections, triggers) concerns. */
export interface ErrorContext {
  executionId?: string;
  nodeId?: string;
}

/** The `onError` callbacks: the error, and the execution and node it concerns when there are. */
export type ErrorReporter = (error: unknown, context?: ErrorContext) => void;

/**
 * Logs each reported error at `error` level with `message`, through a pino child logger that
 * carries the execution and node it concerns, so that every line about one execution can be
 * found by its id.
 */
export function logErrors(logger: Logger, message: string): ErrorReporter {
  return (err, context) => (context ? logger.child(context) : logger).error({ err }, message);
}
