/** A claimed attempt of an `external` node, as the handler gets it. */
export interface Job {
  queue: string;
  executionId: string;
  nodeId: string;
  /** The claimed attempt: the worker settles exactly this one. */
  attempt: number;
  /** `{ <upstream node id>: output }` (null unless the key may view payloads). */
  input: Record<string, unknown> | null;
  /** The node's parameters (`queue` and whatever else the workflow gave it). */
  parameters: Record<string, unknown> | null;
  leaseExpiresAt: string;
}

export interface JobContext {
  /**
   * Aborts when the attempt is over for the server (the node or its execution was cancelled, it
   * timed out, its lease was lost or a renewal refused: `signal.reason.code` ATTEMPT_OVER or
   * LEASE_LOST) or the worker is stopping (STOPPING: the job was handed back). After that the
   * handler's result is dropped.
   */
  signal: AbortSignal;
  /** Reports progress (0 to 100, or null) and a message; renews the lease as well. */
  reportProgress(progress: number | null, message?: string | null): Promise<void>;
}

/** Returns the node's output (JSON); a throw fails the attempt (retried by the node's policy unless the error has `retryable: false`). */
export type JobHandler = (job: Job, context: JobContext) => Promise<unknown>;

/** What a worker did, for logs and tests (`onEvent`). */
export type WorkerEvent =
  | { type: 'listening' }
  | { type: 'claimed'; job: Job }
  | { type: 'completed'; job: Job; output: unknown }
  | { type: 'failed'; job: Job; error: unknown }
  | { type: 'aborted'; job: Job; reason: string }
  | { type: 'released'; job: Job }
  | { type: 'error'; error: unknown; job?: Job };

export interface WorkerOptions {
  /** The server: its base URL (`http://host:3000`) or its GraphQL endpoint (`.../graphql`). */
  url: string;
  /** A key with the WORKER role on `queue` (or ADMIN). */
  apiKey: string;
  queue: string;
  handler: JobHandler;
  /** How many jobs run at once (1 to 1,000; default 1). */
  concurrency?: number;
  /** The lease of each claimed job, renewed every third of it (1,000 to 3,600,000 ms; default 30,000). */
  leaseMs?: number;
  /** Recorded with each attempt it starts (default: host, pid and a random suffix). */
  workerId?: string;
  /** A WebSocket class for the subscription (default: the global one, else the `ws` package). */
  webSocketImpl?: unknown;
  onEvent?: (event: WorkerEvent) => void;
}

export interface Worker {
  /** Stops claiming, hands the running jobs back (each at once claimable by another worker), and resolves once their handlers have returned. */
  stop(): Promise<void>;
  /** How many jobs run now. */
  readonly running: number;
}
