import { queueKey, type TenantQueue } from '../../runtime/workQueue/jobNotices.js';
import type { Channel } from './channel.js';
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

interface Subscriber {
  socket: NoticeSocket | undefined;
  /** The queue's wake count when this subscriber was last told of work (0: never): the lowest is woken first. */
  wokenAs: number;
}

/**
 * The subscribers of one queue (of one tenant) in this process, which of them were told of work
 * last, and when the queue is looked at next.
 */
export class WatchedQueue {
  constructor(
    readonly at: TenantQueue,
    /** The first wait before jobs offered and not claimed are offered to others. */
    private readonly firstReofferMs: number,
    /** The longest: every worker of the queue may be busy, and a busy one that was told claims once it has room. */
    private readonly maxReofferMs: number,
  ) {
    this.reofferMs = firstReofferMs;
  }

  get key(): string {
    return queueKey(this.at.tenantId, this.at.queue);
  }

  private readonly subscribers = new Map<Channel<NodeJobsNotice>, Subscriber>();
  /** Subscribers whose first notice waits for the look at the queue in flight (or the one they started). */
  private readonly ungreeted = new Set<Channel<NodeJobsNotice>>();
  private wakes = 0;
  /** Whether the last look found jobs to claim (and told subscribers of them). */
  private offered = false;
  private reofferMs: number;
  timer: NodeJS.Timeout | null = null;
  /** The look at the queue in flight: one at a time, a burst of notices makes one more after it. */
  looking: Promise<void> | null = null;
  checkAgain = false;

  get size(): number {
    return this.subscribers.size;
  }

  channels(): IterableIterator<Channel<NodeJobsNotice>> {
    return this.subscribers.keys();
  }

  add(channel: Channel<NodeJobsNotice>, socket: NoticeSocket | undefined): void {
    this.subscribers.set(channel, { socket, wokenAs: 0 });
    this.ungreeted.add(channel);
  }

  /** Whether it was a subscriber. */
  remove(channel: Channel<NodeJobsNotice>): boolean {
    this.ungreeted.delete(channel);
    return this.subscribers.delete(channel);
  }

  /** ATTEMPT_ENDED: only the worker holding the attempt knows it is its own. */
  broadcast(notice: NodeJobsNotice): void {
    for (const [channel, subscriber] of this.subscribers) this.send(channel, subscriber, notice);
  }

  /**
   * What a look at the queue found: `claimable` jobs (at most one per subscriber) are offered to
   * as many subscribers, those told least recently first, so that one job wakes one worker and
   * successive jobs go round the workers (one that just got a job is likely busy with it). A look
   * by the timer that finds jobs still unclaimed after an offer waits twice as long before the next:
   * the workers told may be busy, and they claim once they have room.
   *
   * New subscribers, never told yet, come first; those not told hear AVAILABLE false as their
   * first notice. Workers that subscribe together (a server restarted, a fleet started) share one
   * look and split its jobs, instead of each hearing of the same job in a look of its own.
   */
  offer(claimable: number, byTimer: boolean): void {
    if (claimable === 0) this.drained();
    else this.tell(claimable, byTimer);
    for (const channel of this.ungreeted) channel.push(availableNotice(this.at.queue, false));
    this.ungreeted.clear();
  }

  private tell(claimable: number, byTimer: boolean): void {
    if (byTimer && this.offered) this.reofferMs = Math.min(this.reofferMs * 2, this.maxReofferMs);
    this.offered = true;
    const leastRecent = [...this.subscribers].sort(([, a], [, b]) => a.wokenAs - b.wokenAs);
    let told = 0;
    for (const [channel, subscriber] of leastRecent) {
      if (told === claimable) break;
      if (this.wake(channel, subscriber)) told += 1;
    }
  }

  private drained(): void {
    this.offered = false;
    this.reofferMs = this.firstReofferMs;
  }

  private wake(channel: Channel<NodeJobsNotice>, subscriber: Subscriber): boolean {
    this.ungreeted.delete(channel);
    if (!this.send(channel, subscriber, availableNotice(this.at.queue, true))) return false;
    subscriber.wokenAs = ++this.wakes;
    return true;
  }

  /**
   * A socket holding more unsent bytes than the live feeds allow is closed rather than written to
   * (the SDK reconnects, and its first notice brings what it missed): the server's memory stays bounded.
   */
  private send(channel: Channel<NodeJobsNotice>, { socket }: Subscriber, notice: NodeJobsNotice): boolean {
    if (socket && socket.bufferedAmount > DEFAULT_SLOW_SUBSCRIBER_LIMITS.maxBufferedBytes) {
      socket.close(SLOW_SUBSCRIBER_CLOSE_CODE, 'subscriber too slow');
      return false;
    }
    channel.push(notice);
    return true;
  }

  /** How long until the next look: the next job's time, the re-offer of jobs told of now, or the recheck. */
  nextLookIn(next: number, now: number, recheckMs: number): number {
    if (this.offered) return this.reofferMs;
    return next === Infinity ? recheckMs : Math.min(Math.max(next - now, 0), recheckMs);
  }
}

const availableNotice = (queue: string, available: boolean): NodeJobsNotice => ({ kind: 'AVAILABLE', queue, available, executionId: null, nodeId: null, attempt: null });
