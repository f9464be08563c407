import type { SqlClient } from '../../db/sqlClient.js';
import { JOBS_CHANNEL, parseJobNotice, queueKey, type JobNotice, type TenantQueue } from '../../runtime/workQueue/jobNotices.js';
import { Channel } from './channel.js';
import { WatchedQueue, type NodeJobsNotice, type NoticeSocket } from './watchedQueue.js';

export type { NodeJobsNotice, NoticeSocket } from './watchedQueue.js';

/**
 * How often a watched queue is looked at even without a notification: a LISTEN connection that
 * dropped loses what was sent meanwhile. One query per queue per process, whatever the number of workers.
 */
const RECHECK_MS = 15_000;

/** How long jobs told of wait for a claim before they are offered to other subscribers (doubling up to RECHECK_MS while they wait). */
export const DEFAULT_REOFFER_MS = 1_000;

export interface NodeJobFeedOptions {
  /** The first wait before jobs told of and still unclaimed are offered to others (default DEFAULT_REOFFER_MS). */
  reofferMs?: number;
}

/** What a look at a queue found: jobs claimable now (at most `limit`), and when one is claimable next. */
interface Look {
  claimable: number;
  next: number;
}

/**
 * The `nodeJobs` feed: tells the idle workers of a queue when there is work, so that they wait on
 * a socket instead of polling claimNodes. Job rows are written (and notified, see jobNotices) by
 * whichever process runs the execution; every process listens, and on a notice looks once at its
 * queue's table, coalescing a burst of notices into one query in flight per queue. The look counts
 * the jobs claimable now, and AVAILABLE goes to that many of the queue's subscribers in this
 * process, not to all (a thundering herd of claims that come back empty): see WatchedQueue.offer.
 * Jobs told of and not claimed (the worker told is busy, dead, or its claim failed) are offered
 * again by a timer; so is a job offered for later (a retry's backoff) or held by a claim that never
 * finished, at its time. Workers hear AVAILABLE and call claimNodes; the claim decides who gets what.
 */
export class NodeJobFeed {
  private readonly queues = new Map<string, WatchedQueue>();
  private listening: Promise<() => Promise<void>> | null = null;
  private readonly reofferMs: number;

  constructor(
    private readonly db: SqlClient,
    private readonly onError: (error: unknown) => void,
    options: NodeJobFeedOptions = {},
  ) {
    this.reofferMs = options.reofferMs ?? DEFAULT_REOFFER_MS;
  }

  /**
   * A subscriber of the tenant's queue; its first notice says whether it may claim jobs now. It
   * comes from the next look at the queue, or from the one in flight: that look's snapshot was
   * taken while listening, so a job offered after it is notified and looked at again.
   */
  async subscribe(at: TenantQueue, socket?: NoticeSocket): Promise<Channel<NodeJobsNotice>> {
    // Listening before the first look, so that a job offered after it is heard of.
    await this.listen();
    const key = queueKey(at.tenantId, at.queue);
    const watched = this.queues.get(key) ?? new WatchedQueue(at, this.reofferMs, Math.max(this.reofferMs, RECHECK_MS));
    this.queues.set(key, watched);
    const channel: Channel<NodeJobsNotice> = new Channel(() => this.leave(watched, channel));
    watched.add(channel, socket);
    await (watched.looking ?? this.check(watched)).catch((error: unknown) => {
      this.leave(watched, channel);
      throw error;
    });
    return channel;
  }

  async close(): Promise<void> {
    for (const watched of [...this.queues.values()]) {
      for (const subscriber of watched.channels()) subscriber.end();
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
    if (!notice.ended) return void this.check(watched);
    const { executionId, nodeId, attempt } = notice.ended;
    watched.broadcast({ kind: 'ATTEMPT_ENDED', queue: notice.queue, available: false, executionId, nodeId, attempt });
  }

  /**
   * Looks at the queue: AVAILABLE to as many subscribers as jobs are claimable now, and a timer
   * for the next look. The promise is the look's (it fails if the look does); its failure is reported here too.
   */
  private check(watched: WatchedQueue, byTimer = false): Promise<void> {
    if (watched.looking) {
      watched.checkAgain = true;
      return watched.looking;
    }
    watched.checkAgain = false;
    const looking = this.look(watched.at, watched.size).then(({ claimable, next }) => {
      watched.offer(claimable, byTimer);
      this.wakeAt(watched, next);
    });
    watched.looking = looking;
    void looking
      .catch((error: unknown) => {
        this.onError(error);
        this.wakeAt(watched, Infinity);
      })
      .finally(() => {
        watched.looking = null;
        if (watched.checkAgain && this.queues.get(watched.key) === watched) void this.check(watched);
      });
    return looking;
  }

  private wakeAt(watched: WatchedQueue, next: number): void {
    if (this.queues.get(watched.key) !== watched) return;
    if (watched.timer) clearTimeout(watched.timer);
    watched.timer = setTimeout(() => void this.check(watched, true), watched.nextLookIn(next, Date.now(), RECHECK_MS));
    watched.timer.unref();
  }

  /**
   * How many jobs of the queue are claimable now, up to `limit` (no look needs to know of more than
   * it has subscribers to tell), and when one is claimable next (ms since the epoch; Infinity: none):
   * the earliest one not reserved by a claim in progress, else the end of the earliest reservation
   * (a claim whose process died). All read the (tenant_id, queue, available_at) index or the few reserved rows.
   */
  private async look({ tenantId, queue }: TenantQueue, limit: number): Promise<Look> {
    const now = new Date().toISOString();
    const { rows } = await this.db.query<{ claimable: number; at: Date | string | null }>(
      `SELECT
         (SELECT count(*)::int FROM (SELECT 1 FROM external_jobs
            WHERE tenant_id = $3 AND queue = $1 AND available_at <= $2 AND (reserved_until IS NULL OR reserved_until <= $2) LIMIT $4) AS now_claimable) AS claimable,
         (SELECT at FROM (
            (SELECT available_at AS at FROM external_jobs WHERE tenant_id = $3 AND queue = $1 AND (reserved_until IS NULL OR reserved_until <= $2) ORDER BY available_at LIMIT 1)
            UNION ALL
            (SELECT GREATEST(available_at, reserved_until) AS at FROM external_jobs WHERE tenant_id = $3 AND queue = $1 AND reserved_until > $2 ORDER BY reserved_until LIMIT 1)
          ) AS next ORDER BY at LIMIT 1) AS at`,
      [queue, now, tenantId, limit],
    );
    const { claimable, at } = rows[0]!;
    return { claimable: Number(claimable), next: at === null ? Infinity : new Date(at).getTime() };
  }

  private leave(watched: WatchedQueue, channel: Channel<NodeJobsNotice>): void {
    if (!watched.remove(channel) || watched.size > 0) return;
    this.forget(watched);
  }

  private forget(watched: WatchedQueue): void {
    if (watched.timer) clearTimeout(watched.timer);
    if (this.queues.get(watched.key) === watched) this.queues.delete(watched.key);
  }
}
