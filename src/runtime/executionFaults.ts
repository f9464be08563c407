import type { ExecutionCommandHandler } from '../commands/executionCommandHandler.js';
import { isDatabaseFault } from '../db/databaseFaults.js';
import { DomainError } from '../domain/errors.js';
import { ConcurrencyError } from '../eventstore/eventStore.js';
import type { ErrorReporter } from '../errors/errorReporter.js';

/** Worth the same unit of work again: a lost connection, or appends of other processes that kept winning the race. */
const isRetryable = (error: unknown): boolean => isDatabaseFault(error) || error instanceof ConcurrencyError;

/**
 * An error of the work done for one execution: neither a refusal of the domain (the world moved
 * on) nor a retryable one (the unit of work is retried as it is).
 */
export const isExecutionFault = (error: unknown): boolean => !(error instanceof DomainError) && !isRetryable(error);

/** What the log gets: the execution, where its handling failed, and the original stack. */
export class ExecutionFault extends Error {
  constructor(
    readonly executionId: string,
    readonly where: string,
    cause: unknown,
  ) {
    super(`execution ${executionId}: ${where} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'ExecutionFault';
    if (cause instanceof Error && cause.stack) this.stack = `${this.name}: ${this.message}\n${cause.stack}`;
  }
}

/**
 * The runtime's bulkhead: an error while handling one execution fails that execution, with
 * INTERNAL_ERROR and a message without internals, instead of failing the batch, the checkpoint
 * or the other executions handled with it.
 */
export class ExecutionFaults {
  constructor(
    private readonly handler: ExecutionCommandHandler,
    private readonly onError: ErrorReporter,
  ) {}

  /** Runs one execution's work: its fault fails the execution; refusals and database faults reach the caller as before. */
  async contain(executionId: string, where: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      if (!isExecutionFault(error)) throw error;
      await this.fail(executionId, where, error);
    }
  }

  /**
   * Logs the fault and fails the execution. FailExecution decides on which nodes are unsettled
   * only, so it does not meet the same poison; a stream that cannot even be folded stays as it is
   * (parked: nothing runs for it) and is quarantined after repeated recoveries. A retryable error
   * while failing it reaches the caller, which retries its unit of work.
   */
  async fail(executionId: string, where: string, cause: unknown, reason = `the engine failed handling this execution (${where})`): Promise<boolean> {
    this.onError(new ExecutionFault(executionId, where, cause), { executionId });
    const error = `INTERNAL_ERROR: ${reason}; the server log has the details under execution ${executionId}`;
    try {
      await this.handler.handle(executionId, { type: 'FailExecution', data: { code: 'INTERNAL_ERROR', error } }, { causationId: 'bulkhead' });
      return true;
    } catch (failure) {
      if (isRetryable(failure)) throw failure;
      this.onError(new ExecutionFault(executionId, 'failing the execution', failure), { executionId });
      return false;
    }
  }
}
