import type { SqlExecutor } from '../db/sqlClient.js';
import type { RecordedEvent, SubscriptionFilter } from './eventStore.js';
import { EVENT_COLUMNS, type EventRow, type SqlPosition, toRecordedEvent } from './postgresRows.js';

/**
 * Reads only below the oldest transaction still running (the snapshot's xmin): everything
 * there has committed or aborted, so nothing can later appear behind the cursor. `held_back`
 * says whether committed events exist at or above that bound, waiting for older writers.
 */
const READ_BATCH = `
SELECT h.bound::text AS bound, h.held_back, e.*
FROM (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS bound,
             EXISTS (SELECT 1 FROM events WHERE transaction_id >= pg_snapshot_xmin(pg_current_snapshot())) AS held_back) h
LEFT JOIN LATERAL (
  SELECT ${EVENT_COLUMNS} FROM events
  WHERE transaction_id < h.bound
    AND (transaction_id, global_position) > ($1::xid8, $2::bigint)
    AND ($3::text[] IS NULL OR EXISTS (SELECT 1 FROM unnest($3::text[]) AS prefix WHERE starts_with(stream_id, prefix)))
    AND ($4::text[] IS NULL OR type = ANY ($4::text[]))
    AND ($5::pg_snapshot IS NULL OR NOT pg_visible_in_snapshot(transaction_id, $5::pg_snapshot))
  ORDER BY transaction_id, global_position
  LIMIT $6
) e ON true
ORDER BY e.xact::xid8, e.seq::bigint`;

interface BatchRow extends Partial<EventRow> {
  bound: string;
  held_back: boolean;
}

export interface LogBatch {
  /** In commit order, after the cursor. */
  events: RecordedEvent[];
  /** Every event of the filter below this transaction id is in `events` or before the cursor, unless the limit cut the batch. */
  bound: bigint;
  /** Committed events wait at or above the bound for an older transaction to end. */
  heldBack: boolean;
}

/** Up to `limit` events after `cursor` that pass the filter and, if given, were not yet visible in `snapshot`. */
export async function readLog(db: SqlExecutor, cursor: SqlPosition, filter: SubscriptionFilter | undefined, limit: number, snapshot: string | null = null): Promise<LogBatch> {
  const { rows } = await db.query<BatchRow>(READ_BATCH, [cursor.xact.toString(), cursor.seq.toString(), filter?.streamPrefixes ?? null, filter?.types ?? null, snapshot, limit]);
  const head = rows[0]!;
  const events = rows.filter((row): row is BatchRow & EventRow => row.event_id != null).map(toRecordedEvent);
  return { events, bound: BigInt(head.bound), heldBack: head.held_back };
}
