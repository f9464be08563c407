import type { SqlClient, SqlExecutor } from '../../db/sqlClient.js';
import type { EventStore, RecordedEvent, Subscription, SubscriptionFilter } from '../../eventstore/eventStore.js';
import { loadCheckpoint, saveCheckpoint } from '../../eventstore/checkpoints.js';

const CAUGHT_UP_TIMEOUT_MS = 5_000;

export interface FeedOptions {
  store: EventStore;
  db: SqlClient;
  /** Key of the checkpoint in `runtime_checkpoints`. */
  name: string;
  filter: SubscriptionFilter;
  /**
   * Handles one batch. `checkpoint(tx)` records the batch as done; a handler that writes calls it
   * inside its own transaction, so that its writes and the checkpoint commit together.
   */
  handle(events: RecordedEvent[], checkpoint: (tx: SqlExecutor) => Promise<void>): Promise<void>;
  onError: (error: unknown) => void;
}

/**
 * An event-store subscription that resumes from a checkpoint kept in the database. Processes that
 * share the database share the checkpoint: each one follows the log, so handlers must be
 * idempotent (a batch may be handled by several processes, or again after a crash).
 */
export class CheckpointedFeed {
  private subscription: Subscription | null = null;

  constructor(private readonly options: FeedOptions) {}

  async start(): Promise<void> {
    if (this.subscription) return;
    const { store, db, name, filter, onError } = this.options;
    const from = (await loadCheckpoint(db, 'runtime_checkpoints', name)) ?? 'start';
    this.subscription = store.subscribe({
      from,
      filter,
      batchSize: 500,
      handler: (events) => this.options.handle(events, (tx) => saveCheckpoint(tx, 'runtime_checkpoints', name, events.at(-1)!.position)),
      onError,
    });
  }

  /**
   * Resolves once every event committed before the call has been handled (read-your-writes, also
   * across processes); at once when stopped, and after a while at the latest, so that a stuck
   * subscription makes callers answer from what they have instead of hanging.
   */
  async caughtUp(timeoutMs = CAUGHT_UP_TIMEOUT_MS): Promise<void> {
    if (!this.subscription) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([this.subscription.caughtUp().catch(() => undefined), timeout]).finally(() => clearTimeout(timer));
  }

  async stop(): Promise<void> {
    await this.subscription?.close();
    this.subscription = null;
  }
}
