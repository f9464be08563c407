import { Worker } from 'node:worker_threads';
import { DEFAULT_EXPRESSION_BOUNDS, type ExpressionBounds } from './expressionBounds.js';
import type { EvaluationReply, EvaluationRequest } from './evaluationMessages.js';
import { ExpressionError, quoted } from './expressionError.js';

/** The one way to evaluate JSONata: expression + context (+ signal) -> plain JSON data, or an ExpressionError. */
export interface ExpressionEvaluator {
  /** Rejects with an ExpressionError, or with the signal's reason once it aborts. `bindings` are `$variables` (plain data). */
  evaluate(expression: string, context: unknown, signal?: AbortSignal, bindings?: Record<string, unknown>): Promise<unknown>;
  close(): Promise<void>;
}

export interface ExpressionPoolOptions {
  bounds?: ExpressionBounds;
  /** Workers at most; they start when first needed and stay warm. */
  size?: number;
}

/**
 * Two workers: a hostile expression holding one for its time bound leaves the other to serve
 * everyone else, and each idle worker costs a V8 heap (about 10 MB).
 */
const DEFAULT_POOL_SIZE = 2;
/** Requests waiting while every worker is busy go out together, this many per message. */
const BATCH_SIZE = 16;
/**
 * JSONata stops its own overruns at the time bound; a worker still busy this much later is stuck
 * where no check runs (a backtracking regular expression) and is terminated.
 */
const TERMINATE_GRACE_MS = 250;

/**
 * Compiled, the worker is the .js beside this file. From sources (vitest, tsx) it is TypeScript:
 * a worker does not inherit the loader hooks of `--import tsx` on Node 20, so a small bootstrap
 * registers tsx in the worker first.
 */
const FROM_SOURCES = import.meta.url.endsWith('.ts');
const WORKER_ENTRY = new URL(FROM_SOURCES ? './evaluationWorker.ts' : './evaluationWorker.js', import.meta.url);

