import type { ExecutionCommandHandler } from '../../commands/executionCommandHandler.js';
import type { WorkflowCommandHandler } from '../../commands/workflowCommandHandler.js';
import type { SqlClient, SqlExecutor } from '../../db/sqlClient.js';
import { DomainError } from '../../domain/errors.js';
import type { ExecutionCommand } from '../../domain/execution/commands.js';
import { EXECUTION_STREAM_PREFIX, type ExecutionEventType } from '../../domain/execution/events.js';
import type { ExecutionState } from '../../domain/execution/state.js';
import { MAX_SUBFLOW_DEPTH } from '../../domain/limits.js';
import { tenantOf } from '../../domain/tenants.js';
import { isTriggerOf, type NodeTypeLookup } from '../../domain/workflow/nodeCapabilities.js';
import type { Workflow } from '../../domain/workflow/workflow.js';
import type { ErrorReporter } from '../../errors/errorReporter.js';
import type { EventStore, RecordedEvent } from '../../eventstore/eventStore.js';
import { PermanentNodeError } from '../../nodes/nodeErrors.js';
import type { ChildPlan } from '../../nodes/nodeType.js';
import type { StartExecution } from '../admission/admission.js';
import { CheckpointedFeed } from '../feeds/checkpointedFeed.js';
import { handleOnLatest } from '../latestState.js';
import type { ChildRuns } from '../runner/nodeRunner.js';
import { childIdOf } from './childIds.js';
import { childOutcome } from './childOutcome.js';
import { ChildStore, type AttemptKey, type ChildToStart, type RunChange, type RunRow } from './childStore.js';

export interface SubflowsOptions {
  store: EventStore;
  db: SqlClient;
  handler: ExecutionCommandHandler;
  workflows: WorkflowCommandHandler;
  /** Starts a child execution (through admission, so that the child workflow's limits hold). */
  start: StartExecution;
  nodeTypes: NodeTypeLookup;
  onError: ErrorReporter;
}

/** A child's end: its parent takes its result. */
const ENDINGS = new Set<string>(['ExecutionCompleted', 'ExecutionFailed', 'ExecutionCancelled']);
/** A parent's attempt ends otherwise (cancelled, timed out): its children are cancelled. */
const ATTEMPT_ENDINGS = new Set<string>(['NodeCancelled', 'NodeFailed', 'NodeRetryScheduled', 'NodeReleased']);
/** A parent's pause and resume reach its running children. */
const CONTROLS = new Set<string>(['ExecutionPaused', 'ExecutionResumed']);
const FEED_TYPES = [...ENDINGS, ...ATTEMPT_ENDINGS, ...CONTROLS] as ExecutionEventType[];
const QUEUE_READY: ExecutionCommand = { type: 'QueueReadyNodes' };
/** Longest a checkpoint that only moved may wait to be written. */
const CHECKPOINT_INTERVAL_MS = 1_000;

const keyOf = ({ executionId, nodeId, attempt }: AttemptKey): string => `${executionId}\u0000${nodeId}\u0000${attempt}`;
/** What caused the commands a run sends: its parent's attempt. */
const causationOf = ({ executionId, nodeId, attempt }: AttemptKey): string => `subflow:${executionId}:${nodeId}:${attempt}`;
const unique = (values: string[]): string[] => [...new Set(values)];

/**
 * Child executions of `workflow` and `map` nodes (run mode `child`). The runner opens an
 * attempt (its children recorded in the database, the first ones claimed), starts the node, and
 * launches the claimed children. From then on a feed over execution outcomes drives everything:
 * a child's end records its result and starts the next item into the freed slot; the last one
 * (or a failure) settles the parent node; a parent's cancel, timeout, pause and resume reach its
 * children. Nothing about a child is held in memory between events, so 10,000 items cost rows.
 */
export class Subflows implements ChildRuns {
  private readonly feed: CheckpointedFeed;
  private savedAt = 0;

  constructor(private readonly options: SubflowsOptions) {
    this.feed = new CheckpointedFeed({
      store: options.store,
      db: options.db,
      name: 'subflows',
      filter: { streamPrefixes: [EXECUTION_STREAM_PREFIX], types: FEED_TYPES },
      handle: (events, checkpoint) => this.handle(events, checkpoint),
      onError: options.onError,
    });
  }

  start(): Promise<void> {
    return this.feed.start();
  }

