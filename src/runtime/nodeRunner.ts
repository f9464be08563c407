import type { ExecutionCommandHandler } from '../commands/executionCommandHandler.js';
import type { ExecutionCommand } from '../domain/execution/commands.js';
import { DomainError } from '../domain/errors.js';
import type { ExecutionState } from '../domain/execution/state.js';
import { isDelayNode } from './nodes/delayNode.js';
import { PermanentNodeError, type NodeExecutor } from './nodes/nodeExecutor.js';
import { Semaphore } from './semaphore.js';

export interface NodeJob {
  executionId: string;
  nodeId: string;
  attempt: number;
  /** The stream version of the event that queued the attempt, when known: a state this recent needs no re-read. */
  queuedAt?: number;
}

export interface NodeRunnerOptions {
  workerId: string;
  concurrency: number;
  /** How long a started attempt is ours before another runtime may take it back; renewed while it runs. */
  leaseMs: number;
  executors: ReadonlyMap<string, NodeExecutor>;
  /** Types whose executor only computes from its input: run first, then started and settled in one commit. */
  sideEffectFree: ReadonlySet<string>;
  /**
   * How many side-effect-free nodes may be in hand at once. They hold no connection or socket, so
   * this bound is far above `concurrency`: the more of them wait on one append, the fewer commits.
   */
  computeConcurrency: number;
  onError?: (error: unknown, job: NodeJob) => void;
}

class Stopping extends Error {}

/** Renewing a few times per lease rides out a slow renewal or two. */
const HEARTBEATS_PER_LEASE = 3;

const jobKey = (job: NodeJob) => `${job.executionId}\u0000${job.nodeId}\u0000${job.attempt}`;
const QUEUE_READY: ExecutionCommand = { type: 'QueueReadyNodes' };
const isQueued = (state: ExecutionState | null, job: NodeJob): boolean => {
  const node = state?.nodes.get(job.nodeId);
  return node?.status === 'QUEUED' && node.attempt === job.attempt;
};

/**
 * Runs queued built-in nodes: StartNode, the executor with an AbortSignal, then CompleteNode or
 * FailNode. Each attempt runs at most once: a job already in hand is ignored, and StartNode is
 * refused by the decider for an attempt that another runtime started, or that waits to retry
 * (its retry timer dispatches it again). Timeouts are durable timers (see timerPlan): the
 * runner learns of one as the event that ended the attempt, through `abort`.
 */
export class NodeRunner {
  private readonly inHand = new Set<string>();
  private readonly running = new Map<string, AbortController>();
  private readonly finished = new Set<Promise<void>>();
  private readonly slots: Semaphore;
  private readonly computeSlots: Semaphore;
  private stopping = false;

  constructor(
    private readonly handler: ExecutionCommandHandler,
    private readonly options: NodeRunnerOptions,
  ) {
    this.slots = new Semaphore(options.concurrency);
    this.computeSlots = new Semaphore(options.computeConcurrency);
  }

  dispatch(job: NodeJob): void {
    const key = jobKey(job);
    if (this.stopping || this.inHand.has(key)) return;
    this.inHand.add(key);
    const done = this.run(job, key)
      .catch((error) => this.options.onError?.(error, job))
      .finally(() => {
        this.inHand.delete(key);
        this.finished.delete(done);
      });
    this.finished.add(done);
  }

  get runningCount(): number {
    return this.running.size;
  }

  /** Aborts the running attempts of an execution (all its nodes, or one node, or one attempt of it). */
  abort(executionId: string, nodeId?: string, attempt?: number): void {
    for (const [key, controller] of this.running) {
      const [execution, node, running] = key.split('\u0000');
      const matches = execution === executionId && (nodeId === undefined || node === nodeId) && (attempt === undefined || running === String(attempt));
      if (matches) controller.abort(new Error('cancelled'));
    }
  }

