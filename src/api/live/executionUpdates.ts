import type { FastifyBaseLogger } from 'fastify';
import { DomainError } from '../../domain/errors.js';
import type { ExecutionStatus } from '../../domain/execution/events.js';
import type { ExecutionChange, ProjectionRunner } from '../../projections/projectionRunner.js';
import type { ReadModel } from '../../projections/readModel.js';
import { toCodedGraphQLError } from '../errors.js';
import { Channel } from './channel.js';
import { LiveExecution } from './liveExecution.js';
import { MessageRate } from './messageRate.js';

export type { ExecutionUpdate } from './liveExecution.js';
import type { ExecutionUpdate } from './liveExecution.js';

/** What a subscription's document selects of ExecutionUpdate, beyond its head (status, progress). */
export interface Selection {
  /** changedNodes or execution: the feed must know the execution's nodes. */
  nodes: boolean;
  /** execution: the feed must know the duration history for its estimate. */
  execution: boolean;
}

/** Where one subscription's messages go (its socket), as the feed sees it. */
export interface Sink {
  readonly selection: Selection;
  /** False while its socket holds more unsent bytes than its bound: the message waits, and coalesces. */
  ready(): boolean;
  /** True once it has not been ready for longer than its bound: the feed drops it. */
  tooSlow(now: number): boolean;
  send(update: ExecutionUpdate): void;
  /** Closes its socket (too slow); the subscription ends with it. */
  drop(): void;
}

export interface ExecutionUpdatesOptions {
  readModel: Pick<ReadModel, 'getExecutionRow' | 'getExecutionNodes' | 'durationHistory' | 'activeExecutionRows'>;
  projections: Pick<ProjectionRunner, 'onChange' | 'caughtUp'>;
  /**
   * Once an execution has sent `burst` messages in quick succession, its changes that land within
   * this window go out as one message: at most one message per window on average.
   */
  coalesceMs?: number;
  /** Messages an execution that was quiet may send at once, each as soon as its change is projected. */
  burst?: number;
  log: FastifyBaseLogger;
}

/**
 * Enough for one step of an execution to go out change by change (a node completes and the next
 * is queued, then it starts: commits a few ms apart); more than that in quick succession is a busy
 * execution, whose changes are better sent together.
 */
export const DEFAULT_BURST = 4;

/** How often subscribers whose sockets were full are looked at again (caught up, or dropped). */
const BEHIND_CHECK_MS = 100;

const ACTIVE_STATUSES: ExecutionStatus[] = ['QUEUED', 'RUNNING', 'PAUSED'];

/** One subscription: where its messages go and the version of each execution it was shown last. */
class Subscriber {
  readonly channel = new Channel<never>(() => this.onClose());
  private readonly shown = new Map<string, number>();
  private onClose: () => void = () => {};

  constructor(
    readonly sink: Sink,
    /** executionUpdated ends with its execution; workflowExecutions goes on. */
    private readonly endsWithExecution: boolean,
  ) {}

  closing(onClose: () => void): void {
    this.onClose = onClose;
  }

  /** Sends what it was not shown yet of the execution; false when its socket could not take it. */
  show(live: LiveExecution): boolean {
    const shown = this.shown.get(live.executionId);
    if (shown !== undefined && shown >= live.version) return true;
    if (!this.sink.ready()) return false;
    this.sink.send(live.updateFrom(shown));
    this.shown.set(live.executionId, live.version);
    if (live.finished && this.endsWithExecution) this.channel.end();
    return true;
  }

  behindOn(live: LiveExecution): boolean {
    return (this.shown.get(live.executionId) ?? -1) < live.version;
  }

  forget(executionId: string): void {
    this.shown.delete(executionId);
  }
}

/**
 * The live feed behind the subscriptions, driven by the projection runner's changes: each change
 * carries the rows its batch wrote, and the feed keeps a LiveExecution of every followed
 * execution up from them, so that a message costs what changed, never a read of the whole
 * execution. Reads happen only to start following an execution (its row; its nodes when a
 * selection needs them). Each execution's messages are rate-limited (MessageRate): changes that
 * land while one waits for its turn go out with it. The projection never waits for a socket:
 * a subscriber whose socket is full is skipped (it catches up later with the latest state) and
 * dropped when that lasts (see Sink).
 */
export class ExecutionUpdates {
  private readonly live = new Map<string, LiveExecution>();
  private readonly byExecution = new Map<string, Set<Subscriber>>();
  private readonly byWorkflow = new Map<string, Set<Subscriber>>();
  /** Executions with a message due, each with the timer of its turn (null: its turn came). */
  private readonly pending = new Map<string, NodeJS.Timeout | null>();
  private flushQueued = false;
  /** Follows under way (a subscription starting): their executions are kept even with no subscriber yet. */
  private readonly loading = new Set<{ executionId: string }>();
  private readonly behind = new Set<Subscriber>();
  private behindTimer: NodeJS.Timeout | null = null;
  private readonly rate: MessageRate;
  private readonly unsubscribe: () => void;

