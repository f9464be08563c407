import { faultBackoffMs, OutageReporter } from '../db/faultRetry.js';
import type { SqlExecutor } from '../db/sqlClient.js';
import type { RecordedEvent, SubscribeOptions, Subscription } from './eventStore.js';
import { type LogBatch, readLog } from './logRead.js';
import type { LogTail, TailSlice } from './logTail.js';
import { mayMatch, type NotificationHint } from './notificationHint.js';
import { comparePositions, decodePosition, ORIGIN, rowPosition, type SqlPosition } from './postgresRows.js';

const DEFAULT_BATCH_SIZE = 256;
/** Re-check even without a notification, in case one was lost (e.g. the listener reconnected). */
const SAFETY_CHECK_MS = 1_000;
/** Committed events held back by an older open transaction: look again soon, more slowly each time. */
const HELD_BACK_FIRST_MS = 2;
const HELD_BACK_MAX_MS = 50;

/** Events that were committed when a subscription 'from end' started are skipped by this filter. */
interface StartSnapshot {
  snapshot: string;
  xmax: bigint;
}

export interface SubscriptionHost {
  readonly db: SqlExecutor;
  /** The store's shared read of the log's newest events. */
  readonly tail: LogTail;
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
  private ahead: { from: SqlPosition; batch: Promise<LogBatch> } | null = null;
  /** The next read must see the log as it is now, not only what was notified (caughtUp asked). */
  private fresh = false;
  private heldBackDelay = HELD_BACK_FIRST_MS;
  private pending: { resume(): void; wakeable: boolean } | null = null;
  private readonly done: Promise<void>;
  /** A database outage is reported once, when it begins; the reads and deliveries retried meanwhile are not. */
  private readonly outage = new OutageReporter((error) => this.report(error));

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
      this.fresh = true;
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
        this.outage.succeeded();
      } catch (error) {
        this.outage.failed(error);
        delay = faultBackoffMs(failures++);
      }
      await this.pause(delay, true);
    }
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error('subscription closed'));
  }

  /** One read-and-deliver step; returns how long to wait before the next one. */
  private async poll(): Promise<number> {
    await this.start();
    const woken = this.signalled && !this.fresh;
    this.signalled = false;
    this.fresh = false;
    const { events, drainedTo, heldBack, more } = await this.readBatch(woken);
    if (events.length > 0 && !(await this.deliver(events))) return 0;
    if (drainedTo === null) return 0;
    this.drainedBelow(drainedTo);
    if (more || this.signalled) return 0;
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

  /** From the store's shared tail when it reaches back to the cursor, else a read of its own. */
  private async readBatch(woken: boolean): Promise<TailSlice> {
    const { filter } = this.options;
    if (!this.startSnapshot) {
      const slice = await this.host.tail.read(this.cursor, filter, this.batchSize, woken);
      if (slice) return slice;
    }
    const { events, bound, heldBack } = await this.readOwn();
    const full = events.length === this.batchSize;
    if (full) this.readAhead(decodePosition(events.at(-1)!.position));
    return { events, drainedTo: full ? null : { xact: bound, seq: 0n }, heldBack, more: false };
  }

  /** The batch read ahead for this cursor, if any, else a read now. */
  private readOwn(): Promise<LogBatch> {
    const ahead = this.ahead;
    this.ahead = null;
    if (ahead && comparePositions(ahead.from, this.cursor) === 0) return ahead.batch;
    return this.readFrom(this.cursor);
  }

  /**
   * A full batch means a backlog (a rebuild, a follower far behind): the next batch is read while
   * the handler works on this one. Used only if the cursor gets exactly there.
   */
  private readAhead(from: SqlPosition): void {
    const batch = this.readFrom(from);
    batch.catch(() => undefined); // a failed read ahead is read again, and reported, when needed
    this.ahead = { from, batch };
  }

  private readFrom(position: SqlPosition): Promise<LogBatch> {
    return readLog(this.host.db, position, this.options.filter, this.batchSize, this.startSnapshot?.snapshot ?? null);
  }

  /**
   * Hands the batch over until the handler accepts it, with capped backoff; false if closed
   * first. Whatever the handler's error (a lost connection, or its own), the same batch comes
   * again: a handler that must not block on one bad event deals with it itself.
   */
  private async deliver(events: RecordedEvent[]): Promise<boolean> {
    for (let failures = 0; !this.isClosed; failures++) {
      try {
        await this.options.handler(events);
        this.outage.succeeded();
        this.advance(decodePosition(events[events.length - 1]!.position));
        return true;
      } catch (error) {
        this.outage.failed(error);
        await this.pause(faultBackoffMs(failures), false);
      }
    }
    return false;
  }

  /**
   * Every event below the bound has been handled or filtered out: skip the cursor past them, so
   * that filtered subscriptions make progress too and caughtUp() can resolve.
   */
  private drainedBelow(position: SqlPosition): void {
    this.advance(position);
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
