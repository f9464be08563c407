import type { ExecutionCommandHandler } from '../../commands/executionCommandHandler.js';
import { DomainError } from '../../domain/errors.js';
import { EXECUTION_STREAM_PREFIX, TERMINAL_EXECUTION_STATUSES, type ExecutionEvent } from '../../domain/execution/events.js';
import type { ExecutionState } from '../../domain/execution/state.js';
import type { EventStore, RecordedEvent, Subscription } from '../../eventstore/eventStore.js';
import type { DurableSchedule } from './durableSchedule.js';
import { isExecutionFault, type ExecutionFaults } from '../executionFaults.js';
import type { NodeRunner } from '../runner/nodeRunner.js';
import type { RuntimeStore } from './runtimeStore.js';
import type { ErrorReporter } from '../../errors/errorReporter.js';

/** Events after which some idle node may have become ready (or the execution may be done). */
const READINESS_EVENTS = new Set<ExecutionEvent['type']>([
  'ExecutionStarted',
  'ExecutionAdmitted',
  'ExecutionResumed',
  'ExecutionReopened',
  'NodeCompleted',
  'NodeFailed',
  'NodeSkipped',
  'NodeCancelled',
  'NodeReset',
]);
/** Events that put a node attempt in the queue now (a scheduled retry is dispatched by its timer). */
const QUEUEING_EVENTS = new Set<ExecutionEvent['type']>(['NodeQueued', 'NodeReleased']);
/** Events that end an attempt that may still be running here (cancelled, timed out, lease expired). */
const ATTEMPT_ENDING_EVENTS = new Set<ExecutionEvent['type']>(['NodeCancelled', 'NodeRetryScheduled', 'NodeFailed', 'NodeReleased']);
/** Longest a checkpoint that only moved may wait to be written. */
const CHECKPOINT_INTERVAL_MS = 1_000;
const FINISHING_EVENTS = new Set<ExecutionEvent['type']>(['ExecutionCompleted', 'ExecutionFailed', 'ExecutionCancelled']);
/**
 * Recoveries of one execution that may begin and never end (the process died while the work it
 * handed out ran, or recovering it failed) before it is quarantined at the next start: three
 * rides out a crash or two that were not its fault (a kill, a deploy) and still lets start-up
 * come back on the fourth.
 */
export const MAX_RECOVERIES = 3;

interface ExecutionWork {
  queueReady: boolean;
  /** Every queued node of the execution is handed to the runner again (after a resume). */
  redispatch: boolean;
  jobs: Array<{ nodeId: string; attempt: number; queuedAt: number }>;
  aborts: Array<{ nodeId: string; attempt: number }>;
}

/**
 * Reacts to execution events: queues the nodes that became ready and hands queued attempts to the
 * runner. Idempotent, since every command it sends is decided against the current state: events
 * delivered twice (a replay from an older checkpoint) queue and run nothing twice.
 */
