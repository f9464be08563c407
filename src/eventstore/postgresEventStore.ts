import type { SqlClient, SqlExecutor } from '../db/sqlClient.js';
import {
  type AppendResult,
  ConcurrencyError,
  type EventStore,
  type ExpectedVersion,
  type NewEvent,
  type ReadOptions,
  type RecordedEvent,
  type SubscribeOptions,
  type Subscription,
} from './eventStore.js';
import { encodePosition, EVENT_COLUMNS, type EventRow, ORIGIN, toRecordedEvent } from './postgresRows.js';
import { parseNotificationHint } from './notificationHint.js';
import { EVENTS_CHANNEL, WRONG_VERSION_SQLSTATE } from './postgresSchema.js';
import { PostgresSubscription } from './postgresSubscription.js';

export { migrateEventStore } from './postgresSchema.js';

/**
 * The event store on PostgreSQL or PGlite (same SQL). Run `migrateEventStore` first. Closing
 * the store ends its subscriptions and its LISTEN, not the client, which the caller owns.
 */
export function createPostgresEventStore(client: SqlClient): EventStore {
  return new PostgresEventStore(client);
}

/**
 * Appends through any executor, so that a caller can append inside its own transaction
 * (together with other writes). Do it before that transaction's first write, or the append
 * may fail with a serialization failure (SQLSTATE 40001) to keep the stream in order.
 */
export async function appendToStream(
  db: SqlExecutor,
  streamId: string,
  events: NewEvent[],
  expectedVersion: ExpectedVersion,
): Promise<AppendResult> {
  const payload = JSON.stringify(events.map(({ id, type, data, metadata }) => ({ id, type, data, metadata })));
  try {
    const { rows } = await db.query<{ next_version: number; xact: string | null; seq: string | null }>(
      `SELECT next_version, position_xact::text AS xact, position_seq::text AS seq FROM cascade_append($1, $2::jsonb, $3)`,
      [streamId, payload, expectedParameter(expectedVersion)],
    );
    const { next_version, xact, seq } = rows[0]!;
    const position = xact === null || seq === null ? ORIGIN : { xact: BigInt(xact), seq: BigInt(seq) };
    return { nextVersion: next_version, position: encodePosition(position) };
  } catch (error) {
    if (sqlState(error) === WRONG_VERSION_SQLSTATE) {
      throw new ConcurrencyError(streamId, expectedVersion, Number((error as { detail?: string }).detail));
    }
    throw error;
  }
}

function expectedParameter(expected: ExpectedVersion): string {
  if (typeof expected === 'string') return expected;
  if (!Number.isSafeInteger(expected) || expected < 0) throw new RangeError(`invalid expected version ${expected}`);
  return String(expected);
}

function sqlState(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

class PostgresEventStore implements EventStore {
  private readonly subscriptions = new Set<PostgresSubscription>();
  private listener: Promise<() => Promise<void>> | null = null;
  private closed = false;

  constructor(private readonly client: SqlClient) {}

  append(streamId: string, events: NewEvent[], expectedVersion: ExpectedVersion): Promise<AppendResult> {
    return appendToStream(this.client, streamId, events, expectedVersion);
  }

  async read(streamId: string, options: ReadOptions = {}): Promise<RecordedEvent[]> {
    const { rows } = await this.client.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events
       WHERE stream_id = $1 AND stream_version >= $2 AND ($3::integer IS NULL OR stream_version <= $3::integer)
       ORDER BY stream_version`,
      [streamId, options.fromVersion ?? 1, options.toVersion ?? null],
    );
    return rows.map(toRecordedEvent);
  }

  subscribe(options: SubscribeOptions): Subscription {
    if (this.closed) throw new Error('event store closed');
    const subscription = new PostgresSubscription(
      {
        db: this.client,
        listening: () => this.listen(),
        closed: (closing) => this.subscriptions.delete(closing),
      },
      options,
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
    const unlisten = await this.listener?.catch(() => null);
    this.listener = null;
    await unlisten?.();
  }

  /** One LISTEN per store, fanned out to every subscription, whatever their number. */
  private async listen(): Promise<void> {
    this.listener ??= this.client
      .listen(EVENTS_CHANNEL, (payload) => {
        const hint = parseNotificationHint(payload);
        for (const subscription of this.subscriptions) if (subscription.mayMatch(hint)) subscription.wake();
      })
      .catch((error: unknown) => {
        this.listener = null;
        throw error;
      });
    await this.listener;
  }
}
