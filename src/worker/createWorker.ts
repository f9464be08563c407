import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { createClient, type Client } from 'graphql-ws/client';
import { MAX_CLAIM, MAX_ID_LENGTH, MAX_LEASE_MS } from '../domain/limits.js';
import { graphqlRequest, type Request } from './graphqlRequest.js';
import { RunningJob } from './runningJob.js';
import type { Job, Worker, WorkerEvent, WorkerOptions } from './workerTypes.js';

const NODE_JOBS = `subscription ($queue: String!) { nodeJobs(queue: $queue) { kind available executionId nodeId attempt } }`;
const CLAIM = `mutation ($queue: String!, $workerId: ID!, $max: Int!, $leaseMs: Int!) {
  claimNodes(queue: $queue, workerId: $workerId, max: $max, leaseMs: $leaseMs) { executionId nodeId attempt input parameters leaseExpiresAt }
}`;

interface Notice {
  kind: 'AVAILABLE' | 'ATTEMPT_ENDED';
  available: boolean;
  executionId: string | null;
  nodeId: string | null;
  attempt: number | null;
}

const DEFAULT_LEASE_MS = 30_000;
/** Below a second, renewals (every third of the lease) would be a request loop of their own. */
const MIN_LEASE_MS = 1_000;
/** After a failed claim, the next waits this long, doubling up to the maximum: never a tight loop. */
const CLAIM_RETRY_MS = 500;
const MAX_CLAIM_RETRY_MS = 30_000;
/** Reconnecting waits 1 s, doubling to this at most (graphql-ws' own backoff grows without bound), plus up to 1 s of jitter. */
const MAX_RECONNECT_WAIT_MS = 30_000;
/** How long stop() waits for handlers that ignore their signal. */
const STOP_GRACE_MS = 30_000;

const reconnectWaitMs = (retries: number) => Math.min(1_000 * 2 ** retries, MAX_RECONNECT_WAIT_MS) + Math.random() * 1_000;

/** Errors that subscribing again cannot mend: the key, its role or its queues (graphql-ws hands over the GraphQL errors, or a close event). */
const FINAL_CODES = new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'BAD_USER_INPUT']);
function isFinal(error: unknown): boolean {
  if (!Array.isArray(error)) return true;
  return error.some((each: { extensions?: { code?: string } }) => FINAL_CODES.has(each.extensions?.code ?? ''));
}

const attemptKey = (executionId: string, nodeId: string, attempt: number) => JSON.stringify([executionId, nodeId, attempt]);