  constructor(private readonly options: ExecutionUpdatesOptions) {
    this.rate = new MessageRate(options.coalesceMs ?? 25, options.burst ?? DEFAULT_BURST);
    this.unsubscribe = options.projections.onChange((changes) => this.changed(changes));
  }

  /** First a snapshot (every node), then the changes; ends after the execution finishes. */
  async execution(executionId: string, sink: Sink): Promise<Channel<never>> {
    const subscriber = new Subscriber(sink, true);
    await this.follow([executionId], sink.selection, () => this.subscribe(this.byExecution, executionId, subscriber));
    return subscriber.channel;
  }

  /** Every execution of a workflow: a snapshot of each active one, then each new or changed one. */
  async workflow(workflowId: string, sink: Sink): Promise<Channel<never>> {
    const rows = await this.options.readModel.activeExecutionRows(workflowId, ACTIVE_STATUSES);
    const subscriber = new Subscriber(sink, false);
    await this.follow(
      rows.map((row) => row.id),
      sink.selection,
      () => this.subscribe(this.byWorkflow, workflowId, subscriber),
    );
    return subscriber.channel;
  }

  /** Ends every subscription (the server is shutting down). */
  close(): void {
    this.unsubscribe();
    for (const timer of this.pending.values()) if (timer) clearTimeout(timer);
    if (this.behindTimer) clearInterval(this.behindTimer);
    for (const subscriber of this.subscribers()) subscriber.channel.end();
  }

  get subscriberCount(): number {
    return [...this.subscribers()].length;
  }

  /**
   * The execution as the feed follows it, its head read once (and its nodes once some selection
   * needs them). The read model lags the log a little: an execution that a client just started
   * may not be projected yet; once the projections caught up with everything committed so far it
   * must be. Changes that arrive meanwhile are merged by version (LiveExecution).
   */
  /**
   * Follows the executions for a new subscriber: each one's head read once (and its nodes once
   * some selection needs them), then `attach` registers the subscriber and it gets its snapshot.
   * The read model lags the log a little: an execution that a client just started may not be
   * projected yet; once the projections caught up with everything committed so far it must be.
   * Changes that arrive meanwhile are merged by version (LiveExecution).
   */
  private async follow(executionIds: string[], selection: Selection, attach: () => Subscriber): Promise<void> {
    const loading = executionIds.map((executionId) => ({ executionId }));
    for (const each of loading) this.loading.add(each);
    try {
      const lives = await Promise.all(executionIds.map((executionId) => this.load(executionId, selection)));
      const subscriber = attach();
      for (const live of lives) this.showTo(subscriber, live);
    } finally {
      for (const each of loading) this.loading.delete(each);
      for (const executionId of executionIds) this.forgetUnfollowed(executionId);
    }
  }

  private async load(executionId: string, selection: Selection): Promise<LiveExecution> {
    const { readModel, projections } = this.options;
    const live = this.liveExecution(executionId);
    if (!live.head) {
      const row = (await readModel.getExecutionRow(executionId)) ?? (await projections.caughtUp().then(() => readModel.getExecutionRow(executionId)));
      if (row) live.applyHead(row);
      if (!live.head) throw new DomainError('NOT_FOUND', `execution ${executionId} not found`);
    }
    if (selection.nodes) await live.loadNodes(() => readModel.getExecutionNodes(executionId));
    if (selection.execution && !live.history && !live.finished) live.history = await readModel.durationHistory(live.head.workflowId, live.nodeIds());
    return live;
  }

  private liveExecution(executionId: string): LiveExecution {
    const known = this.live.get(executionId);
    if (known) return known;
    const live = new LiveExecution(executionId);
    this.live.set(executionId, live);
    return live;
  }

  private subscribe(index: Map<string, Set<Subscriber>>, key: string, subscriber: Subscriber): Subscriber {
    const subscribers = index.get(key) ?? new Set<Subscriber>();
    index.set(key, subscribers);
    subscriber.closing(() => {
      subscribers.delete(subscriber);
      this.behind.delete(subscriber);
      if (subscribers.size === 0 && index.get(key) === subscribers) index.delete(key);
      for (const executionId of index === this.byExecution ? [key] : this.executionsOf(key)) this.forgetUnfollowed(executionId);
    });
    subscribers.add(subscriber);
    return subscriber;
  }

