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
import { GroupCommit } from './groupCommit.js';
import { LogTail } from './logTail.js';
import { encodePosition, EVENT_COLUMNS, type EventRow, ORIGIN, toRecordedEvent } from './postgresRows.js';
import { EVENTS_CHANNEL, parseNotificationHint } from './notificationHint.js';
import { PostgresSubscription } from './postgresSubscription.js';

/**
 * The event store on PostgreSQL or PGlite (same SQL). Run `migrate` (src/db/migrator.ts) first. Closing
 * the store ends its subscriptions and its LISTEN, not the client, which the caller owns.
 */
export function createPostgresEventStore(client: SqlClient, options: PostgresEventStoreOptions = {}): EventStore {
  return new PostgresEventStore(client, options);
}

export interface PostgresEventStoreOptions {
  /** Append transactions on their way at once; appends arriving meanwhile are committed together next. */
  maxAppendsInFlight?: number;
}

/** Enough to keep two cores busy; PGlite runs one statement at a time anyway. */
const DEFAULT_APPENDS_IN_FLIGHT = { postgres: 4, pglite: 1 } as const;
/** Events of one group commit: big enough to share the commit widely, small enough to stay a short transaction. */
const MAX_EVENTS_PER_GROUP = 2_000;

interface AppendRequest {
  streamId: string;
  events: NewEvent[];
  expectedVersion: ExpectedVersion;
}

/**
 * Appends through any executor, so that a caller can append inside its own transaction
 * (together with other writes). Do it before that transaction's first write, or the append
 * may fail with a serialization failure (SQLSTATE 40001) to keep the stream in order.
 */
export async function appendToStream(db: SqlExecutor, streamId: string, events: NewEvent[], expectedVersion: ExpectedVersion): Promise<AppendResult> {
  const [result] = await appendBatch(db, [{ streamId, events, expectedVersion }]);
  if (result instanceof Error) throw result;
  return result!;
}

/** Appends to several streams in one transaction; each gets its result or its ConcurrencyError. */
async function appendBatch(db: SqlExecutor, requests: AppendRequest[]): Promise<Array<AppendResult | Error>> {
  const payload = JSON.stringify(
    requests.map(({ streamId, events, expectedVersion }) => ({ stream: streamId, events: events.map(storedFields), expected: expectedParameter(expectedVersion) })),
  );
  const { rows } = await db.query<AppendRow & { n: number; conflict: boolean }>(
    `SELECT n, next_version, position_xact::text AS xact, position_seq::text AS seq, conflict FROM cascade_append_batch($1::jsonb)`,
    [payload],
  );
  const results = new Array<AppendResult | Error>(requests.length);
  for (const row of rows) {
    const { streamId, expectedVersion } = requests[row.n - 1]!;
    results[row.n - 1] = row.conflict ? new ConcurrencyError(streamId, expectedVersion, row.next_version) : toAppendResult(row);
  }
  return results;
}

interface AppendRow {
  next_version: number;
  xact: string | null;
  seq: string | null;
}

const storedFields = ({ id, type, data, metadata }: NewEvent) => ({ id, type, data, metadata });

function toAppendResult({ next_version, xact, seq }: AppendRow): AppendResult {
  const position = xact === null || seq === null ? ORIGIN : { xact: BigInt(xact), seq: BigInt(seq) };
  return { nextVersion: next_version, position: encodePosition(position) };
}

function expectedParameter(expected: ExpectedVersion): string {
  if (typeof expected === 'string') return expected;
  if (!Number.isSafeInteger(expected) || expected < 0) throw new RangeError(`invalid expected version ${expected}`);
  return String(expected);
}

class PostgresEventStore implements EventStore {
  private readonly subscriptions = new Set<PostgresSubscription>();
  private readonly tail: LogTail;
  private readonly appends: GroupCommit<AppendRequest, AppendResult>;
  private listener: Promise<() => Promise<void>> | null = null;
  private closed = false;

  constructor(
    private readonly client: SqlClient,
    options: PostgresEventStoreOptions,
  ) {
    this.tail = new LogTail(client);
    this.appends = new GroupCommit({
      write: (requests) => appendBatch(client, requests),
      maxInFlight: options.maxAppendsInFlight ?? DEFAULT_APPENDS_IN_FLIGHT[client.kind],
      weigh: (request) => request.events.length,
      maxWeight: MAX_EVENTS_PER_GROUP,
    });
  }

  async append(streamId: string, events: NewEvent[], expectedVersion: ExpectedVersion): Promise<AppendResult> {
    expectedParameter(expectedVersion);
    return this.appends.submit({ streamId, events, expectedVersion });
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
        tail: this.tail,
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
        this.tail.notified();
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
