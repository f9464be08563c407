import type { ExecutionCommandHandler } from '../../commands/executionCommandHandler.js';
import { DomainError, invalidState } from '../../domain/errors.js';
import { tenantOf } from '../../domain/tenants.js';
import { MAX_CLAIM, MAX_LEASE_MS } from '../../domain/limits.js';
import type { ExecutionCommand } from '../../domain/execution/commands.js';
import type { ExecutionState } from '../../domain/execution/state.js';
import type { NodeStarted } from '../../domain/execution/events.js';
import type { NodeTypeLookup } from '../../domain/workflow/nodeCapabilities.js';
import type { RecordedEvent } from '../../eventstore/eventStore.js';
import { handleOnLatest } from '../latestState.js';
import type { WorkQueueStore } from './workQueueStore.js';

/** A node attempt handed to an external worker: it is RUNNING and the worker's until `leaseExpiresAt`. */
export interface ClaimedNode {
  executionId: string;
  nodeId: string;
  attempt: number;
  input: Record<string, unknown>;
  parameters: Record<string, unknown> | null;
  leaseExpiresAt: string;
}

/**
 * The node a worker's call is about, and the attempt it claimed: a call naming an attempt that is
 * over (lease expired, timed out, retried, cancelled) is refused with INVALID_FLOW_STATE and
 * changes nothing. Without `attempt`, the node's current attempt is meant (a node settled
 * without being claimed, straight from QUEUED).
 */
export interface WorkerCall {
  executionId: string;
  nodeId: string;
  attempt?: number;
  /** The worker's tenant (default `default`): another tenant's execution is answered as an unknown one. */
  tenantId?: string;
}

export interface ClaimOptions {
  /** At most this many nodes (default 1). */
  max?: number;
  /** How long the worker holds each node before it must report progress (default: the engine's leaseMs). */
  leaseMs?: number;
  /** Only jobs of this tenant's executions (default `default`). */
  tenantId?: string;
}

/** How long a reserved job is kept from other callers while its StartNode is sent. */
const RESERVATION_MS = 10_000;

function checkLease(leaseMs: number): void {
  if (!Number.isInteger(leaseMs) || leaseMs < 1 || leaseMs > MAX_LEASE_MS) throw new DomainError('BAD_USER_INPUT', `leaseMs must be an integer between 1 and ${MAX_LEASE_MS}`);
}

/**
 * The external worker protocol. `claim` hands out queued `external` nodes: a job is reserved in
 * the table (each to one caller, across processes), then started with StartNode, which leases the
 * attempt to the worker; the decider has the last word, so a job whose node was meanwhile
 * cancelled, paused, settled or started elsewhere is dropped rather than handed out. The other
 * calls are the worker's reports, decided on the latest state of the execution, since another
 * process may have ended the attempt.
 */
export class WorkQueue {
  constructor(
    private readonly jobs: WorkQueueStore,
    private readonly handler: ExecutionCommandHandler,
    private readonly clock: () => Date,
    private readonly defaultLeaseMs: number,
    private readonly nodeTypes: NodeTypeLookup,
  ) {}

  async claim(queue: string, workerId: string, options: ClaimOptions = {}): Promise<ClaimedNode[]> {
    const { max = 1, leaseMs = this.defaultLeaseMs } = options;
    if (!Number.isInteger(max) || max < 1 || max > MAX_CLAIM) throw new DomainError('BAD_USER_INPUT', `max must be between 1 and ${MAX_CLAIM}`);
    checkLease(leaseMs);
    const now = this.clock();
    const reserved = await this.jobs.reserve(tenantOf(options), queue, max, now, new Date(now.getTime() + RESERVATION_MS));
    const claimed = await Promise.all(reserved.map((job) => this.start(job, workerId, leaseMs)));
    // Started jobs are done; refused ones are dropped (a resume offers a paused execution's again).
    await this.jobs.remove(reserved);
    return claimed.filter((node): node is ClaimedNode => node !== null);
  }

  /** A heartbeat: progress and message (either may be null), and the lease renewed by `leaseMs`, else by as long as it was claimed for. */
  async reportProgress(call: WorkerCall, report: { progress: number | null; message: string | null; leaseMs?: number | null }): Promise<ExecutionState> {
    const { nodeId, attempt } = call;
    if (report.leaseMs !== null && report.leaseMs !== undefined) checkLease(report.leaseMs);
    return this.report(call, { type: 'ReportNodeProgress', data: { nodeId, attempt, ...report, leaseMs: report.leaseMs ?? null } });
  }

  async complete(call: WorkerCall, result: { output: unknown; outputName?: string | null }): Promise<ExecutionState> {
    const { nodeId, attempt } = call;
    return this.report(call, { type: 'CompleteNode', data: { nodeId, attempt, output: result.output, outputName: result.outputName ?? null } });
  }

  /** A failed attempt, retried by the node's policy unless `retryable` is false. */
  async fail(call: WorkerCall, failure: { error: string; retryable?: boolean }): Promise<ExecutionState> {
    const { nodeId, attempt } = call;
    return this.report(call, { type: 'FailNode', data: { nodeId, attempt, error: failure.error, retryable: failure.retryable ?? true } });
  }

  /**
   * A worker hands an attempt back (it is stopping): the node is queued again as a new attempt at
   * once, for another worker, and the handed-back attempt counts as no failure. An attempt that is
   * already over changes nothing, so a worker stopping after its lease ran out is not refused.
   */
  async release(call: WorkerCall & { attempt: number }, reason: string): Promise<ExecutionState> {
    const { nodeId, attempt } = call;
    return this.report(call, { type: 'ReleaseNode', data: { nodeId, attempt, reason } });
  }

  /**
   * Only worker-run (`external`) nodes are a worker's to settle: the runner settles the others with the same
   * commands, and a worker (or anyone with API access) must not forge a delay's or an http node's
   * result. A node's type never changes within an execution, so the latest state decides it.
   */
  private async report({ executionId, tenantId }: WorkerCall, command: ExecutionCommand & { data: { nodeId: string } }): Promise<ExecutionState> {
    const state = await this.handler.load(executionId);
    if (!state || state.tenantId !== tenantOf({ tenantId })) throw new DomainError('NOT_FOUND', `execution ${executionId} not found`);
    const type = state?.graph.nodes.get(command.data.nodeId)?.type;
    if (type !== undefined && this.nodeTypes.get(type)?.runs !== 'worker') {
      throw invalidState(`node ${command.data.nodeId} is a ${type} node: only external nodes are settled by workers`, { nodeId: command.data.nodeId });
    }
    return (await this.handler.handleAll(executionId, [command], { causationId: 'worker' })).state;
  }

  private async start(job: { executionId: string; nodeId: string; attempt: number }, workerId: string, leaseMs: number): Promise<ClaimedNode | null> {
    const { executionId, nodeId, attempt } = job;
    try {
      const { state, events } = await handleOnLatest(
        this.handler,
        executionId,
        { type: 'StartNode', data: { nodeId, attempt, workerId, leaseMs } },
        { causationId: `worker:${workerId}` },
      );
      // The state may already hold later commands decided in the same commit; the event is this start's own.
      const { leaseExpiresAt } = (events[0] as RecordedEvent & NodeStarted).data;
      const input = state.nodes.get(nodeId)!.input ?? {};
      return { executionId, nodeId, attempt, input, parameters: state.graph.nodes.get(nodeId)?.parameters ?? null, leaseExpiresAt: leaseExpiresAt! };
    } catch (error) {
      if (error instanceof DomainError) return null;
      throw error;
    }
  }
}
