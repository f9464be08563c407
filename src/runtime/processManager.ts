import type { ExecutionCommandHandler } from '../commands/executionCommandHandler.js';
import { DomainError } from '../domain/errors.js';
import { EXECUTION_STREAM_PREFIX, TERMINAL_EXECUTION_STATUSES, type ExecutionEvent } from '../domain/execution/events.js';
import type { ExecutionState } from '../domain/execution/state.js';
import type { EventStore, RecordedEvent, Subscription } from '../eventstore/eventStore.js';
import type { DurableSchedule } from './durableSchedule.js';
import type { NodeRunner } from './nodeRunner.js';
import type { RuntimeStore } from './runtimeStore.js';

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

  constructor(
    private readonly store: EventStore,
    private readonly runtimeStore: RuntimeStore,
    private readonly handler: ExecutionCommandHandler,
    private readonly runner: NodeRunner,
    private readonly schedule: DurableSchedule,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  /** Resumes every unfinished execution, then follows the event log from the checkpoint. */
  async start(): Promise<void> {
    for (const executionId of await this.runtimeStore.activeExecutions()) await this.recover(executionId);
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

  async stop(): Promise<void> {
    await this.subscription?.close();
    this.subscription = null;
    if (this.unsaved) await this.runtimeStore.save(this.unsaved, [], []);
    this.unsaved = null;
  }

  private async handleBatch(events: RecordedEvent[]): Promise<void> {
    const work = new Map<string, ExecutionWork>();
    const started: string[] = [];
    const finished: string[] = [];
    for (const event of events) {
      const executionId = event.metadata.correlationId;
      const item = work.get(executionId) ?? { queueReady: false, redispatch: false, jobs: [], aborts: [] };
      work.set(executionId, item);
      collect(item, event as RecordedEvent & ExecutionEvent, event.streamVersion);
      if (event.type === 'ExecutionStarted') started.push(executionId);
      if (FINISHING_EVENTS.has(event.type as ExecutionEvent['type'])) finished.push(executionId);
    }
    await Promise.all([...work].map(([executionId, item]) => this.apply(executionId, item)));
    const plan = await this.schedule.plan(events);
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
    for (const job of work.jobs) this.runner.dispatch({ executionId, ...job });
    if (work.queueReady) await this.queueReadyNodes(executionId);
    if (work.redispatch) this.dispatchQueued(await this.handler.load(executionId));
  }

  private async queueReadyNodes(executionId: string): Promise<void> {
    try {
      const { events } = await this.handler.handle(executionId, { type: 'QueueReadyNodes' }, { causationId: 'process-manager' });
      // Dispatching straight from the decision saves a round trip through the log; the same
      // NodeQueued arriving later by subscription is recognised and ignored by the runner.
      for (const event of events) {
        if (event.type === 'NodeQueued') {
          const { nodeId, attempt } = (event as RecordedEvent & ExecutionEvent & { type: 'NodeQueued' }).data;
          this.runner.dispatch({ executionId, nodeId, attempt, queuedAt: event.streamVersion });
        }
      }
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
    }
  }

  private async recover(executionId: string): Promise<void> {
    const state = await this.handler.load(executionId);
    if (!state || TERMINAL_EXECUTION_STATUSES.has(state.status)) return;
    await this.queueReadyNodes(executionId);
    // Attempts left RUNNING by a runtime that died come back by their durable lease timers.
    this.dispatchQueued(state);
  }

  private dispatchQueued(state: ExecutionState | null): void {
    if (!state || state.status !== 'RUNNING') return;
    for (const node of state.nodes.values()) {
      if (node.status === 'QUEUED') this.runner.dispatch({ executionId: state.id, nodeId: node.nodeId, attempt: node.attempt });
    }
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