function workerScript(): { script: string | URL; eval: boolean } {
  if (!FROM_SOURCES) return { script: WORKER_ENTRY, eval: false };
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(WORKER_ENTRY.href)}); })`;
  // A worker that cannot load is an 'error' event for the pool, like any other worker failure.
  return { script: `${boot}.catch((error) => { throw error; });`, eval: true };
}

interface Job {
  request: EvaluationRequest;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
  settled: boolean;
}

/** A worker and the requests it was sent, oldest (the one it is evaluating) first. */
interface Slot {
  worker: Worker;
  batch: Job[];
  ready: boolean;
  watchdog: NodeJS.Timeout | undefined;
}

/**
 * Evaluates expressions on a pool of warm worker threads, off the event loop that serves
 * requests, each under the time, depth and memory bounds. A worker past its time bound, out of
 * memory or aborted is terminated and replaced; the requests queued behind its current one go
 * to the next worker.
 */
export class ExpressionPool implements ExpressionEvaluator {
  private readonly bounds: ExpressionBounds;
  private readonly size: number;
  private readonly queue: Job[] = [];
  private readonly slots = new Set<Slot>();
  private nextId = 1;
  private closed = false;

  constructor(options: ExpressionPoolOptions = {}) {
    this.bounds = options.bounds ?? DEFAULT_EXPRESSION_BOUNDS;
    this.size = options.size ?? DEFAULT_POOL_SIZE;
  }

  evaluate(expression: string, context: unknown, signal?: AbortSignal, bindings?: Record<string, unknown>): Promise<unknown> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    if (this.closed) return Promise.reject(new ExpressionError('the expression evaluator is closed', false));
    return new Promise((resolve, reject) => {
      const job: Job = { request: { id: this.nextId++, expression, context, bindings }, resolve, reject, signal, onAbort: () => this.abort(job), settled: false };
      signal?.addEventListener('abort', job.onAbort, { once: true });
      this.queue.push(job);
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) settle(job, failed(new ExpressionError('the expression evaluator is closed', false)));
    const slots = [...this.slots];
    this.slots.clear();
    for (const slot of slots) for (const job of slot.batch) settle(job, failed(new ExpressionError('the expression evaluator is closed', false)));
    await Promise.all(slots.map((slot) => this.terminate(slot)));
  }

  /**
   * Starts a worker now when none runs, so that the first request does not wait for a thread to
   * boot (on a busy machine, from sources, that took 0.6 to 1.7 s; compiled, tens of ms).
   */
  warm(): void {
    if (!this.closed && this.slots.size === 0) this.spawn();
  }

  /** Whether some worker has booted: a request sent now does not wait for a thread to start. */
  get booted(): boolean {
    for (const slot of this.slots) if (slot.ready) return true;
    return false;
  }

  /** Hands waiting requests to idle workers, starting workers up to the pool's size. */
  private pump(): void {
    while (this.queue.length > 0) {
      const slot = this.idleSlot();
      if (!slot) return;
      const batch = this.queue.splice(0, BATCH_SIZE);
      try {
        slot.worker.postMessage(batch.map((job) => job.request));
      } catch (error) {
        // A context that is not plain data (DataCloneError): nothing was sent.
        for (const job of batch)
          settle(job, failed(new ExpressionError(`expression ${quoted(job.request.expression)} got a context that is not plain data: ${(error as Error).message}`, false)));
        continue;
      }
      slot.batch.push(...batch);
      this.arm(slot);
    }
  }

  private idleSlot(): Slot | undefined {
    for (const slot of this.slots) if (slot.batch.length === 0) return slot;
    return this.slots.size < this.size ? this.spawn() : undefined;
  }

  private spawn(): Slot {
    const { memoryMb } = this.bounds;
    const { script, eval: isScript } = workerScript();
    const worker = new Worker(script, {
      eval: isScript,
      workerData: this.bounds,
      resourceLimits: { maxOldGenerationSizeMb: memoryMb, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
    });
    // Workers never keep a process alive: whoever waits on an evaluation holds something else open.
    worker.unref();
    const slot: Slot = { worker, batch: [], ready: false, watchdog: undefined };
    worker.on('message', (reply: EvaluationReply) => this.onReply(slot, reply));
    worker.on('error', (error: Error & { code?: string }) => {
      const memory = error.code === 'ERR_WORKER_OUT_OF_MEMORY';
      const message = (expression: string) =>
        memory ? `expression ${quoted(expression)} went past its memory bound of ${memoryMb} MB` : `expression ${quoted(expression)} ended its worker: ${error.message}`;
      this.replace(slot, (job) => new ExpressionError(message(job.request.expression), memory));
    });
    worker.on('exit', () => this.replace(slot, (job) => new ExpressionError(`expression ${quoted(job.request.expression)} ended its worker`, false)));
    this.slots.add(slot);
    return slot;
  }

  private onReply(slot: Slot, reply: EvaluationReply): void {
    if (reply === 'ready') {
      slot.ready = true;
      return this.arm(slot);
    }
    const job = slot.batch.shift();
    if (job) settle(job, reply.ok ? { ok: true, value: reply.json === undefined ? undefined : JSON.parse(reply.json) } : failed(new ExpressionError(reply.message, reply.limit)));
    if (slot.batch.length > 0) this.arm(slot);
    else {
      clearTimeout(slot.watchdog);
      this.pump();
    }
  }

  /** Starts the clock of the request the worker is on now (it takes its batch in order). */
  private arm(slot: Slot): void {
    clearTimeout(slot.watchdog);
    if (!slot.ready || slot.batch.length === 0) return;
    const { timeoutMs } = this.bounds;
    slot.watchdog = setTimeout(
      () => this.replace(slot, (job) => new ExpressionError(`expression ${quoted(job.request.expression)} went past its time bound of ${timeoutMs} ms`, true)),
      timeoutMs + TERMINATE_GRACE_MS,
    );
    slot.watchdog.unref();
  }

  private abort(job: Job): void {
    if (job.settled) return;
    const queued = this.queue.indexOf(job);
    if (queued >= 0) this.queue.splice(queued, 1);
    const slot = [...this.slots].find((each) => each.batch[0] === job);
    // Only the request being evaluated holds its worker; a later one is answered now and its reply ignored.
    if (slot) this.replace(slot, () => job.signal!.reason);
    else settle(job, failed(job.signal!.reason));
  }

  /** Terminates a worker: its current request fails with `failure`, the rest of its batch waits for another. */
  private replace(slot: Slot, failure: (job: Job) => unknown): void {
    if (!this.slots.delete(slot)) return;
    const [current, ...rest] = slot.batch;
    slot.batch = [];
    if (current) settle(current, failed(failure(current)));
    this.queue.unshift(...rest.filter((job) => !job.settled));
    void this.terminate(slot);
    if (!this.closed) this.pump();
  }

  private async terminate(slot: Slot): Promise<void> {
    clearTimeout(slot.watchdog);
    await slot.worker.terminate().catch(() => undefined);
  }
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

function settle(job: Job, outcome: Outcome): void {
  if (job.settled) return;
  job.settled = true;
  job.signal?.removeEventListener('abort', job.onAbort);
  if (outcome.ok) job.resolve(outcome.value);
  else job.reject(outcome.error);
}

const failed = (error: unknown): Outcome => ({ ok: false, error });
