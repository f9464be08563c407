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
}

export interface NodeRunnerOptions {
  workerId: string;
  concurrency: number;
  /** How long a started attempt is ours before another runtime may take it back; renewed while it runs. */
  leaseMs: number;
  executors: ReadonlyMap<string, NodeExecutor>;
  onError?: (error: unknown, job: NodeJob) => void;
}

class Stopping extends Error {}

/** Renewing a few times per lease rides out a slow renewal or two. */
const HEARTBEATS_PER_LEASE = 3;

const jobKey = (job: NodeJob) => `${job.executionId}\u0000${job.nodeId}\u0000${job.attempt}`;

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
  private stopping = false;

  constructor(
    private readonly handler: ExecutionCommandHandler,
    private readonly options: NodeRunnerOptions,
  ) {
    this.slots = new Semaphore(options.concurrency);
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
    const state = await this.handler.load(job.executionId);
    const node = state?.nodes.get(job.nodeId);
    const definition = state?.graph.nodes.get(job.nodeId);
    if (!state || !node || node.status !== 'QUEUED' || node.attempt !== job.attempt) return;
    // Its timer completes it, and needs no runtime alive meanwhile: no lease.
    if (isDelayNode(definition)) return void (await this.start(job, null));
    const executor = this.options.executors.get(definition?.type ?? '');
    if (!executor) return;
    const controller = new AbortController();
    this.running.set(key, controller);
    try {
      const release = await this.slots.acquire();
      try {
        if (controller.signal.aborted || !(await this.start(job, this.options.leaseMs))) return;
        await this.execute(job, state, executor, controller);
      } finally {
        release();
      }
    } catch (error) {
      if (!(error instanceof Stopping) && !controller.signal.aborted) throw error;
    } finally {
      this.running.delete(key);
    }
  }

  private async start(job: NodeJob, leaseMs: number | null): Promise<boolean> {
    const { workerId } = this.options;
    return this.settle(job, { type: 'StartNode', data: { nodeId: job.nodeId, attempt: job.attempt, workerId, leaseMs } });
  }

  private async execute(job: NodeJob, state: ExecutionState, executor: NodeExecutor, controller: AbortController): Promise<void> {
    const node = state.graph.nodes.get(job.nodeId)!;
    const heartbeat = setInterval(() => this.renewLease(job), this.options.leaseMs / HEARTBEATS_PER_LEASE);
    try {
      const result = await executor({
        node,
        attempt: job.attempt,
        input: state.nodes.get(job.nodeId)!.input ?? {},
        triggerData: state.triggerData,
        nodeOutputs: () => completedOutputs(state),
        signal: controller.signal,
      });
      if (controller.signal.aborted) throw controller.signal.reason;
      await this.settle(job, { type: 'CompleteNode', data: { nodeId: job.nodeId, attempt: job.attempt, output: result.output ?? null, outputName: result.outputName ?? null } });
    } catch (error) {
      await this.settleFailure(job, controller.signal.aborted ? controller.signal.reason : error);
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** A live runtime keeps its attempts: only a dead one lets their leases run out. */
  private renewLease(job: NodeJob): void {
    const command: ExecutionCommand = {
      type: 'ReportNodeProgress',
      data: { nodeId: job.nodeId, attempt: job.attempt, progress: null, message: null, leaseMs: this.options.leaseMs },
    };
    this.settle(job, command).catch((error: unknown) => this.options.onError?.(error, job));
  }

  private async settleFailure(job: NodeJob, error: unknown): Promise<void> {
    const { nodeId, attempt } = job;
    if (error instanceof Stopping) {
      await this.settle(job, { type: 'ReleaseNode', data: { nodeId, attempt, reason: error.message } });
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    const retryable = !(error instanceof PermanentNodeError);
    await this.settle(job, { type: 'FailNode', data: { nodeId, attempt, error: message, retryable } });
  }

  /** A refusal means the world moved on (cancelled, paused, taken by another runtime): not an error. */
  private async settle(job: NodeJob, command: ExecutionCommand): Promise<boolean> {
    try {
      await this.handler.handle(job.executionId, command, { causationId: `runner:${this.options.workerId}` });
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
