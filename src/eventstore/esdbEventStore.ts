import {
  type AllStreamSubscription,
  BACKWARDS,
  END,
  EventStoreDBClient,
  excludeSystemEvents,
  FORWARDS,
  jsonEvent,
  type JSONType,
  type Position,
  type ReadStreamOptions,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import {
  type AppendResult,
  ConcurrencyError,
  type EventMetadata,
  type EventStore,
  type ExpectedVersion,
  type NewEvent,
  passesFilter,
  type ReadOptions,
  type RecordedEvent,
  type SubscribeOptions,
  type Subscription,
} from './eventStore.js';
import { compareEsdbPositions, decodeEsdbPosition, encodeEsdbPosition, eventUuid, toExpectedRevision, versionOfCurrentRevision, versionOfRevision } from './esdbMapping.js';

const DEFAULT_BATCH_SIZE = 256;
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 5_000;

/** What EventStoreDB hands back, whether from a stream or from $all. */
interface StoredEvent {
  streamId: string;
  id: string;
  revision: bigint;
  type: string;
  created: Date;
  data: unknown;
  metadata: unknown;
  position?: Position;
}

/** Our metadata plus the original id, which the uuid sent to EventStoreDB may not equal. */
type StoredMetadata = EventMetadata & { eventId?: string };

export function createEsdbEventStore(connectionString: string): EventStore {
  return new EsdbEventStore(EventStoreDBClient.connectionString(connectionString));
}

class EsdbEventStore implements EventStore {
  private readonly subscriptions = new Set<EsdbSubscription>();

  constructor(private readonly client: EventStoreDBClient) {}

  async append(streamId: string, events: NewEvent[], expectedVersion: ExpectedVersion): Promise<AppendResult> {
    const data = events.map(({ id, type, data, metadata }) => jsonEvent({ id: eventUuid(id), type, data: data as JSONType, metadata: { ...metadata, eventId: id } }));
    try {
      const result = await this.client.appendToStream(streamId, data, { expectedRevision: toExpectedRevision(expectedVersion) });
      return { nextVersion: versionOfRevision(result.nextExpectedRevision), position: encodeEsdbPosition(required(result.position)) };
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError)) throw error;
      const held = await this.alreadyHeld(streamId, events);
      if (held) return held;
      throw new ConcurrencyError(streamId, expectedVersion, versionOfCurrentRevision(error.actualVersion));
    }
  }

  async read(streamId: string, { fromVersion = 1, toVersion }: ReadOptions = {}): Promise<RecordedEvent[]> {
    if (toVersion !== undefined && toVersion < fromVersion) return [];
    const maxCount = toVersion === undefined ? undefined : toVersion - fromVersion + 1;
    return this.readStream(streamId, { direction: FORWARDS, fromRevision: BigInt(Math.max(fromVersion, 1) - 1), maxCount });
  }

  subscribe(options: SubscribeOptions): Subscription {
    const subscription = new EsdbSubscription(this.client, options, (closing) => this.subscriptions.delete(closing));
    this.subscriptions.add(subscription);
    return subscription;
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
    await this.client.dispose();
  }

  /**
   * EventStoreDB deduplicates a retry only while its expected revision still matches; a retry
   * that is stale by now fails, and is a no-op for us if the stream holds all its events.
   */
  private async alreadyHeld(streamId: string, events: NewEvent[]): Promise<AppendResult | null> {
    const stored = await this.readStream(streamId, { direction: FORWARDS, fromRevision: START });
    const ids = new Set(stored.map((event) => event.id));
    const last = stored[stored.length - 1];
    if (!last || events.length === 0 || !events.every((event) => ids.has(event.id))) return null;
    return { nextVersion: last.streamVersion, position: last.position };
  }

  private async readStream(streamId: string, options: ReadStreamOptions): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    try {
      for await (const resolved of this.client.readStream(streamId, options)) {
        if (resolved.event) events.push(toRecordedEvent(resolved.event));
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
    return events;
  }
}

class EsdbSubscription implements Subscription {
  /** Position of the last event handled or filtered out: where a resubscription resumes. */
  private checkpoint: Position | null;
  private stream: AllStreamSubscription | null = null;
  private started: Promise<void> | null = null;
  private readonly waiters: { target: Position; resolve(): void; reject(error: Error): void }[] = [];
  private isClosed = false;
  private pending: (() => void) | null = null;
  private readonly done: Promise<void>;

  constructor(
    private readonly client: EventStoreDBClient,
    private readonly options: SubscribeOptions,
    private readonly onClosed: (subscription: EsdbSubscription) => void,
  ) {
    this.checkpoint = options.from === 'start' || options.from === 'end' ? null : decodeEsdbPosition(options.from);
    this.done = this.run();
  }

