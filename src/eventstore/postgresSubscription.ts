import type { SqlExecutor } from '../db/sqlClient.js';
import { mayMatch, type NotificationHint } from './notificationHint.js';
import type { RecordedEvent, SubscribeOptions, Subscription } from './eventStore.js';
import {
  comparePositions,
  decodePosition,
  EVENT_COLUMNS,
  type EventRow,
  ORIGIN,
  rowPosition,
  type SqlPosition,
  toRecordedEvent,
} from './postgresRows.js';

const DEFAULT_BATCH_SIZE = 256;
/** Re-check even without a notification, in case one was lost (e.g. the listener reconnected). */
const SAFETY_CHECK_MS = 1_000;
/** Committed events held back by an older open transaction: look again soon, more slowly each time. */
const HELD_BACK_FIRST_MS = 2;
const HELD_BACK_MAX_MS = 50;
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 5_000;

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

/** Events that were committed when a subscription 'from end' started are skipped by this filter. */
interface StartSnapshot {
  snapshot: string;
  xmax: bigint;
}

export interface SubscriptionHost {
  readonly db: SqlExecutor;
  /** Resolves once the store's shared LISTEN is active. */
  listening(): Promise<void>;
  closed(subscription: PostgresSubscription): void;
}

interface Waiter {
  target: SqlPosition;
  resolve(): void;
  reject(error: Error): void;
}

export class PostgresSubscription implements Subscription {
  private cursor: SqlPosition;
  private startSnapshot: StartSnapshot | null = null;
  private started: Promise<void> | null = null;
  private readonly batchSize: number;
  private readonly waiters: Waiter[] = [];
  private isClosed = false;
  private signalled = false;
  private heldBackDelay = HELD_BACK_FIRST_MS;
  private pending: { resume(): void; wakeable: boolean } | null = null;
  private readonly done: Promise<void>;

  constructor(
    private readonly host: SubscriptionHost,
    private readonly options: SubscribeOptions,
  ) {
    this.cursor = options.from === 'start' || options.from === 'end' ? ORIGIN : decodePosition(options.from);
    this.batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    this.done = this.run();
  }

  /** Whether a notification may concern this subscription (see notificationHint.ts). */
  mayMatch(hint: NotificationHint | null): boolean {
    return mayMatch(this.options.filter, hint);
  }

  /** Something was committed: read again now instead of at the next scheduled check. */
  wake(): void {
    this.signalled = true;
    if (this.pending?.wakeable) this.pending.resume();
  }

  async caughtUp(): Promise<void> {
    await this.start();
    const { rows } = await this.host.db.query<{ xact: string; seq: string }>(
      `SELECT transaction_id::text AS xact, global_position::text AS seq FROM events
       ORDER BY transaction_id DESC, global_position DESC LIMIT 1`,
    );
    if (rows.length === 0) return;
    const target = rowPosition(rows[0]!);
    return new Promise((resolve, reject) => {
      if (this.isClosed) return reject(new Error('subscription closed'));
      this.waiters.push({ target, resolve, reject });
      this.settleWaiters();
      this.wake();
    });
  }

  async close(): Promise<void> {
    if (!this.isClosed) {
      this.isClosed = true;
      this.pending?.resume();
      this.host.closed(this);
    }
    await this.done;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.isClosed) {
      let delay: number;
      try {
        delay = await this.poll();
        failures = 0;
      } catch (error) {
        this.report(error);
        delay = retryDelay(failures++);
      }
      await this.pause(delay, true);
    }
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error('subscription closed'));
  }

  /** One read-and-deliver step; returns how long to wait before the next one. */
  private async poll(): Promise<number> {
    await this.start();
    this.signalled = false;
    const { events, bound, heldBack } = await this.readBatch();
    if (events.length > 0 && !(await this.deliver(events))) return 0;
    if (events.length === this.batchSize) return 0;
    this.drainedBelow(bound);
    if (this.signalled) return 0;
    if (!heldBack) {
      this.heldBackDelay = HELD_BACK_FIRST_MS;
      return SAFETY_CHECK_MS;
    }
    const delay = this.heldBackDelay;
    this.heldBackDelay = Math.min(delay * 2, HELD_BACK_MAX_MS);
    return delay;
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
    await this.host.listening();
    if (this.options.from !== 'end') return;
    const { rows } = await this.host.db.query<{ snapshot: string; xmin: string; xmax: string }>(
      `SELECT s::text AS snapshot, pg_snapshot_xmin(s)::text AS xmin, pg_snapshot_xmax(s)::text AS xmax
       FROM pg_current_snapshot() AS s`,
    );
    const row = rows[0]!;
    this.cursor = { xact: BigInt(row.xmin), seq: 0n };
    this.startSnapshot = { snapshot: row.snapshot, xmax: BigInt(row.xmax) };
  }

  private async readBatch(): Promise<{ events: RecordedEvent[]; bound: bigint; heldBack: boolean }> {
    const { streamPrefixes, types } = this.options.filter ?? {};
    const { rows } = await this.host.db.query<BatchRow>(READ_BATCH, [
      this.cursor.xact.toString(),
      this.cursor.seq.toString(),
      streamPrefixes ?? null,
      types ?? null,
      this.startSnapshot?.snapshot ?? null,
      this.batchSize,
    ]);
    const head = rows[0]!;
    const events = rows.filter((row): row is BatchRow & EventRow => row.event_id != null).map(toRecordedEvent);
    return { events, bound: BigInt(head.bound), heldBack: head.held_back };
  }

  /** Hands the batch over until the handler accepts it; false if closed first. */
  private async deliver(events: RecordedEvent[]): Promise<boolean> {
    for (let failures = 0; !this.isClosed; failures++) {
      try {
        await this.options.handler(events);
        this.advance(decodePosition(events[events.length - 1]!.position));
        return true;
      } catch (error) {
        this.report(error);
        await this.pause(retryDelay(failures), false);
      }
    }
    return false;
  }

  /**
   * Every event below the bound has been handled or filtered out: skip the cursor past them, so
   * that filtered subscriptions make progress too and caughtUp() can resolve.
   */
  private drainedBelow(bound: bigint): void {
    this.advance({ xact: bound, seq: 0n });
    if (this.startSnapshot && this.cursor.xact >= this.startSnapshot.xmax) this.startSnapshot = null;
  }

  private advance(position: SqlPosition): void {
    if (comparePositions(position, this.cursor) > 0) this.cursor = position;
    this.settleWaiters();
  }

  private settleWaiters(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const waiter = this.waiters[i]!;
      if (comparePositions(this.cursor, waiter.target) < 0) continue;
      this.waiters.splice(i, 1);
      waiter.resolve();
    }
  }

  private pause(ms: number, wakeable: boolean): Promise<void> {
    if (ms <= 0 || this.isClosed || (wakeable && this.signalled)) return Promise.resolve();
    return new Promise((resolve) => {
      const resume = () => {
        clearTimeout(timer);
        this.pending = null;
        resolve();
      };
      const timer = setTimeout(resume, ms);
      this.pending = { resume, wakeable };
    });
  }

  private report(error: unknown): void {
    if (this.options.onError) this.options.onError(error);
    else console.error('[cascade] event store subscription error, retrying', error);
  }
}

function retryDelay(failures: number): number {
  return Math.min(RETRY_FIRST_MS * 2 ** failures, RETRY_MAX_MS);
}