  /** Stops taking work and hands running attempts back (they are queued again as a new attempt). */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const controller of this.running.values()) controller.abort(new Stopping('runtime stopping'));
    while (this.finished.size > 0) await Promise.allSettled([...this.finished]);
  }

  private async run(job: NodeJob, key: string): Promise<void> {
    const state = await this.queuedState(job);
    const definition = state?.graph.nodes.get(job.nodeId);
    if (!state || !definition) return;
    // Its timer completes it, and needs no runtime alive meanwhile: no lease.
    if (isDelayNode(definition)) return void (await this.settle(job, [this.startCommand(job, null)]));
    const executor = this.options.executors.get(definition.type);
    if (!executor) return;
    const controller = new AbortController();
    this.running.set(key, controller);
    try {
      const pure = this.options.sideEffectFree.has(definition.type);
      const release = await (pure ? this.computeSlots : this.slots).acquire();
      try {
        if (controller.signal.aborted) return;
        if (pure) await this.compute(job, state, executor, controller);
        else if (await this.settle(job, [this.startCommand(job, this.options.leaseMs)])) await this.execute(job, state, executor, controller);
      } finally {
        release();
      }
    } catch (error) {
      if (!(error instanceof Stopping) && !controller.signal.aborted) throw error;
    } finally {
      this.running.delete(key);
    }
  }

  /** The cached state answers when it has seen the queueing event; otherwise the store does. */
  private async queuedState(job: NodeJob): Promise<ExecutionState | null> {
    const cached = await this.handler.current(job.executionId);
    if (isQueued(cached, job)) return cached;
    // The cache has seen the queueing event and moved on: that attempt is over.
    if (cached && job.queuedAt !== undefined && cached.version >= job.queuedAt) return null;
    const latest = await this.handler.load(job.executionId);
    return isQueued(latest, job) ? latest : null;
  }

  private startCommand(job: NodeJob, leaseMs: number | null): ExecutionCommand {
    return { type: 'StartNode', data: { nodeId: job.nodeId, attempt: job.attempt, workerId: this.options.workerId, leaseMs } };
  }

  /**
   * A side-effect-free node runs before it is recorded as started: running it twice harms nothing,
   * so its start, its outcome and the readiness of its dependents share one commit.
   */
  private async compute(job: NodeJob, state: ExecutionState, executor: NodeExecutor, controller: AbortController): Promise<void> {
    const outcome = await this.outcome(job, state, executor, controller);
    if (!controller.signal.aborted) await this.settle(job, [this.startCommand(job, null), outcome, QUEUE_READY]);
  }

  private async execute(job: NodeJob, state: ExecutionState, executor: NodeExecutor, controller: AbortController): Promise<void> {
    const heartbeat = setInterval(() => this.renewLease(job), this.options.leaseMs / HEARTBEATS_PER_LEASE);
    try {
      const outcome = await this.outcome(job, state, executor, controller);
      await this.settle(job, outcome.type === 'ReleaseNode' ? [outcome] : [outcome, QUEUE_READY]);
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** What the attempt ended as: completed, failed, or handed back because this runtime stops. */
  private async outcome(job: NodeJob, state: ExecutionState, executor: NodeExecutor, controller: AbortController): Promise<ExecutionCommand> {
    const { nodeId, attempt } = job;
    try {
      const result = await executor({
        node: state.graph.nodes.get(nodeId)!,
        attempt,
        input: state.nodes.get(nodeId)!.input ?? {},
        triggerData: state.triggerData,
        nodeOutputs: () => completedOutputs(state),
        signal: controller.signal,
      });
      if (controller.signal.aborted) throw controller.signal.reason;
      return { type: 'CompleteNode', data: { nodeId, attempt, output: result.output ?? null, outputName: result.outputName ?? null } };
    } catch (caught) {
      const error: unknown = controller.signal.aborted ? controller.signal.reason : caught;
      if (error instanceof Stopping) return { type: 'ReleaseNode', data: { nodeId, attempt, reason: error.message } };
      const message = error instanceof Error ? error.message : String(error);
      return { type: 'FailNode', data: { nodeId, attempt, error: message, retryable: !(error instanceof PermanentNodeError) } };
    }
  }

  /** A live runtime keeps its attempts: only a dead one lets their leases run out. */
  private renewLease(job: NodeJob): void {
    const command: ExecutionCommand = {
      type: 'ReportNodeProgress',
      data: { nodeId: job.nodeId, attempt: job.attempt, progress: null, message: null, leaseMs: this.options.leaseMs },
    };
    this.settle(job, [command]).catch((error: unknown) => this.options.onError?.(error, job));
  }

  /**
   * A refusal means the world moved on (cancelled, paused, taken by another runtime): not an
   * error. Nodes the commit queued are taken up at once, without waiting for the log to say so.
   */
  private async settle(job: NodeJob, commands: ExecutionCommand[]): Promise<boolean> {
    try {
      const { events } = await this.handler.handleAll(job.executionId, commands, { causationId: `runner:${this.options.workerId}` });
      for (const event of events) {
        if (event.type !== 'NodeQueued') continue;
        const { nodeId, attempt } = event.data as { nodeId: string; attempt: number };
        this.dispatch({ executionId: job.executionId, nodeId, attempt, queuedAt: event.streamVersion });
      }
      return true;
    } catch (error) {
      if (error instanceof DomainError) return false;
      throw error;
    }
  }
}

function completedOutputs(state: ExecutionState): Record<string, unknown> {
  const outputs: Record<string, unknown> = {};
  for (const [id, node] of state.nodes) if (node.status === 'COMPLETED') outputs[id] = node.output;
  return outputs;
}
