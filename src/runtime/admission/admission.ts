import type { CommandContext, ExecutionCommandHandler } from '../../commands/executionCommandHandler.js';
import { isDatabaseFault } from '../../db/databaseFaults.js';
import { OutageReporter } from '../../db/faultRetry.js';
import type { SqlClient, SqlExecutor } from '../../db/sqlClient.js';
import { DomainError } from '../../domain/errors.js';
import type { ExecutionCommand } from '../../domain/execution/commands.js';
import { EXECUTION_STREAM_PREFIX, type ExecutionParent } from '../../domain/execution/events.js';
import type { RerunRequest } from '../../domain/execution/rerun.js';
import type { ExecutionState } from '../../domain/execution/state.js';
import { isTriggerOf, type NodeTypeLookup } from '../../domain/workflow/nodeCapabilities.js';
import type { Workflow } from '../../domain/workflow/workflow.js';
import type { EventStore, RecordedEvent } from '../../eventstore/eventStore.js';
import { applySlotEvents, SLOT_EVENT_TYPES, type MovableQueue } from './admissionEvents.js';
import { scopeOf, SlotStore, type SlotRow, type SlotScope } from './admissionStore.js';
import { TenantLimits } from './tenantLimits.js';
import { tenantOf } from '../../domain/tenants.js';
import { CheckpointedFeed } from '../feeds/checkpointedFeed.js';

export interface StartRequest {
  /** Random for a one-off start; derived from the occurrence when a trigger may fire it twice. */
  executionId: string;
  workflow: Workflow;
  triggerNodeId: string;
  triggerData: unknown;
  /** Makes the start a rerun of a finished execution. */
  rerun?: RerunRequest;
  context?: CommandContext;
  /** The same key for the same workflow starts one execution (see IdempotentStarts); ignored by Admission. */
  idempotencyKey?: string | null;
  /** Makes it a child execution of that node attempt (a `workflow` or `map` node). */
  parent?: ExecutionParent;
}

export type StartExecution = (request: StartRequest) => Promise<ExecutionState>;

export interface ActiveTrigger {
  triggerNodeId: string;
  triggerType: string;
  /** Admitted and not finished (paused ones included), in start order. */
  runningExecutions: string[];
  /** Waiting for a slot. */
  queuedExecutions: number;
}

export interface AdmissionOptions {
  store: EventStore;
  db: SqlClient;
  handler: ExecutionCommandHandler;
  clock: () => Date;
  onError: (error: unknown) => void;
  /** Which nodes are triggers (a start from any other node takes no slot). */
  nodeTypes: NodeTypeLookup;
}

const SWEEP_INTERVAL_MS = 5_000;
/** A reservation or admission unconfirmed for this long is taken to belong to a process that died. */
const UNCONFIRMED_GRACE_MS = 10_000;
const DONE_RETENTION_MS = 24 * 60 * 60 * 1000;

/**
 * Concurrency limits (`settings.maxConcurrentExecutions`, per user who started them
 * `settings.maxConcurrentExecutionsPerUser`, and per tenant its `maxConcurrentExecutions`): every
 * start goes through here. Under the limits an execution starts RUNNING; over one, QUEUED, and it
 * is admitted first in, first out when a slot frees (a limited tenant's executions queue together,
 * across its workflows). Slots live in `execution_slots`, so several processes share them: starts
 * reserve a slot before the start event is appended, and the event log (followed by a feed)
 * confirms reservations, frees slots and drives admissions.
 */
export class Admission {
  private readonly slots: SlotStore;
  /** Each tenant's maxConcurrentExecutions; updateTenant tells it of a change (tenantLimitChanged). */
  private readonly tenantLimits: TenantLimits;
  private readonly feed: CheckpointedFeed;
  private sweepTimer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> = Promise.resolve();
  /** A sweep that fails for a lost connection runs again at the next interval: reported once per outage. */
  private readonly outage: OutageReporter;

  constructor(private readonly options: AdmissionOptions) {
    this.slots = new SlotStore(options.db);
    this.tenantLimits = new TenantLimits(options.db);
    this.outage = new OutageReporter(options.onError);
    this.feed = new CheckpointedFeed({
      store: options.store,
      db: options.db,
      name: 'execution-slots',
      filter: { streamPrefixes: [EXECUTION_STREAM_PREFIX], types: SLOT_EVENT_TYPES },
      handle: (events, checkpoint) => this.apply(events, checkpoint),
      onError: options.onError,
    });
  }