function checked(options: WorkerOptions): Required<Pick<WorkerOptions, 'concurrency' | 'leaseMs' | 'workerId'>> {
  const { concurrency = 1, leaseMs = DEFAULT_LEASE_MS, workerId = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}` } = options;
  if (typeof options.handler !== 'function') throw new TypeError('createWorker: handler must be a function');
  for (const [name, value] of Object.entries({ url: options.url, apiKey: options.apiKey, queue: options.queue })) {
    if (typeof value !== 'string' || value === '') throw new TypeError(`createWorker: ${name} must be a non-empty string`);
  }
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CLAIM) throw new RangeError(`createWorker: concurrency must be an integer from 1 to ${MAX_CLAIM}`);
  if (!Number.isInteger(leaseMs) || leaseMs < MIN_LEASE_MS || leaseMs > MAX_LEASE_MS)
    throw new RangeError(`createWorker: leaseMs must be an integer from ${MIN_LEASE_MS} to ${MAX_LEASE_MS}`);
  if (workerId.length > MAX_ID_LENGTH) throw new RangeError(`createWorker: workerId must be at most ${MAX_ID_LENGTH} characters`);
  return { concurrency, leaseMs, workerId };
}

function endpoints(url: string): { http: string; ws: string } {
  const http = new URL(url);
  if (!http.pathname.endsWith('/graphql')) http.pathname = `${http.pathname.replace(/\/$/, '')}/graphql`;
  const ws = new URL(http);
  ws.protocol = http.protocol === 'https:' ? 'wss:' : 'ws:';
  return { http: http.href, ws: ws.href };
}

/** Node 22 has a global WebSocket; Node 20 gets the `ws` package (a dependency of cascade). */
async function webSocketClass(given: unknown): Promise<unknown> {
  if (given) return given;
  if (typeof globalThis.WebSocket === 'function') return globalThis.WebSocket;
  return (await import('ws')).default;
}

/**
 * Runs `handler` for the jobs of one queue, at most `concurrency` at once. It waits on the
 * `nodeJobs` subscription and claims only when told there is work (and it has room), so an idle
 * worker sends no request; each claimed attempt renews its lease on its own and settles with the
 * attempt it claimed (see RunningJob). The subscription reconnects by itself when the connection drops.
 */
export function createWorker(options: WorkerOptions): Worker {
  const settings = checked(options);
  const { http, ws } = endpoints(options.url);
  const worker = new QueueWorker(options, settings, graphqlRequest(http, options.apiKey));
  worker.listen(ws);
  return {
    stop: () => worker.stop(),
    get running() {
      return worker.running;
    },
  };
}

class QueueWorker {
  private readonly jobs = new Map<string, RunningJob>();
  private client: Client | null = null;
  private stopping = false;
  private listening = false;
  /** Set when the queue may hold work this worker has not claimed yet. */
  private maybeMore = false;
  private claiming: Promise<void> | null = null;
  private claimRetryMs = CLAIM_RETRY_MS;
  private claimRetry: NodeJS.Timeout | null = null;
  private resubscribe: NodeJS.Timeout | null = null;

  constructor(
    private readonly options: WorkerOptions,
    private readonly settings: Required<Pick<WorkerOptions, 'concurrency' | 'leaseMs' | 'workerId'>>,
    private readonly request: Request,
  ) {}

  get running(): number {
    return this.jobs.size;
  }

  listen(url: string): void {
    void webSocketClass(this.options.webSocketImpl).then((webSocketImpl) => {
      if (this.stopping) return;
      this.client = createClient({
        url,
        webSocketImpl,
        lazy: false,
        connectionParams: { authorization: `Bearer ${this.options.apiKey}` },
        retryAttempts: Number.POSITIVE_INFINITY,
        // A server that is down or restarting is waited for; a refused key (4401) is final.
        shouldRetry: () => !this.stopping,
        retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, reconnectWaitMs(retries))),
        onNonLazyError: (error) => this.emit({ type: 'error', error }),
      });
      this.subscribe();
    });
  }

  /**
   * The subscription outlives dropped connections (graphql-ws subscribes again when it reconnects);
   * an error the server answers, or its end, ends it, so it is made again after a while, unless
   * the error says this key or queue will never do (then the worker reports it and waits for stop()).
   */
  private subscribe(retry = 0): void {
    if (this.stopping || !this.client) return;
    this.client.subscribe<{ nodeJobs: Notice }>(
      { query: NODE_JOBS, variables: { queue: this.options.queue } },
      {
        next: (message) => (message.data ? this.heard(message.data.nodeJobs) : this.emit({ type: 'error', error: message.errors })),
        error: (error) => {
          this.emit({ type: 'error', error });
          if (!isFinal(error)) this.subscribeLater(retry);
        },
        // A server shutting down completes its subscriptions before its sockets close.
        complete: () => this.subscribeLater(retry),
      },
    );
  }

  private subscribeLater(retry: number): void {
    if (this.stopping) return;
    this.resubscribe = setTimeout(() => this.subscribe(retry + 1), reconnectWaitMs(retry));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.claimRetry) clearTimeout(this.claimRetry);
    if (this.resubscribe) clearTimeout(this.resubscribe);
    await this.client?.dispose();
    // A claim in flight may still hand this worker jobs: they are handed back with the others.
    await this.claiming;
    const jobs = [...this.jobs.values()];
    await Promise.all(jobs.map((job) => job.handBack()));
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(jobs.map((job) => job.done)), new Promise((resolve) => (grace = setTimeout(resolve, STOP_GRACE_MS)))]);
    clearTimeout(grace);
  }

  private heard(notice: Notice): void {
    if (!this.listening) {
      this.listening = true;
      this.emit({ type: 'listening' });
    }
    if (notice.kind === 'ATTEMPT_ENDED') {
      const job = this.jobs.get(attemptKey(notice.executionId!, notice.nodeId!, notice.attempt!));
      job?.abort('ATTEMPT_OVER', 'the attempt is over on the server: its node was cancelled, timed out or failed, or its lease expired');
      return;
    }
    if (!notice.available) return;
    this.maybeMore = true;
    this.pump();
  }

  /** Claims as many jobs as there is room for, while the queue may hold more; one claim in flight at a time. */
  private pump(): void {
    const room = this.settings.concurrency - this.jobs.size;
    if (this.claiming || this.stopping || !this.maybeMore || room <= 0) return;
    this.maybeMore = false;
    this.claiming = this.claim(room).finally(() => {
      this.claiming = null;
      this.pump();
    });
  }

  private async claim(room: number): Promise<void> {
    const { queue } = this.options;
    const { workerId, leaseMs } = this.settings;
    let claimed: Array<Omit<Job, 'queue'>>;
    try {
      ({ claimNodes: claimed } = await this.request<{ claimNodes: Array<Omit<Job, 'queue'>> }>(CLAIM, { queue, workerId, max: room, leaseMs }));
      this.claimRetryMs = CLAIM_RETRY_MS;
    } catch (error) {
      this.emit({ type: 'error', error });
      this.retryClaimLater();
      return;
    }
    // A full answer: there may be more behind it.
    if (claimed.length === room) this.maybeMore = true;
    for (const each of claimed) this.run({ queue, ...each });
  }

  private retryClaimLater(): void {
    const wait = this.claimRetryMs;
    this.claimRetryMs = Math.min(wait * 2, MAX_CLAIM_RETRY_MS);
    this.claimRetry = setTimeout(() => {
      this.maybeMore = true;
      this.pump();
    }, wait);
  }

  private run(job: Job): void {
    const key = attemptKey(job.executionId, job.nodeId, job.attempt);
    this.emit({ type: 'claimed', job });
    const running = new RunningJob(job, this.request, this.settings.leaseMs, (event) => this.emit(event), this.options.handler);
    this.jobs.set(key, running);
    void running.done.finally(() => {
      this.jobs.delete(key);
      this.pump();
    });
  }

  private emit(event: WorkerEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch {
      // A listener's failure is the listener's: the worker goes on.
    }
  }
}
