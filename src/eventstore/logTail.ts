import type { SqlExecutor } from '../db/sqlClient.js';
import { passesFilter, type RecordedEvent, type SubscriptionFilter } from './eventStore.js';
import { readLog } from './logRead.js';
import { comparePositions, decodePosition, type SqlPosition } from './postgresRows.js';

export interface TailSlice {
  /** In commit order, after the cursor, passing the filter. */
  events: RecordedEvent[];
  /** Where the cursor may move once the events are handled; null when the limit cut the slice. */
  drainedTo: SqlPosition | null;
  /** Committed events wait for an older transaction to end. */
  heldBack: boolean;
  /** The tail's last read was cut by its limit: there is more to read at once. */
  more: boolean;
}

interface Entry {
  event: RecordedEvent;
  position: SqlPosition;
}

/** Events kept: enough for every follower near the head, bounded however far one lags. */
const CAPACITY = 10_000;
const READ_LIMIT = 2_000;

/**
 * The newest stretch of the log, read once per store and shared by its subscriptions: the
 * followers of one process (process manager, projections, admission, ...) mostly sit near the
 * head, and each notification would otherwise cost one query per follower. The tail holds every
 * event between `start` (exclusive) and `end` (inclusive), unfiltered, in commit order, read with
 * the same bound as a subscription's own reads; a subscription behind `start` reads on its own.
 * Events are shared between subscribers: handlers must not change them.
 */
export class LogTail {
  private entries: Entry[] = [];
  private start: SqlPosition | null = null;
  private end: SqlPosition | null = null;
  private heldBack = false;
  private more = false;
  /** Moves with every notification, and with every read that needs the log as it is now. */
  private epoch = 0;
  /** The epoch at which the last completed read began: it saw every commit notified before. */
  private readEpoch = -1;
  private reading: Promise<void> | null = null;
  /** Bumped when the tail starts over elsewhere, so that a read begun before lands nowhere. */
  private generation = 0;

  constructor(private readonly db: SqlExecutor) {}

  /** A commit was notified: a reader woken by it needs a read begun after this. */
  notified(): void {
    this.epoch += 1;
  }

  /**
   * Up to `limit` events after `cursor` that pass the filter; null when the tail can't serve the
   * cursor (it lags behind the tail). `woken`: the caller follows a notification, which moved
   * the epoch already; any other caller needs a read begun from now on.
   */
  async read(cursor: SqlPosition, filter: SubscriptionFilter | undefined, limit: number, woken: boolean): Promise<TailSlice | null> {
    const needed = woken ? this.epoch : ++this.epoch;
    if (this.end === null || comparePositions(cursor, this.end) > 0) this.startAt(cursor);
    if (!this.covers(cursor)) return null;
    const slice = this.slice(cursor, filter, limit);
    // Only a reader that reaches the end needs what was committed since the tail's last read.
    if (slice.drainedTo === null || this.readEpoch >= needed) return slice;
    await this.readUntil(needed);
    return this.covers(cursor) ? this.slice(cursor, filter, limit) : null;
  }

  private covers(cursor: SqlPosition): boolean {
    return this.start !== null && comparePositions(cursor, this.start) >= 0 && comparePositions(cursor, this.end!) <= 0;
  }

  /** A reader ahead of the tail: the tail starts over from it (laggards read on their own). */
  private startAt(cursor: SqlPosition): void {
    this.entries = [];
    this.start = cursor;
    this.end = cursor;
    this.more = false;
    this.generation += 1;
    this.readEpoch = -1;
  }

  private async readUntil(needed: number): Promise<void> {
    while (this.readEpoch < needed) {
      this.reading ??= this.readMore().finally(() => (this.reading = null));
      await this.reading;
    }
  }

  private async readMore(): Promise<void> {
    const { epoch, generation } = this;
    const from = this.end!;
    const batch = await readLog(this.db, from, undefined, READ_LIMIT);
    if (generation !== this.generation) return;
    for (const event of batch.events) this.entries.push({ event, position: decodePosition(event.position) });
    const cut = batch.events.length === READ_LIMIT;
    const reached = cut ? this.entries.at(-1)!.position : { xact: batch.bound, seq: 0n };
    if (comparePositions(reached, from) > 0) this.end = reached;
    this.more = cut;
    this.heldBack = batch.heldBack;
    this.readEpoch = Math.max(this.readEpoch, epoch);
    this.trim();
  }

  private trim(): void {
    const excess = this.entries.length - CAPACITY;
    if (excess <= 0) return;
    this.start = this.entries[excess - 1]!.position;
    this.entries = this.entries.slice(excess);
  }

  private slice(cursor: SqlPosition, filter: SubscriptionFilter | undefined, limit: number): TailSlice {
    const events: RecordedEvent[] = [];
    for (let i = this.firstAfter(cursor); i < this.entries.length; i++) {
      const { event } = this.entries[i]!;
      if (!passesFilter(filter, event.streamId, event.type)) continue;
      events.push(event);
      if (events.length === limit) return { events, drainedTo: null, heldBack: this.heldBack, more: true };
    }
    return { events, drainedTo: this.end, heldBack: this.heldBack, more: this.more };
  }

  /** Index of the first entry after the cursor (binary search: entries are in position order). */
  private firstAfter(cursor: SqlPosition): number {
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (comparePositions(this.entries[middle]!.position, cursor) <= 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