  async start(): Promise<void> {
    await this.feed.start();
    this.sweepTimer = setInterval(() => this.scheduleSweep(), SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
    this.scheduleSweep();
  }

  async stop(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    await this.sweeping;
    await this.feed.stop();
  }

  /** Starts an execution, QUEUED when its workflow is at its limit; a second start of the same id answers the first. */
  async startExecution(request: StartRequest): Promise<ExecutionState> {
    const { executionId, workflow, triggerNodeId, context = {} } = request;
    const reservation = await this.reserve(request);
    const waitsForSlot = reservation?.state === 'QUEUED';
    const command: ExecutionCommand = {
      type: 'StartExecution',
      data: {
        executionId,
        workflow,
        triggerNodeId,
        triggerData: request.triggerData,
        waitsForSlot,
        rerun: request.rerun,
        userId: context.userId ?? null,
        ...(request.parent ? { parent: request.parent } : {}),
      },
    };
    try {
      return (await this.options.handler.handle(executionId, command, context)).state;
    } catch (error) {
      // A start cut off by a lost connection may have been committed all the same: its slot stays
      // reserved, and the sweep settles it from the log (released only if the execution never started).
      if (reservation?.reserved && !isDatabaseFault(error)) await this.release(executionId, { workflowId: workflow.id, tenantId: tenantOf(workflow) });
      return this.existing(executionId, error);
    }
  }

  /** Running and queued executions of a workflow, per trigger node (every trigger of its latest version is listed). */
  async activeTriggers(workflow: Workflow): Promise<ActiveTrigger[]> {
    await this.feed.caughtUp();
    const triggers = new Map<string, ActiveTrigger>();
    const entry = (nodeId: string, type: string) =>
      triggers.get(nodeId) ?? triggers.set(nodeId, { triggerNodeId: nodeId, triggerType: type, runningExecutions: [], queuedExecutions: 0 }).get(nodeId)!;
    for (const node of workflow.nodes) if (isTriggerOf(this.options.nodeTypes, node.type)) entry(node.id, node.type);
    for (const slot of await this.slots.active(workflow.id)) count(entry(slot.triggerNodeId, slot.triggerType), slot);
    return [...triggers.values()];
  }

  /** A tenant's maxConcurrentExecutions changed (updateTenant): it counts at once, and a raised one admits who waits. */
  async tenantLimitChanged(tenantId: string, limit: number | null): Promise<void> {
    this.tenantLimits.changed(tenantId, limit);
    if (limit !== null) return this.admitScope({ kind: 'tenant', tenantId, limit });
    // No tenant limit any more: each workflow's queue moves by its own limits.
    await this.admitAll((await this.slots.queuedWorkflows(tenantId)).map((workflowId) => ({ workflowId, tenantId })));
  }

  /** Admits queued executions into free slots: of the tenant's queue when it has a limit, else of each workflow's. */
  private async admitAll(queues: readonly MovableQueue[]): Promise<void> {
    const scopes = new Map<string, SlotScope>();
    for (const { workflowId, tenantId } of queues) {
      const scope = scopeOf(workflowId, tenantId, await this.tenantLimits.of(tenantId));
      scopes.set(JSON.stringify(scope), scope);
    }
    for (const scope of scopes.values()) await this.admitScope(scope);
  }

  private async admitScope(scope: SlotScope): Promise<void> {
    for (const executionId of await this.slots.admitQueued(scope, this.options.clock())) await this.admitExecution(executionId);
  }

  private async reserve({ executionId, workflow, triggerNodeId, context }: StartRequest) {
    const limit = workflow.settings?.maxConcurrentExecutions ?? null;
    const maxPerUser = workflow.settings?.maxConcurrentExecutionsPerUser ?? null;
    const tenantId = tenantOf(workflow);
    const tenantLimit = await this.tenantLimits.of(tenantId);
    const trigger = workflow.nodes.find((node) => node.id === triggerNodeId);
    // A start the decider will refuse (no such trigger) takes no slot.
    if ((limit === null && maxPerUser === null && tenantLimit === null) || !trigger || !isTriggerOf(this.options.nodeTypes, trigger.type)) return null;
    const reservation = { executionId, workflowId: workflow.id, triggerNodeId, triggerType: trigger.type, limit, userId: context?.userId ?? null, maxPerUser, tenantId };
    return this.slots.reserve(reservation, scopeOf(workflow.id, tenantId, tenantLimit), this.options.clock());
  }

  private async release(executionId: string, queue: MovableQueue): Promise<void> {
    await this.slots.release(executionId);
    await this.admitAll([queue]);
  }

  private async existing(executionId: string, error: unknown): Promise<ExecutionState> {
    const duplicate = error instanceof DomainError && error.code === 'INVALID_FLOW_STATE';
    const state = duplicate ? await this.options.handler.load(executionId) : null;
    if (!state) throw error;
    return state;
  }

  private async apply(events: RecordedEvent[], checkpoint: (tx: SqlExecutor) => Promise<void>): Promise<void> {
    const now = this.options.clock();
    const movable = await this.options.db.transaction(async (tx) => {
      const workflows = await applySlotEvents(tx, events, now);
      await checkpoint(tx);
      return workflows;
    });
    await this.admitAll(movable);
  }

  private scheduleSweep(): void {
    this.sweeping = this.sweeping
      .then(() => this.sweep())
      .then(
        () => this.outage.succeeded(),
        (error: unknown) => this.outage.failed(error),
      );
  }

  /** Finishes what a dead process left half done: reservations never started, admissions never recorded. */
  private async sweep(): Promise<void> {
    const now = this.options.clock().getTime();
    for (const slot of await this.slots.unconfirmed(new Date(now - UNCONFIRMED_GRACE_MS))) await this.recover(slot);
    await this.slots.prune(new Date(now - DONE_RETENTION_MS));
  }

  private async recover(slot: SlotRow): Promise<void> {
    const state = await this.options.handler.load(slot.executionId);
    if (!state) await this.release(slot.executionId, slot);
    else if (slot.state === 'RUNNING' && state.status === 'QUEUED') await this.admitExecution(slot.executionId);
  }

  /** A refusal means the execution moved on (it was cancelled meanwhile): nothing to do. */
  private async admitExecution(executionId: string): Promise<void> {
    try {
      await this.options.handler.handle(executionId, { type: 'AdmitExecution' }, { causationId: 'admission' });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
    }
  }
}

function count(trigger: ActiveTrigger, slot: SlotRow): void {
  if (slot.state === 'RUNNING') trigger.runningExecutions.push(slot.executionId);
  else trigger.queuedExecutions += 1;
}
