import { OutageReporter, retryDatabaseFaults } from '../db/faultRetry.js';
import type { SqlClient } from '../db/sqlClient.js';

export interface RetentionOptions {
  db: SqlClient;
  retentionDays: number;
  clock?: () => Date;
  /** How often the job runs; hourly by default. */
  intervalMs?: number;
  onError?: (error: unknown) => void;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;
/** Executions removed per transaction, so that a first run over years of history holds no lock for long. */
const PRUNE_BATCH = 500;

/**
 * Removes the read-model rows of executions that finished more than `retentionDays` ago. Their
 * events stay: time travel and replay checks fold them, and the `execution` query falls back to
 * the log. An execution that goes on later (a manual retry) is projected afresh from its events.
 */
export class RetentionJob {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly outage: OutageReporter;

  constructor(private readonly options: RetentionOptions) {
    this.outage = new OutageReporter((error) => this.options.onError?.(error));
  }

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.schedule(), this.options.intervalMs ?? HOUR_MS);
    this.timer.unref();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Removes every execution past retention now; resolves with how many. */
  async prune(): Promise<number> {
    const cutoff = new Date((this.options.clock?.() ?? new Date()).getTime() - this.options.retentionDays * DAY_MS);
    let total = 0;
    for (;;) {
      const removed = await pruneBatch(this.options.db, cutoff);
      total += removed;
      if (removed < PRUNE_BATCH) return total;
    }
  }

  /** A run cut off by a lost connection is tried again soon, not an hour later: each batch commits on its own, so nothing is removed twice. */
  private schedule(): void {
    this.running = this.running
      .then(() => retryDatabaseFaults(() => this.prune(), { outage: this.outage, stopped: () => this.stopped }))
      .then(
        () => {},
        (error: unknown) => this.outage.failed(error),
      );
  }
}

/**
 * The execution rows go first: deleting them locks them, and re-checks `finished_at` against a
 * projection that reopened one meanwhile; only then their nodes and edges, by the ids deleted.
 */
async function pruneBatch(db: SqlClient, cutoff: Date): Promise<number> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ id: string }>(
      `DELETE FROM flow_execution WHERE id IN (
         SELECT id FROM flow_execution WHERE finished_at < $1 ORDER BY finished_at LIMIT $2
       ) AND finished_at < $1 RETURNING id`,
      [cutoff.toISOString(), PRUNE_BATCH],
    );
    const ids = rows.map((row) => row.id);
    await tx.query('DELETE FROM node_execution_state WHERE execution_id = ANY($1::text[])', [ids]);
    await tx.query('DELETE FROM execution_dependency WHERE execution_id = ANY($1::text[])', [ids]);
    return ids.length;
  });
}
