import { MAX_MESSAGE_LENGTH } from '../domain/limits.js';
import { isAttemptLost, WorkerRequestError, type Request } from './graphqlRequest.js';
import type { Job, JobHandler, WorkerEvent } from './workerTypes.js';

const RENEW = `mutation ($executionId: ID!, $nodeId: ID!, $attempt: Int!, $leaseMs: Int!, $progress: Float, $message: String) {
  reportNodeProgress(executionId: $executionId, nodeId: $nodeId, attempt: $attempt, leaseMs: $leaseMs, progress: $progress, message: $message) { status }
}`;
const COMPLETE = `mutation ($executionId: ID!, $nodeId: ID!, $attempt: Int!, $output: JSON) {
  completeNode(executionId: $executionId, nodeId: $nodeId, attempt: $attempt, output: $output) { status }
}`;
const FAIL = `mutation ($executionId: ID!, $nodeId: ID!, $attempt: Int!, $error: String!, $retryable: Boolean) {
  failNode(executionId: $executionId, nodeId: $nodeId, attempt: $attempt, error: $error, retryable: $retryable) { status }
}`;
const RELEASE = `mutation ($executionId: ID!, $nodeId: ID!, $attempt: Int!, $reason: String) {
  releaseNode(executionId: $executionId, nodeId: $nodeId, attempt: $attempt, reason: $reason) { status }
}`;

/** Why a handler's signal aborted: `reason.code` tells the attempt's end from the worker's stop. */
export class JobAborted extends Error {
  constructor(
    readonly code: 'ATTEMPT_OVER' | 'LEASE_LOST' | 'STOPPING',
    message: string,
  ) {
    super(message);
    this.name = 'JobAborted';
  }
}

/** A settling call that met a network fault is sent again after this long, doubling, while the lease lasts. */
const FIRST_RETRY_MS = 200;

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error)).slice(0, MAX_MESSAGE_LENGTH) || 'the handler failed';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One claimed attempt in a worker: its handler runs while the lease is renewed every third of its
 * length; the outcome settles the claimed attempt (completeNode / failNode with `attempt`). When
 * the attempt is over on the server (cancelled, timed out, renewal refused, lease run out), the
 * handler's signal aborts and nothing more is sent; its result, if it still comes, is dropped.
 */
export class RunningJob {
  readonly done: Promise<void>;
  private readonly controller = new AbortController();
  private renewal: NodeJS.Timeout | null = null;
  /** Until when the lease surely holds: renewals move it on from when they were sent. */
  private leaseUntil: number;
  private settling = false;

  constructor(
    readonly job: Job,
    private readonly request: Request,
    private readonly leaseMs: number,
    private readonly emit: (event: WorkerEvent) => void,
    handler: JobHandler,
  ) {
    this.leaseUntil = Date.parse(job.leaseExpiresAt);
    this.done = this.run(handler);
  }

  private get attempt() {
    const { executionId, nodeId, attempt } = this.job;
    return { executionId, nodeId, attempt };
  }

  /** The server ended the attempt: the handler is told, and the worker says nothing more about it. */
  abort(code: 'ATTEMPT_OVER' | 'LEASE_LOST', reason: string): void {
    if (this.settling || this.controller.signal.aborted) return;
    this.stopRenewing();
    this.controller.abort(new JobAborted(code, reason));
    this.emit({ type: 'aborted', job: this.job, reason });
  }

  /** The worker stops: the attempt goes back to the queue at once, for another worker. */
  async handBack(): Promise<void> {
    if (this.settling || this.controller.signal.aborted) return;
    this.stopRenewing();
    this.controller.abort(new JobAborted('STOPPING', 'the worker is stopping'));
    try {
      await this.request(RELEASE, { ...this.attempt, reason: 'the worker stopped' });
      this.emit({ type: 'released', job: this.job });
    } catch (error) {
      // An attempt already over needs no handing back; any other failure leaves it to its lease.
      if (!isAttemptLost(error)) this.emit({ type: 'error', error, job: this.job });
    }
  }

  private async run(handler: JobHandler): Promise<void> {
    this.scheduleRenewal();
    const { signal } = this.controller;
    let outcome: { output: unknown } | { error: unknown };
    try {
      outcome = { output: await handler(this.job, { signal, reportProgress: (progress, message) => this.report(progress, message) }) };
    } catch (error) {
      outcome = { error };
    }
    if (signal.aborted) return;
    this.settling = true;
    this.stopRenewing();
    try {
      if ('output' in outcome) {
        await this.settle(COMPLETE, { ...this.attempt, output: outcome.output ?? null });
        this.emit({ type: 'completed', job: this.job, output: outcome.output ?? null });
      } else {
        const retryable = (outcome.error as { retryable?: unknown } | null)?.retryable !== false;
        await this.settle(FAIL, { ...this.attempt, error: messageOf(outcome.error), retryable });
        this.emit({ type: 'failed', job: this.job, error: outcome.error });
      }
    } catch (error) {
      if (isAttemptLost(error)) this.emit({ type: 'aborted', job: this.job, reason: messageOf(error) });
      else this.emit({ type: 'error', error, job: this.job });
    }
  }

  /** A settling call survives a passing network fault while the lease lasts; refusals are final. */
  private async settle(query: string, variables: Record<string, unknown>): Promise<void> {
    for (let wait = FIRST_RETRY_MS; ; wait *= 2) {
      try {
        await this.request(query, variables);
        return;
      } catch (error) {
        if (!(error instanceof WorkerRequestError && error.code === 'NETWORK') || Date.now() + wait > this.leaseUntil) throw error;
        await sleep(wait);
      }
    }
  }

  /** The handler's progress: a heartbeat that renews the lease as well. */
  private async report(progress: number | null, message?: string | null): Promise<void> {
    if (this.controller.signal.aborted || this.settling) return;
    await this.renew({ progress, message: message ?? null });
  }

  private async renew(report: { progress: number | null; message: string | null } = { progress: null, message: null }): Promise<void> {
    const sentAt = Date.now();
    this.scheduleRenewal();
    try {
      await this.request(RENEW, { ...this.attempt, leaseMs: this.leaseMs, ...report });
      this.leaseUntil = Math.max(this.leaseUntil, sentAt + this.leaseMs);
    } catch (error) {
      if (isAttemptLost(error)) return this.abort('ATTEMPT_OVER', messageOf(error));
      if (Date.now() >= this.leaseUntil) return this.abort('LEASE_LOST', `the lease could not be renewed before it ran out: ${messageOf(error)}`);
      if (error instanceof WorkerRequestError && error.code === 'NETWORK') this.emit({ type: 'error', error, job: this.job });
      else throw error;
    }
  }

  private scheduleRenewal(): void {
    this.stopRenewing();
    if (this.controller.signal.aborted || this.settling) return;
    this.renewal = setTimeout(() => void this.renew().catch((error: unknown) => this.emit({ type: 'error', error, job: this.job })), Math.max(1, Math.floor(this.leaseMs / 3)));
  }

  private stopRenewing(): void {
    if (this.renewal) clearTimeout(this.renewal);
    this.renewal = null;
  }
}