export class ProcessManager {
  private subscription: Subscription | null = null;
  /** The last handled position while its save is deferred. */
  private unsaved: string | null = null;
  private savedAt = 0;
  /** Recoveries whose end is being recorded (awaited by stop). */
  private readonly ending = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly store: EventStore,
    private readonly runtimeStore: RuntimeStore,
    private readonly handler: ExecutionCommandHandler,
    private readonly runner: NodeRunner,
    private readonly schedule: DurableSchedule,
    private readonly faults: ExecutionFaults,
    private readonly onError: ErrorReporter = () => {},
  ) {}

  /** Follows the event log from the checkpoint; unfinished executions are resumed by `recover`. */
  async start(): Promise<void> {
    this.stopped = false;
    this.subscription = this.store.subscribe({
      from: (await this.runtimeStore.checkpoint()) ?? 'start',
      filter: { streamPrefixes: [EXECUTION_STREAM_PREFIX] },
      batchSize: 500,
      handler: (events) => this.handleBatch(events),
      onError: this.onError,
    });
  }

  caughtUp(): Promise<void> {
    return this.subscription?.caughtUp() ?? Promise.resolve();
  }

  /**
   * Resumes every unfinished execution, each on its own: one whose recovery fails is failed (or
   * parked) and the others go on. Each recovery is counted in the database before it begins and
   * uncounted once the work it handed to the runner has settled, so the count is of recoveries
   * the process did not live through; past MAX_RECOVERIES the execution is quarantined.
   */
  async recover(): Promise<void> {
    const active = await this.runtimeStore.activeExecutions();
    const recoveries = await this.runtimeStore.beginRecoveries(active);
    for (const executionId of active) {
      if (this.stopped) return;
      try {
        if ((recoveries.get(executionId) ?? 0) > MAX_RECOVERIES) await this.quarantine(executionId);
        else await this.recoverOne(executionId);
      } catch (error) {
        // A lost connection: this one stays counted and unresumed until the next start.
        this.onError(error, { executionId });
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.ending]);
    await this.subscription?.close();
    this.subscription = null;
    if (this.unsaved) await this.runtimeStore.save(this.unsaved, [], []);
    this.unsaved = null;
  }

  private async handleBatch(events: RecordedEvent[]): Promise<void> {
    const work = new Map<string, ExecutionWork>();
    const started: string[] = [];
    const finished: string[] = [];
    /** Executions whose handling failed in this batch, with the error: each is failed, the batch goes on. */
    const faulty = new Map<string, unknown>();
    for (const event of events) {
      const executionId = event.metadata.correlationId;
      if (event.type === 'ExecutionStarted') started.push(executionId);
      if (FINISHING_EVENTS.has(event.type as ExecutionEvent['type'])) finished.push(executionId);
      if (faulty.has(executionId)) continue;
      const item = work.get(executionId) ?? { queueReady: false, redispatch: false, jobs: [], aborts: [] };
      work.set(executionId, item);
      try {
        collect(item, event as RecordedEvent & ExecutionEvent, event.streamVersion);
      } catch (error) {
        faulty.set(executionId, error);
        work.delete(executionId);
      }
    }
    await Promise.all([...work].map(([executionId, item]) => this.faults.contain(executionId, 'process manager', () => this.apply(executionId, item))));
    const plan = await this.schedule.plan(events, faulty);
    await Promise.all([...faulty].map(([executionId, error]) => this.faults.fail(executionId, 'process manager', error)));
    const position = events.at(-1)!.position;
    // A batch that only moves the checkpoint need not cost a commit of its own: handling events
    // again after a crash is harmless (every command is decided against the current state).
    if (started.length === 0 && finished.length === 0 && !plan.puts && Date.now() - this.savedAt < CHECKPOINT_INTERVAL_MS) {
      this.unsaved = position;
      return;
    }
    await this.runtimeStore.save(position, started, finished, (tx) => plan.write(tx));
    this.savedAt = Date.now();
    this.unsaved = null;
    plan.committed();
  }

  private async apply(executionId: string, work: ExecutionWork): Promise<void> {
    for (const { nodeId, attempt } of work.aborts) this.runner.abort(executionId, nodeId, attempt);
    // The runner's jobs settle (and report their own errors) on their own: the batch does not wait for them.
    for (const job of work.jobs) void this.runner.dispatch({ executionId, ...job });
    if (work.queueReady) void (await this.queueReadyNodes(executionId));
    if (work.redispatch) void this.dispatchQueued(await this.handler.load(executionId));
  }

  /** Resolves with the runner's jobs of the nodes it queued. */
  private async queueReadyNodes(executionId: string): Promise<Array<Promise<void>>> {
    try {
      const { events } = await this.handler.handle(executionId, { type: 'QueueReadyNodes' }, { causationId: 'process-manager' });
      // Dispatching straight from the decision saves a round trip through the log; the same
      // NodeQueued arriving later by subscription is recognised and ignored by the runner.
      return events.flatMap((event) => {
        if (event.type !== 'NodeQueued') return [];
        const { nodeId, attempt } = (event as RecordedEvent & ExecutionEvent & { type: 'NodeQueued' }).data;
        return [this.runner.dispatch({ executionId, nodeId, attempt, queuedAt: event.streamVersion })];
      });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      return [];
    }
  }

  /** Its recovery ends when the jobs it handed to the runner have settled (a crash meanwhile leaves it counted). */
  private async recoverOne(executionId: string): Promise<void> {
    let jobs: Array<Promise<void>> = [];
    try {
      const state = await this.handler.load(executionId);
      if (state && !TERMINAL_EXECUTION_STATUSES.has(state.status)) {
        // Attempts left RUNNING by a runtime that died come back by their durable lease timers.
        jobs = [...(await this.queueReadyNodes(executionId)), ...this.dispatchQueued(state)];
      }
    } catch (error) {
      if (!isExecutionFault(error)) throw error;
      // A stream that cannot be folded cannot be failed either: it stays counted, and is quarantined.
      if (!(await this.faults.fail(executionId, 'recovery', error))) return;
    }
    const ending = Promise.allSettled(jobs)
      .then(() => this.runtimeStore.endRecovery(executionId))
      .catch((error: unknown) => this.onError(error, { executionId }))
      .finally(() => this.ending.delete(ending));
    this.ending.add(ending);
  }

  /**
   * Fails it for good and stops recovering it; a stream that cannot be folded cannot take an
   * event, and is only no longer recovered (the log line says why).
   */
  private async quarantine(executionId: string): Promise<void> {
    const reason = `quarantined after ${MAX_RECOVERIES} recoveries that crashed or failed the engine`;
    await this.faults.fail(executionId, 'recovery', new Error(reason), reason);
    await this.runtimeStore.forget(executionId);
  }

  private dispatchQueued(state: ExecutionState | null): Array<Promise<void>> {
    if (!state || state.status !== 'RUNNING') return [];
    return [...state.nodes.values()]
      .filter((node) => node.status === 'QUEUED')
      .map((node) => this.runner.dispatch({ executionId: state.id, nodeId: node.nodeId, attempt: node.attempt }));
  }
}

function collect(work: ExecutionWork, event: ExecutionEvent, streamVersion: number): void {
  if (READINESS_EVENTS.has(event.type)) work.queueReady = true;
  if (event.type === 'ExecutionResumed') work.redispatch = true;
  if (QUEUEING_EVENTS.has(event.type)) {
    const data = event.data as { nodeId: string; attempt: number; nextAttempt?: number };
    work.jobs.push({ nodeId: data.nodeId, attempt: data.nextAttempt ?? data.attempt, queuedAt: streamVersion });
  }
  if (ATTEMPT_ENDING_EVENTS.has(event.type)) {
    const { nodeId, attempt } = event.data as { nodeId: string; attempt: number };
    work.aborts.push({ nodeId, attempt });
  }
}