  private showTo(subscriber: Subscriber, live: LiveExecution): void {
    if (!subscriber.show(live)) this.fellBehind(subscriber);
  }

  private *subscribers(): Iterable<Subscriber> {
    for (const subscribers of [...this.byExecution.values(), ...this.byWorkflow.values()]) yield* subscribers;
  }

  private followers(live: LiveExecution): Subscriber[] {
    return [...(this.byExecution.get(live.executionId) ?? []), ...(live.head ? (this.byWorkflow.get(live.head.workflowId) ?? []) : [])];
  }

  private executionsOf(workflowId: string): string[] {
    return [...this.live.values()].filter((live) => live.head?.workflowId === workflowId).map((live) => live.executionId);
  }

  /** Lets go of an execution nobody follows, nor is about to. */
  private forgetUnfollowed(executionId: string): void {
    const live = this.live.get(executionId);
    if (!live || this.followers(live).length > 0 || [...this.loading].some((each) => each.executionId === executionId)) return;
    this.live.delete(executionId);
  }

  private changed(changes: ExecutionChange[]): void {
    const now = Date.now();
    for (const change of changes) {
      const followedByWorkflow = this.byWorkflow.get(change.workflowId);
      if (!this.live.has(change.executionId) && !followedByWorkflow) continue;
      const live = this.liveExecution(change.executionId);
      if (live.apply(change)) this.book(change.executionId, now);
    }
  }

  /** A workflow's subscribers may meet an execution in a change: its nodes come with its first batch, or are read once. */
  private readNodes(live: LiveExecution): void {
    live
      .loadNodes(() => this.options.readModel.getExecutionNodes(live.executionId))
      .then(
        () => this.book(live.executionId, Date.now()),
        (error: unknown) => this.fail(live, error),
      );
  }

  private book(executionId: string, now: number): void {
    if (this.pending.has(executionId)) return;
    const at = this.rate.book(executionId, now);
    this.pending.set(executionId, at > now ? setTimeout(() => this.turn(executionId), at - now) : null);
    if (at <= now) this.turn(executionId);
  }

  /**
   * A turn that came at once goes out in a microtask, once the projection runner's listeners have
   * returned: the changes of one batch go together.
   */
  private turn(executionId: string): void {
    this.pending.set(executionId, null);
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.flushQueued = false;
    this.rate.forgetQuiet(Date.now());
    for (const [executionId, timer] of [...this.pending]) {
      if (timer) continue;
      this.pending.delete(executionId);
      const live = this.live.get(executionId);
      if (live) this.send(live);
    }
  }

  /** One message per subscriber that can take it; those that cannot get the latest state later. */
  private send(live: LiveExecution): void {
    const followers = this.followers(live);
    if (!live.hasNodes && followers.some((subscriber) => subscriber.sink.selection.nodes)) return this.readNodes(live);
    const begun = performance.now();
    for (const subscriber of followers) this.showTo(subscriber, live);
    this.rate.rest(live.executionId, Date.now(), performance.now() - begun);
    live.sent();
    if (live.finished) this.forgetFinished(live);
  }

  /** A finished execution is let go once everyone following it by its workflow saw its end. */
  private forgetFinished(live: LiveExecution): void {
    if (this.byExecution.has(live.executionId) || this.followers(live).some((subscriber) => subscriber.behindOn(live))) return;
    for (const subscriber of this.followers(live)) subscriber.forget(live.executionId);
    this.live.delete(live.executionId);
  }

  /** Without the read model there is nothing true to show: these subscriptions end with the error. */
  private fail(live: LiveExecution, error: unknown): void {
    const coded = toCodedGraphQLError(error, this.options.log);
    for (const subscriber of this.followers(live)) subscriber.channel.fail(coded);
  }

  private fellBehind(subscriber: Subscriber): void {
    this.behind.add(subscriber);
    this.behindTimer ??= setInterval(() => this.checkBehind(), BEHIND_CHECK_MS);
  }

  /** Subscribers whose sockets drained get the latest state; those full for too long are dropped. */
  private checkBehind(): void {
    const now = Date.now();
    for (const subscriber of [...this.behind]) {
      if (subscriber.sink.tooSlow(now)) {
        this.behind.delete(subscriber);
        subscriber.sink.drop();
        subscriber.channel.end();
        continue;
      }
      if (!subscriber.sink.ready()) continue;
      this.behind.delete(subscriber);
      for (const live of [...this.live.values()].filter((each) => this.followers(each).includes(subscriber))) {
        if (!subscriber.show(live)) this.behind.add(subscriber);
        else if (live.finished) this.forgetFinished(live);
      }
    }
    if (this.behind.size === 0 && this.behindTimer) {
      clearInterval(this.behindTimer);
      this.behindTimer = null;
    }
  }
}