  stop(): Promise<void> {
    return this.feed.stop();
  }

  /** Checks the plan, records the attempt's children and claims the first; answers what launches them once the node has started. */
  async open(job: AttemptKey, state: ExecutionState, plan: ChildPlan): Promise<() => Promise<void>> {
    const depth = (state.parent?.depth ?? 0) + 1;
    if (depth > MAX_SUBFLOW_DEPTH) {
      throw new PermanentNodeError(`node ${job.nodeId} would start a child execution nested ${depth} deep; at most ${MAX_SUBFLOW_DEPTH}`, 'SUBFLOW_DEPTH_EXCEEDED');
    }
    const workflow = await this.startable(plan, state.tenantId);
    const childIds = plan.triggers.map((_, index) => childIdOf(job, index));
    const opened = await this.options.db.transaction((tx) => ChildStore.open(tx, { ...job, plan, workflowVersion: workflow.version, depth, userId: state.userId, childIds }));
    return () => this.follow([{ ...opened, cancel: [], ended: 0 }]);
  }

  /** The node never started (its attempt ended meanwhile): nothing of it may start. */
  async abandon(job: AttemptKey): Promise<void> {
    await this.cancelChildren(job, await this.options.db.transaction((tx) => ChildStore.cancel(tx, job)));
  }

  /** Finishes what a stopped process left half done: children claimed and never started, runs ended and never told to their parent. */
  async recover(): Promise<void> {
    for (const run of await ChildStore.unfinished(this.options.db)) {
      try {
        await this.recoverRun(run);
      } catch (error) {
        this.options.onError(error, { executionId: run.executionId, nodeId: run.nodeId });
      }
    }
  }

  private async recoverRun(run: RunRow): Promise<void> {
    if (run.status !== 'RUNNING') return this.settle(run);
    const node = (await this.options.handler.load(run.executionId))?.nodes.get(run.nodeId);
    // Still queued: the runner opens it again when it recovers the node.
    if (node?.status === 'QUEUED' && node.attempt === run.attempt) return;
    if (node?.status !== 'RUNNING' || node.attempt !== run.attempt) return this.abandon(run);
    const resumed = await this.options.db.transaction((tx) => ChildStore.resume(tx, run));
    await this.follow([{ ...resumed, cancel: [], ended: 0 }]);
  }

  /** The child workflow, in the parent's tenant: another tenant's answers as an unknown one. */
  private async startable(plan: ChildPlan, tenantId: string): Promise<Workflow> {
    const found = await this.options.workflows.get(plan.workflowId);
    const workflow = found && tenantOf(found) === tenantId ? found : null;
    const trigger = workflow?.nodes.find((node) => node.id === plan.triggerNodeId);
    if (!workflow || !trigger || !isTriggerOf(this.options.nodeTypes, trigger.type)) {
      throw new PermanentNodeError(`workflow ${plan.workflowId} has no trigger node ${plan.triggerNodeId}`, 'CHILD_WORKFLOW_NOT_FOUND');
    }
    return workflow;
  }

  /**
   * One batch: outcomes of ended children and the attempts that ended are recorded with the
   * checkpoint in one transaction that queries nothing else; what follows from them (children
   * to start, parents to settle or tell, children to cancel, pause or resume) runs after the commit.
   */
  private async handle(batch: RecordedEvent[], checkpoint: (tx: SqlExecutor) => Promise<void>): Promise<void> {
    const { db } = this.options;
    const events = await this.concerning(batch);
    if (events.length === 0) return this.checkpointSoon(checkpoint);
    const ended = unique(events.filter((event) => ENDINGS.has(event.type)).map((event) => event.metadata.correlationId));
    const children = ended.length > 0 ? await ChildStore.runningChildren(db, ended) : [];
    const controlled = unique(events.filter((event) => !ENDINGS.has(event.type)).map((event) => event.metadata.correlationId));
    const runs = controlled.length > 0 ? await ChildStore.runningRuns(db, controlled) : [];
    if (children.length === 0 && runs.length === 0) return this.checkpointSoon(checkpoint);
    const outcomes = await Promise.all(children.map((child) => this.outcomeOf(child.childId)));
    const paused = await this.pausedAmong(unique(children.map((child) => child.executionId)));
    const open = new Set(runs.map(keyOf));
    const over = events
      .filter((event) => ATTEMPT_ENDINGS.has(event.type))
      .map((event) => attemptOf(event))
      .filter((key) => open.has(keyOf(key)));
    const { changes, cancelled } = await db.transaction(async (tx) => {
      const changes = await ChildStore.finish(tx, outcomes, paused);
      const cancelled: Array<{ key: AttemptKey; children: string[] }> = [];
      for (const key of over) cancelled.push({ key, children: await ChildStore.cancel(tx, key) });
      await checkpoint(tx);
      return { changes, cancelled };
    });
    this.savedAt = Date.now();
    await this.follow(changes);
    await Promise.all(cancelled.map(({ key, children }) => this.cancelChildren(key, children)));
    for (const event of events) if (CONTROLS.has(event.type)) await this.control(event, runs);
  }

