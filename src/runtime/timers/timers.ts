import { OutageReporter, retryDatabaseFaults } from '../../db/faultRetry.js';
import type { Timer } from './timer.js';
import type { TimerStore } from './timerStore.js';

export interface TimerSchedulerOptions {
  clock: () => Date;
  /** Fires one timer; a refusal by the decider (a stale timer) must resolve, not reject. */
  fire: (timer: Timer) => Promise<void>;
  onError: (error: unknown) => void;
}

/** The longest sleep: a timer no notification told this process about is found at least this often. */
const POLL_MS = 5_000;
/**
 * How long a claimed timer is ours before another process may fire it: short, so that the timers
 * of a process that died fire elsewhere within TIMER_LEASE_MS + POLL_MS, and renewed every
 * RENEW_MS while a fire is in progress, so that a slow fire is not taken over while it lives.
 */
export const TIMER_LEASE_MS = 5_000;
const RENEW_MS = TIMER_LEASE_MS / 3;
const BATCH_SIZE = 100;

/**
 * Fires durable timers when they are due. One setTimeout sleeps until the earliest due time (at
 * most POLL_MS) and is re-armed when an earlier timer is set; waking, it claims due timers,
 * fires them and deletes them. A process that dies after claiming or firing but before deleting
 * leaves the timer to fire again once its lease runs out: firing twice is harmless, since the
 * decider refuses a stale attempt.
 */
export class TimerScheduler {
  private wakeAt = Number.POSITIVE_INFINITY;
  private wakeTimer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private rerun = false;
  private stopped = true;
  private readonly outage: OutageReporter;
  /** Claimed and not settled yet: their leases are renewed until they are. */
  private readonly firing = new Set<Timer>();

  constructor(
    private readonly store: TimerStore,
    private readonly options: TimerSchedulerOptions,
  ) {
    this.outage = new OutageReporter(options.onError);
  }

  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** A timer due at `dueAt` was just written: wake up for it if it is earlier than planned. */
  notify(dueAt: Date): void {
    if (!this.stopped && dueAt.getTime() < this.wakeAt) this.arm(dueAt.getTime());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = null;
    await this.running;
  }

  private arm(at: number): void {
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    const now = this.options.clock().getTime();
    this.wakeAt = Math.min(at, now + POLL_MS);
    this.wakeTimer = setTimeout(() => this.wake(), Math.max(0, this.wakeAt - now));
  }

  /** One pass at a time; a wake-up during a pass asks for another one after it. */
  private wake(): void {
    this.wakeTimer = null;
    this.wakeAt = Number.POSITIVE_INFINITY;
    if (this.running) {
      this.rerun = true;
      return;
    }
    this.running = this.pass().finally(() => {
      this.running = null;
      if (!this.rerun) return;
      this.rerun = false;
      if (!this.stopped) this.wake();
    });
  }

  /** Fires what is due, then sleeps until the next due time (or an earlier one notified meanwhile). */
  private async pass(): Promise<void> {
    let next = Number.POSITIVE_INFINITY;
    try {
      await this.fireDue();
      next = (await this.store.nextDueAt())?.getTime() ?? next;
      this.outage.succeeded();
    } catch (error) {
      // A pass that failed (the database away) runs again within POLL_MS at the latest.
      this.outage.failed(error);
    }
    if (!this.stopped && !this.rerun) this.arm(Math.min(next, this.wakeAt));
  }

  private async fireDue(): Promise<void> {
    const renewal = setInterval(() => this.renew(), RENEW_MS);
    try {
      for (;;) {
        if (this.stopped) return;
        const due = await this.store.claimDue(this.options.clock(), BATCH_SIZE, TIMER_LEASE_MS);
        if (due.length === 0) return;
        await Promise.all(due.map((each) => this.fireOne(each)));
      }
    } finally {
      clearInterval(renewal);
    }
  }

  /**
   * A claimed timer is fired again while the database is away (firing twice changes nothing),
   * rather than waiting for its lease to run out; after any other error, or once stopping, the
   * lease runs out and the timer fires again.
   */
  private async fireOne(timer: Timer): Promise<void> {
    this.firing.add(timer);
    try {
      await retryDatabaseFaults(
        async () => {
          await this.options.fire(timer);
          await this.store.remove(timer);
        },
        { outage: this.outage, stopped: () => this.stopped },
      );
    } catch (error) {
      this.outage.failed(error);
    } finally {
      this.firing.delete(timer);
    }
  }

  /** A renewal that fails only lets the lease run out: the timer may then fire twice, never not at all. */
  private renew(): void {
    if (this.firing.size === 0) return;
    this.store.renew([...this.firing], this.options.clock(), TIMER_LEASE_MS).catch(this.options.onError);
  }
}
