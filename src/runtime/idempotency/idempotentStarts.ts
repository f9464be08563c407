import type { SqlClient } from '../../db/sqlClient.js';
import type { ExecutionState } from '../../domain/execution/state.js';
import type { StartExecution, StartRequest } from '../admission/admission.js';
import { checkIdempotencyKey } from './idempotencyKey.js';
import { IdempotencyKeyStore } from './idempotencyKeyStore.js';

export const DEFAULT_IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;
const SWEEP_INTERVAL_MS = 15 * 60 * 1000;

export interface IdempotentStartsOptions {
  db: SqlClient;
  start: StartExecution;
  clock: () => Date;
  /** How long a key answers with the execution it started. */
  windowMs: number;
  onError: (error: unknown) => void;
}

/**
 * Starts with an idempotency key: within the window, the same key for the same workflow answers
 * with the execution it started the first time and starts nothing. The key is claimed for an
 * execution id first, then that id is started; a start of an id that exists answers the existing
 * execution (its stream's first append expects no stream). So two concurrent calls get one
 * execution, and a retry after a crash between the claim and the answer starts the claimed id if
 * the start never happened, or gets it if it did.
 */
export class IdempotentStarts {
  private readonly keys: IdempotencyKeyStore;
  private sweepTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: IdempotentStartsOptions) {
    this.keys = new IdempotencyKeyStore(options.db);
  }

  start(): void {
    this.sweepTimer = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
  }

  stop(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
  }

  /** Starts the request as it is without a key; with one, starts (or answers) the execution the key stands for. */
  async startExecution(request: StartRequest): Promise<ExecutionState> {
    if (request.idempotencyKey === undefined || request.idempotencyKey === null) return this.options.start(request);
    const key = checkIdempotencyKey(request.idempotencyKey);
    const now = this.options.clock();
    const executionId = await this.keys.claim(request.workflow.id, key, request.executionId, now, this.expiredBefore(now));
    return this.options.start({ ...request, executionId });
  }

  private expiredBefore(now: Date): Date {
    return new Date(now.getTime() - this.options.windowMs);
  }

  private sweep(): void {
    this.keys.sweep(this.expiredBefore(this.options.clock())).catch(this.options.onError);
  }
}
