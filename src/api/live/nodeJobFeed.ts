import type { SqlClient } from '../../db/sqlClient.js';
import { JOBS_CHANNEL, parseJobNotice, queueKey, type JobNotice, type TenantQueue } from '../../runtime/workQueue/jobNotices.js';
import { Channel } from './channel.js';
import { DEFAULT_SLOW_SUBSCRIBER_LIMITS, SLOW_SUBSCRIBER_CLOSE_CODE } from './socketSink.js';

/** The socket a subscriber's notices are written to: as far as the feed needs it, to drop one that does not read. */
export interface NoticeSocket {
  readonly bufferedAmount: number;
  close(code: number, reason: string): void;
}

/** A message of the `nodeJobs` subscription (NodeJobsNotice in schema.graphql). */
export interface NodeJobsNotice {
  kind: 'AVAILABLE' | 'ATTEMPT_ENDED';
  queue: string;
  available: boolean;
  executionId: string | null;
  nodeId: string | null;
  attempt: number | null;
}

/**
 * How often a watched queue is looked at even without a notification: a LISTEN connection that
 * dropped loses what was sent meanwhile. One query per queue per process, whatever the number of workers.
 */
const RECHECK_MS = 15_000;

const availableNotice = (queue: string, available: boolean): NodeJobsNotice => ({ kind: 'AVAILABLE', queue, available, executionId: null, nodeId: null, attempt: null });

/** The subscribers of one queue (of one tenant) in this process, and when the queue is looked at next. */
class WatchedQueue {
  constructor(readonly at: TenantQueue) {}

  get key(): string {
    return queueKey(this.at.tenantId, this.at.queue);
  }

  readonly subscribers = new Map<Channel<NodeJobsNotice>, NoticeSocket | undefined>();
  timer: NodeJS.Timeout | null = null;
  checking = false;
  checkAgain = false;

  /**
   * A socket holding more unsent bytes than the live feeds allow is closed rather than written to
   * (the SDK reconnects, and its first notice brings what it missed): the server's memory stays bounded.
   */
  broadcast(notice: NodeJobsNotice): void {
    for (const [subscriber, socket] of this.subscribers) {
      if (socket && socket.bufferedAmount > DEFAULT_SLOW_SUBSCRIBER_LIMITS.maxBufferedBytes) socket.close(SLOW_SUBSCRIBER_CLOSE_CODE, 'subscriber too slow');
      else subscriber.push(notice);
    }
  }
}

/**
 * The `nodeJobs` feed: tells the idle workers of a queue when there is work, so that they wait on
 * a socket instead of polling claimNodes. Job rows are written (and notified, see jobNotices) by
 * whichever process runs the execution; every process listens, and on a notice looks once at its
 * queue's table, coalescing a burst of notices into one query in flight per queue. A job offered
 * for later (a retry's backoff) or held by a claim that never finished wakes the queue by a timer
 * at its time. Workers hear AVAILABLE and call claimNodes; the claim decides who gets what.
 */
export class NodeJobFeed {
  private readonly queues = new Map<string, WatchedQueue>();
  private listening: Promise<() => Promise<void>> | null = null;

  constructor(
    private readonly db: SqlClient,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** A subscriber of the tenant's queue; its first notice says whether jobs are claimable now. */
  async subscribe(at: TenantQueue, socket?: NoticeSocket): Promise<Channel<NodeJobsNotice>> {
    // Listening before the first look, so that a job offered after it is heard of.
    await this.listen();
    const key = queueKey(at.tenantId, at.queue);
    const watched = this.queues.get(key) ?? new WatchedQueue(at);
    this.queues.set(key, watched);
    const channel: Channel<NodeJobsNotice> = new Channel(() => this.leave(watched, channel));
    watched.subscribers.set(channel, socket);
    const next = await this.nextClaimable(at).catch((error: unknown) => {
      this.leave(watched, channel);
      throw error;
    });
    channel.push(availableNotice(at.queue, next <= Date.now()));
    this.wakeAt(watched, next);
    return channel;
  }

  async close(): Promise<void> {
    for (const watched of [...this.queues.values()]) {
      for (const subscriber of watched.subscribers.keys()) subscriber.end();
      this.forget(watched);
    }
    const unlisten = await this.listening?.catch(() => null);
    this.listening = null;
    await unlisten?.();
  }

  private listen(): Promise<() => Promise<void>> {
    this.listening ??= this.db.listen(JOBS_CHANNEL, (payload) => this.heard(parseJobNotice(payload)));
    return this.listening.catch((error: unknown) => {
      this.listening = null;
      throw error;
    });
  }

  private heard(notice: JobNotice | null): void {
    const watched = notice && this.queues.get(queueKey(notice.tenantId, notice.queue));
    if (!notice || !watched) return;
    if (!notice.ended) return this.check(watched);
    const { executionId, nodeId, attempt } = notice.ended;
    watched.broadcast({ kind: 'ATTEMPT_ENDED', queue: notice.queue, available: false, executionId, nodeId, attempt });
  }

  /** Looks at the queue: AVAILABLE to its subscribers when a job is claimable now, and a timer for the next one. */
  private check(watched: WatchedQueue): void {
    if (watched.checking) {
      watched.checkAgain = true;
      return;
    }
    watched.checking = true;
    watched.checkAgain = false;
    void this.nextClaimable(watched.at)
      .then((next) => {
        if (next <= Date.now()) watched.broadcast(availableNotice(watched.at.queue, true));
        this.wakeAt(watched, next);
      })
      .catch((error: unknown) => {
        this.onError(error);
        this.wakeAt(watched, Infinity);
      })
      .finally(() => {
        watched.checking = false;
        if (watched.checkAgain && this.queues.get(watched.key) === watched) this.check(watched);
      });
  }

  private wakeAt(watched: WatchedQueue, next: number): void {
    if (this.queues.get(watched.key) !== watched) return;
    if (watched.timer) clearTimeout(watched.timer);
    const now = Date.now();
    const delay = next > now ? Math.min(next - now, RECHECK_MS) : RECHECK_MS;
    watched.timer = setTimeout(() => this.check(watched), delay);
    watched.timer.unref();
  }

  /**
   * When a job of the queue is claimable next (ms since the epoch; Infinity: none): the earliest
   * one not reserved by a claim in progress, else the end of the earliest reservation (a claim
   * whose process died). Both read the (tenant_id, queue, available_at) index or the few reserved rows.
   */
  private async nextClaimable({ tenantId, queue }: TenantQueue): Promise<number> {
    const now = new Date().toISOString();
    const { rows } = await this.db.query<{ at: Date | string }>(
      `SELECT at FROM (
         (SELECT available_at AS at FROM external_jobs WHERE tenant_id = $3 AND queue = $1 AND (reserved_until IS NULL OR reserved_until <= $2) ORDER BY available_at LIMIT 1)
         UNION ALL
         (SELECT GREATEST(available_at, reserved_until) AS at FROM external_jobs WHERE tenant_id = $3 AND queue = $1 AND reserved_until > $2 ORDER BY reserved_until LIMIT 1)
       ) AS next ORDER BY at LIMIT 1`,
      [queue, now, tenantId],
    );
    return rows[0] ? new Date(rows[0].at).getTime() : Infinity;
  }

  private leave(watched: WatchedQueue, channel: Channel<NodeJobsNotice>): void {
    if (!watched.subscribers.delete(channel) || watched.subscribers.size > 0) return;
    this.forget(watched);
  }

  private forget(watched: WatchedQueue): void {
    if (watched.timer) clearTimeout(watched.timer);
    if (this.queues.get(watched.key) === watched) this.queues.delete(watched.key);
  }
}
