import type { SqlClient, SqlExecutor } from '../../db/sqlClient.js';
import type { TableChanges } from '../processManager/tableChanges.js';
import type { Timer, TimerKind } from './timer.js';

interface TimerRow {
  id: string;
  kind: TimerKind;
  execution_id: string;
  node_id: string;
  attempt: number;
  due_at: Date | string;
}

/**
 * The `timers` table: every durable timer of the runtime, one row per timer id. A firing process
 * leases a row for a few seconds (`locked_until`, renewed while it fires) instead of holding a
 * transaction open, because the command it sends appends through the same client, which on
 * PGlite is a single connection.
 */
export class TimerStore {
  constructor(private readonly db: SqlClient) {}

  /** Deletes what was cleared, then sets the timers; a timer set again with another due time is unlocked. */
  static async apply(tx: SqlExecutor, changes: TableChanges<Timer>): Promise<void> {
    await changes.deleteCleared(tx, 'timers');
    const timers = changes.rows;
    if (timers.length === 0) return;
    await tx.query(
      `INSERT INTO timers (id, kind, execution_id, node_id, attempt, due_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::integer[], $6::timestamptz[])
       ON CONFLICT (id) DO UPDATE SET due_at = EXCLUDED.due_at, locked_until = NULL WHERE timers.due_at <> EXCLUDED.due_at`,
      [
        timers.map((timer) => timer.id),
        timers.map((timer) => timer.kind),
        timers.map((timer) => timer.executionId),
        timers.map((timer) => timer.nodeId),
        timers.map((timer) => timer.attempt),
        timers.map((timer) => timer.dueAt.toISOString()),
      ],
    );
  }

  /** Locks up to `limit` due timers that nobody else holds (SKIP LOCKED: several processes may fire at once). */
  async claimDue(now: Date, limit: number, lockMs: number): Promise<Timer[]> {
    const { rows } = await this.db.query<TimerRow>(
      `UPDATE timers SET locked_until = $2 WHERE id IN (
         SELECT id FROM timers WHERE due_at <= $1 AND (locked_until IS NULL OR locked_until <= $1)
         ORDER BY due_at LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING id, kind, execution_id, node_id, attempt, due_at`,
      [now.toISOString(), new Date(now.getTime() + lockMs).toISOString(), limit],
    );
    return rows.map(toTimer);
  }

  /** Extends the leases of timers still being fired, unless they were set again (another due time) meanwhile. */
  async renew(timers: Timer[], now: Date, lockMs: number): Promise<void> {
    await this.db.query(
      `UPDATE timers t SET locked_until = $3 FROM unnest($1::text[], $2::timestamptz[]) AS f(id, due_at)
       WHERE t.id = f.id AND t.due_at = f.due_at`,
      [timers.map((timer) => timer.id), timers.map((timer) => timer.dueAt.toISOString()), new Date(now.getTime() + lockMs).toISOString()],
    );
  }

  /** Deletes a fired timer, unless it was set again (a renewed lease) since it was claimed. */
  async remove(timer: Timer): Promise<void> {
    await this.db.query('DELETE FROM timers WHERE id = $1 AND due_at = $2', [timer.id, timer.dueAt.toISOString()]);
  }

  /** When the next timer may fire: its due time, or when the lock of a claimed one runs out. */
  async nextDueAt(): Promise<Date | null> {
    const { rows } = await this.db.query<{ next: Date | string | null }>('SELECT min(greatest(due_at, locked_until)) AS next FROM timers');
    const next = rows[0]?.next;
    return next ? new Date(next) : null;
  }
}

const toTimer = (row: TimerRow): Timer => ({
  id: row.id,
  kind: row.kind,
  executionId: row.execution_id,
  nodeId: row.node_id,
  attempt: row.attempt,
  dueAt: new Date(row.due_at),
});