  /**
   * The events that may concern child runs, told from the executions' states (cached here for the
   * executions this process runs): ends of child executions, and attempt ends, pauses and resumes
   * in executions that have child-run nodes. Every other batch costs no query at all (the single
   * PGlite connection is shared by everything).
   */
  private async concerning(events: RecordedEvent[]): Promise<RecordedEvent[]> {
    const { handler, nodeTypes } = this.options;
    const childRun = (type: string | undefined) => type !== undefined && nodeTypes.get(type)?.runs === 'child';
    // One node's type for an attempt's end (a cancelled 10,000-node execution sends 10,000 of them), every node's for a pause.
    const runsChildren = (state: ExecutionState, nodeId?: string) =>
      nodeId === undefined ? [...state.graph.nodes.values()].some((node) => childRun(node.type)) : childRun(state.graph.nodes.get(nodeId)?.type);
    const kept = await Promise.all(
      events.map(async (event) => {
        const state = await handler.current(event.metadata.correlationId);
        if (!state) return false;
        if (ENDINGS.has(event.type)) return state.parent !== null;
        return runsChildren(state, ATTEMPT_ENDINGS.has(event.type) ? (event.data as { nodeId: string }).nodeId : undefined);
      }),
    );
    return events.filter((_, index) => kept[index]);
  }

  /** A batch that changed nothing moves the checkpoint at most once a second: handling events again after a crash is harmless. */
  private async checkpointSoon(checkpoint: (tx: SqlExecutor) => Promise<void>): Promise<void> {
    if (Date.now() - this.savedAt < CHECKPOINT_INTERVAL_MS) return;
    await checkpoint(this.options.db);
    this.savedAt = Date.now();
  }

  private async outcomeOf(childId: string) {
    return childOutcome(childId, await this.options.handler.load(childId));
  }

  /** The parents that are paused now: no new child of theirs starts until they resume. */
  private async pausedAmong(executionIds: string[]): Promise<Set<string>> {
    const states = await Promise.all(executionIds.map((id) => this.options.handler.current(id)));
    return new Set(states.filter((state) => state?.status === 'PAUSED').map((state) => state!.id));
  }

  /** Starts the children claimed, settles the runs that ended and reports progress of those that moved a percent. */
  private async follow(changes: RunChange[]): Promise<void> {
    await Promise.all(
      changes.map(async ({ run, start, cancel, ended }) => {
        await this.startChildren(run, start);
        await this.cancelChildren(run, cancel);
        if (run.status !== 'RUNNING') await this.settle(run);
        else if (run.collect === 'all' && percent(run.done - ended, run.total) !== percent(run.done, run.total)) await this.reportProgress(run);
      }),
    );
  }

  /**
   * Its parent's attempt may have ended (or its execution paused) while they started, and the
   * feed that cancels (or pauses) children found them not started yet: they follow it now.
   */
  private async startChildren(run: RunRow, children: ChildToStart[]): Promise<void> {
    if (children.length === 0) return;
    const workflow = await this.options.workflows.get(run.workflowId, run.workflowVersion);
    await Promise.all(children.map((child) => this.startChild(run, workflow, child)));
    const parent = await this.options.handler.load(run.executionId);
    const node = parent?.nodes.get(run.nodeId);
    const ids = children.map((child) => child.childId);
    if (node?.status !== 'RUNNING' || node.attempt !== run.attempt) await this.abandon(run);
    else if (parent?.status === 'PAUSED') await Promise.all(ids.map((id) => this.send(id, [{ type: 'PauseExecution' }], causationOf(run))));
  }