  async caughtUp(): Promise<void> {
    await this.start();
    const target = await lastUserEventPosition(this.client);
    if (!target) return;
    return new Promise((resolve, reject) => {
      if (this.isClosed) return reject(new Error('subscription closed'));
      this.waiters.push({ target, resolve, reject });
      this.settleWaiters();
    });
  }

  async close(): Promise<void> {
    if (!this.isClosed) {
      this.isClosed = true;
      this.pending?.();
      this.onClosed(this);
      // Cancelling alone leaves the stream open; destroying it ends the loop's iteration.
      await this.stream?.unsubscribe().catch(() => {});
      this.stream?.destroy();
    }
    await this.done;
  }

  /** Catch-up subscriptions end on server errors: resubscribe from the checkpoint, with backoff. */
  private async run(): Promise<void> {
    let failures = 0;
    while (!this.isClosed) {
      try {
        await this.start();
        if (await this.consume()) failures = 0;
      } catch (error) {
        if (!this.isClosed) this.report(error);
      }
      await this.pause(retryDelay(failures++));
    }
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error('subscription closed'));
  }

  /** Once per subscription, retried after a failure; caughtUp() waits for it too. */
  private start(): Promise<void> {
    this.started ??= this.begin().catch((error: unknown) => {
      this.started = null;
      throw error;
    });
    return this.started;
  }

  private async begin(): Promise<void> {
    if (this.options.from !== 'end') return;
    const end = await lastUserEventPosition(this.client);
    if (end) this.advance(end);
  }

  /** Reads one server subscription until it ends; true if it handed anything over. */
  private async consume(): Promise<boolean> {
    const stream = this.client.subscribeToAll({ fromPosition: this.checkpoint ?? START, filter: excludeSystemEvents() });
    this.stream = stream;
    const batchSize = this.options.batchSize ?? DEFAULT_BATCH_SIZE;
    let batch: RecordedEvent[] = [];
    let last: Position | null = null;
    let progressed = false;
    for await (const { event } of stream) {
      if (this.isClosed) break;
      if (event) {
        if (this.matches(event)) batch.push(toRecordedEvent(event));
        last = required(event.position);
      }
      // Batch whatever the client has buffered already; never wait for more to fill a batch.
      if (batch.length < batchSize && stream.readableLength > 0) continue;
      if (batch.length > 0 && !(await this.deliver(batch))) break;
      if (last) this.advance(last);
      batch = [];
      progressed = true;
    }
    return progressed;
  }

  private matches(event: StoredEvent): boolean {
    return !event.type.startsWith('$') && passesFilter(this.options.filter, event.streamId, event.type);
  }

  private async deliver(events: RecordedEvent[]): Promise<boolean> {
    for (let failures = 0; !this.isClosed; failures++) {
      try {
        await this.options.handler(events);
        return true;
      } catch (error) {
        this.report(error);
        await this.pause(retryDelay(failures));
      }
    }
    return false;
  }

  private advance(position: Position): void {
    this.checkpoint = position;
    this.settleWaiters();
  }

  private settleWaiters(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const waiter = this.waiters[i]!;
      if (!this.checkpoint || compareEsdbPositions(this.checkpoint, waiter.target) < 0) continue;
      this.waiters.splice(i, 1);
      waiter.resolve();
    }
  }

  private pause(ms: number): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.pending?.(), ms);
      this.pending = () => {
        clearTimeout(timer);
        this.pending = null;
        resolve();
      };
    });
  }

  private report(error: unknown): void {
    if (this.options.onError) this.options.onError(error);
    else console.error('[cascade] event store subscription error, retrying', error);
  }
}

/** The newest event a subscription without system events can see: what caughtUp waits for. */
async function lastUserEventPosition(client: EventStoreDBClient): Promise<Position | null> {
  for await (const { event } of client.readAll({ direction: BACKWARDS, fromPosition: END })) {
    if (event && !event.type.startsWith('$')) return required(event.position);
  }
  return null;
}

function toRecordedEvent(event: StoredEvent): RecordedEvent {
  const { eventId, ...metadata } = event.metadata as StoredMetadata;
  return {
    id: eventId ?? event.id,
    type: event.type,
    data: event.data,
    metadata,
    streamId: event.streamId,
    streamVersion: versionOfRevision(event.revision),
    position: encodeEsdbPosition(required(event.position)),
    recordedAt: event.created.toISOString(),
  };
}

function required(position: Position | undefined): Position {
  if (!position) throw new Error('EventStoreDB returned no position: Cascade needs server 22.6 or later');
  return position;
}

function retryDelay(failures: number): number {
  return Math.min(RETRY_FIRST_MS * 2 ** failures, RETRY_MAX_MS);
}
