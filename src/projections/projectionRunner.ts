import { isDatabaseFault } from '../db/databaseFaults.js';
import { quoteIdentifier } from '../db/quoteIdentifier.js';
import type { SqlClient, SqlExecutor } from '../db/sqlClient.js';
import { EXECUTION_STREAM_PREFIX } from '../domain/execution/events.js';
import { WORKFLOW_STREAM_PREFIX } from '../domain/workflow/workflowEvents.js';
import type { EventStore, RecordedEvent, Subscription } from '../eventstore/eventStore.js';
import { loadCheckpoint, saveCheckpoint } from '../eventstore/checkpoints.js';
import { ExecutionStateCache, type ProjectedExecution } from './executionStateCache.js';
import { executionIdOf, projectExecutions, type ExecutionBatch, type ExecutionChange } from './executionProjection.js';
import { projectWorkflows } from './workflowProjection.js';
import type { ErrorReporter } from '../errors/errorReporter.js';

export type { ExecutionChange } from './executionProjection.js';
export type ChangeListener = (changes: ExecutionChange[]) => void;

/** The checkpoint name of the read model (tables of schema.ts). */
export const READ_MODEL = 'read-model';

export interface ProjectionRunnerOptions {
  db: SqlClient;
  store: EventStore;
  name?: string;
  batchSize?: number;
  /** Where the read-model tables are, when not on the search path (an online rebuild's shadow schema). */
  schema?: string;
  /** How many folded executions stay in memory. */
  cacheSize?: number;
  onError?: ErrorReporter;
}

/**
 * Keeps the read model up with the event log. Each batch is applied in one transaction together
 * with its checkpoint, so after a crash the read model resumes exactly after the last batch it
 * committed: no event is applied twice or skipped. A failing batch rolls back and the
 * subscription hands it over again. Run `migrate` (src/db/migrator.ts) before `start`.
 */
export class ProjectionRunner {
  private subscription: Subscription | null = null;
  private readonly listeners = new Set<ChangeListener>();
  private readonly cache: ExecutionStateCache;
  private readonly name: string;
  private readonly onError: ErrorReporter;

  constructor(private readonly options: ProjectionRunnerOptions) {
    this.name = options.name ?? READ_MODEL;
    this.cache = new ExecutionStateCache(options.store, options.cacheSize ?? 1_000);
    this.onError = options.onError ?? ((error) => console.error('[cascade] projection error', error));
  }

  async start(): Promise<void> {
    if (this.subscription) return;
    this.subscription = this.options.store.subscribe({
      from: (await this.inSchema((tx) => loadCheckpoint(tx, 'projection_checkpoints', this.name))) ?? 'start',
      filter: { streamPrefixes: [EXECUTION_STREAM_PREFIX, WORKFLOW_STREAM_PREFIX] },
      // Under a backlog, fewer and larger transactions: 2,000 events per batch projected 1,000
      // ten-node executions about 15% sooner than 500 did.
      batchSize: this.options.batchSize ?? 2_000,
      handler: (events) => this.apply(events),
      onError: this.onError,
    });
  }

  /** Resolves once every event committed before the call is in the read model. */
  caughtUp(): Promise<void> {
    return this.subscription?.caughtUp() ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    await this.subscription?.close();
    this.subscription = null;
  }

  /** Called after each committed batch with what it changed; returns an unsubscribe function. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async apply(events: RecordedEvent[]): Promise<void> {
    const batches = await this.executionBatches(events.filter((event) => event.streamId.startsWith(EXECUTION_STREAM_PREFIX)));
    const workflowEvents = events.filter((event) => event.streamId.startsWith(WORKFLOW_STREAM_PREFIX));
    const position = events.at(-1)!.position;
    let projected: Awaited<ReturnType<typeof projectExecutions>>;
    try {
      projected = await this.commit(position, workflowEvents, (tx) => projectExecutions(tx, batches));
    } catch (error) {
      if (isDatabaseFault(error)) throw error;
      // Maybe one execution's events cannot be projected: each on its own, past those that fail.
      projected = await this.commit(position, workflowEvents, (tx) => this.projectEach(tx, batches));
    }
    for (const [executionId, execution] of projected.after) this.cache.put(executionId, execution);
    this.notify(projected.changes);
  }

  private commit<T>(position: string, workflowEvents: RecordedEvent[], projectExecutionsIn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.inSchema(async (tx) => {
      const projected = await projectExecutionsIn(tx);
      await projectWorkflows(tx, workflowEvents);
      await saveCheckpoint(tx, 'projection_checkpoints', this.name, position);
      return projected;
    });
  }

  /**
   * Projects each execution under a savepoint: one whose events cannot be folded or written (a
   * bug, a value the database refuses) is rolled back alone and logged with its id, and the
   * batch, its checkpoint and the other executions go on. Its row stays as it was.
   */
  private async projectEach(tx: SqlExecutor, batches: ExecutionBatch[]): Promise<Awaited<ReturnType<typeof projectExecutions>>> {
    const changes: ExecutionChange[] = [];
    const after = new Map<string, ProjectedExecution>();
    for (const batch of batches) {
      await tx.query('SAVEPOINT projecting_execution');
      try {
        const projected = await projectExecutions(tx, [batch]);
        changes.push(...projected.changes);
        for (const [executionId, execution] of projected.after) after.set(executionId, execution);
        await tx.query('RELEASE SAVEPOINT projecting_execution');
      } catch (error) {
        if (isDatabaseFault(error)) throw error;
        await tx.query('ROLLBACK TO SAVEPOINT projecting_execution');
        this.skipped(batch.executionId, error);
      }
    }
    return { changes, after };
  }

  private skipped(executionId: string, cause: unknown): void {
    this.onError(new Error(`execution ${executionId}: its events could not be projected and were skipped`, { cause }), { executionId });
  }

  /** A transaction whose unqualified table names are those of `schema`, when one is set. */
  private inSchema<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const { db, schema } = this.options;
    return db.transaction(async (tx) => {
      if (schema) await tx.query(`SET LOCAL search_path TO ${quoteIdentifier(schema)}`);
      return fn(tx);
    });
  }

  /**
   * Groups the events by execution, each with its state before them. States are loaded before
   * the transaction opens: PGlite has one connection, and the store can't read while it is held.
   */
  private async executionBatches(events: RecordedEvent[]): Promise<ExecutionBatch[]> {
    const byExecution = new Map<string, RecordedEvent[]>();
    for (const event of events) {
      const executionId = executionIdOf(event);
      const list = byExecution.get(executionId);
      if (list) list.push(event);
      else byExecution.set(executionId, [event]);
    }
    const batches = await Promise.all(
      [...byExecution].map(async ([executionId, executionEvents]): Promise<ExecutionBatch | null> => {
        try {
          return { executionId, before: await this.cache.take(executionId, executionEvents[0]!.streamVersion - 1), events: executionEvents };
        } catch (error) {
          // Its earlier events cannot be folded: these cannot be projected either.
          if (isDatabaseFault(error)) throw error;
          this.skipped(executionId, error);
          return null;
        }
      }),
    );
    return batches.filter((batch) => batch !== null);
  }

  private notify(changes: ExecutionChange[]): void {
    if (changes.length === 0) return;
    for (const listener of this.listeners) {
      try {
        listener(changes);
      } catch (error) {
        // The batch is committed: a failing listener must not make the subscription redo it.
        this.onError(error);
      }
    }
  }
}