  /** A child that cannot start (its workflow gone) ends as a failed child at once. */
  private async startChild(run: RunRow, workflow: Workflow | null, child: ChildToStart): Promise<void> {
    // A run that collects all its children's results runs one per item (a map): each knows its item.
    const item = run.collect === 'all' ? { itemIndex: child.index } : {};
    const parent = { executionId: run.executionId, nodeId: run.nodeId, attempt: run.attempt, depth: run.depth, ...item };
    try {
      if (!workflow) throw new DomainError('NOT_FOUND', `workflow ${run.workflowId} version ${run.workflowVersion} not found`);
      // The child runs in its workflow's tenant, which open() checked is the parent's.
      await this.options.start({
        executionId: child.childId,
        workflow,
        triggerNodeId: run.triggerNodeId,
        triggerData: child.triggerData,
        parent,
        context: { userId: run.userId, causationId: causationOf(run) },
      });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      const failure = childOutcome(child.childId, null, error.message);
      const changes = await this.options.db.transaction((tx) => ChildStore.finish(tx, [failure], new Set<string>()));
      await this.follow(changes);
    }
  }

  /** Tells the parent node how its children ended; a refusal means its attempt is over already. */
  private async settle(run: RunRow): Promise<void> {
    const { nodeId, attempt } = run;
    let commands: ExecutionCommand[] = [];
    if (run.status === 'COMPLETED') {
      const results = await ChildStore.results(this.options.db, run);
      const output = run.collect === 'one' ? (results[0] ?? null) : results;
      const complete: ExecutionCommand = { type: 'CompleteNode', data: { nodeId, attempt, output, outputName: null } };
      commands = run.collect === 'all' ? [progressOf(run), complete, QUEUE_READY] : [complete, QUEUE_READY];
    } else if (run.status === 'FAILED') {
      commands = [{ type: 'FailNode', data: { nodeId, attempt, error: run.error ?? 'a child execution failed', retryable: run.retryable, errorCode: run.errorCode } }, QUEUE_READY];
    }
    if (commands.length > 0) await this.send(run.executionId, commands, causationOf(run));
    await ChildStore.settled(this.options.db, run);
  }

  /** Progress is done/total, at most once per batch of outcomes. */
  private async reportProgress(run: RunRow): Promise<void> {
    await this.send(run.executionId, [progressOf(run)], causationOf(run));
  }

  private async cancelChildren(parent: AttemptKey, childIds: string[]): Promise<void> {
    const reason = `node ${parent.nodeId} of execution ${parent.executionId} no longer runs (attempt ${parent.attempt})`;
    await Promise.all(childIds.map((id) => this.send(id, [{ type: 'CancelExecution', data: { reason } }], causationOf(parent))));
  }

  /** A parent paused or resumed: so are its running children; a resumed one starts what its free slots take. */
  private async control(event: RecordedEvent, runs: RunRow[]): Promise<void> {
    const resumed = event.type === 'ExecutionResumed';
    const command: ExecutionCommand = { type: resumed ? 'ResumeExecution' : 'PauseExecution' };
    for (const run of runs.filter((each) => each.executionId === event.metadata.correlationId)) {
      const children = await ChildStore.childIds(this.options.db, run, 'RUNNING');
      await Promise.all(children.map((id) => this.send(id, [command], causationOf(run))));
      if (!resumed) continue;
      const claimed = await this.options.db.transaction((tx) => ChildStore.resume(tx, run));
      await this.startChildren(
        claimed.run,
        claimed.start.filter((child) => !children.includes(child.childId)),
      );
    }
  }

  /** A refusal (the execution moved on: finished, not paused, already resumed) is no error. */
  private async send(executionId: string, commands: ExecutionCommand[], causationId: string): Promise<void> {
    try {
      await handleOnLatest(this.options.handler, executionId, commands, { causationId });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
    }
  }
}

const percent = (done: number, total: number): number => Math.floor((done * 100) / Math.max(total, 1));

const progressOf = (run: RunRow): ExecutionCommand => ({
  type: 'ReportNodeProgress',
  data: { nodeId: run.nodeId, attempt: run.attempt, progress: run.total === 0 ? 100 : (run.done / run.total) * 100, message: `${run.done}/${run.total}`, leaseMs: null },
});

function attemptOf(event: RecordedEvent): AttemptKey {
  const { nodeId, attempt } = event.data as { nodeId: string; attempt: number };
  return { executionId: event.metadata.correlationId, nodeId, attempt };
}
