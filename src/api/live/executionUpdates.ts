import type { FastifyBaseLogger } from 'fastify';
import { DomainError } from '../domain/errors.js';
import { TERMINAL_EXECUTION_STATUSES, type ExecutionStatus } from '../domain/execution/events.js';
import type { ExecutionView, NodeStateView } from '../projections/executionView.js';
import type { ExecutionChange, ProjectionRunner } from '../projections/projectionRunner.js';
import type { ReadModel } from '../projections/readModel.js';
import { Channel } from './channel.js';
import { toCodedGraphQLError } from './errors.js';

export interface ExecutionUpdate {
  executionId: string;
  status: ExecutionStatus;
  progress: number;
  /** Only the nodes that changed since the previous message about this execution, each as it is now. */
  changedNodes: NodeStateView[];
  execution: ExecutionView;
}

export interface ExecutionUpdatesOptions {
  readModel: Pick<ReadModel, 'getExecution' | 'listExecutions'>;
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

const ACTIVE_STATUSES: ExecutionStatus[] = ['QUEUED', 'RUNNING', 'PAUSED'];

/** What the subscribers of one execution have been shown of it, as of one stream version. */
interface Shown {
  streamVersion: number;
  status: ExecutionStatus;
  progress: number;
  /** nodeId -> the node's state as last shown, serialised for comparison. */
  nodes: Map<string, string>;
}

/** What subscribers who were shown `from` are shown next, and the message that tells them (null: nothing new). */
interface Step {
  shown: Shown;
  update: ExecutionUpdate | null;
}

const serialiseNodes = (view: ExecutionView): Map<string, string> => new Map(view.nodeStates.map((node) => [node.nodeId, JSON.stringify(node)]));

/**
 * Diffs a view against what was shown. A view that arrives late, or twice, shows nothing twice
 * and nothing older. `nodes` is the view's nodes serialised.
 */
function step(from: Shown | undefined, view: ExecutionView, nodes: Map<string, string>): Step {
  if (from && view.streamVersion <= from.streamVersion) return { shown: from, update: null };
  const changedNodes = view.nodeStates.filter((node) => from?.nodes.get(node.nodeId) !== nodes.get(node.nodeId));
  // Finished executions keep only their version: enough to ignore late notifications about them.
  const kept = TERMINAL_EXECUTION_STATUSES.has(view.status) ? new Map<string, string>() : nodes;
  const shown = { streamVersion: view.streamVersion, status: view.status, progress: view.progress, nodes: kept };
  const visible = !from || changedNodes.length > 0 || from.status !== view.status || from.progress !== view.progress;
  return { shown, update: visible ? { executionId: view.id, status: view.status, progress: view.progress, changedNodes, execution: view } : null };
}

/**
 * The steps of one view, each computed once and shared by every subscriber that was shown the
 * same version: a view is a function of the execution's events up to its version, so they were
 * all shown the same. With a thousand subscribers, one diff and one message object, not a thousand.
 */
class Steps {
  private readonly byVersion = new Map<number | undefined, Step>();
  private readonly nodes: Map<string, string>;

  constructor(private readonly view: ExecutionView) {
    this.nodes = serialiseNodes(view);
  }

  from(shown: Shown | undefined): Step {
    const version = shown?.streamVersion;
    const known = this.byVersion.get(version);
    if (known) return known;
    const next = step(shown, this.view, this.nodes);
    this.byVersion.set(version, next);
    return next;
  }
}

/** One subscriber and what it has been shown of each execution it follows. */
class Watcher {
  readonly channel: Channel<ExecutionUpdate>;
  private readonly shown = new Map<string, Shown>();

  constructor(
    /** executionUpdated ends with its execution; workflowExecutions goes on. */
    private readonly endsWithExecution: boolean,
    onClose: () => void,
  ) {
    this.channel = new Channel(onClose);
  }

  show(view: ExecutionView, steps: Steps = new Steps(view)): void {
    const { shown, update } = steps.from(this.shown.get(view.id));
    this.shown.set(view.id, shown);
    if (update) this.channel.push(update);
    if (TERMINAL_EXECUTION_STATUSES.has(shown.status) && this.endsWithExecution) this.channel.end();
  }
}

/**
 * How often each execution may send: `burst` messages at once, then one per `intervalMs` (a
 * token bucket, kept as one number per execution: when its next message would be due at the
 * sustained rate). An isolated change goes out at once; a busy execution sends at that rate.
 */
class MessageRate {
  private readonly due = new Map<string, number>();

  constructor(
    private readonly intervalMs: number,
    private readonly burst: number,
  ) {}

  /** Books the next message of the execution and says when it may go out. */
  book(executionId: string, now: number): number {
    const due = Math.max(this.due.get(executionId) ?? now, now);
    this.due.set(executionId, due + this.intervalMs);
    return Math.max(now, due - (this.burst - 1) * this.intervalMs);
  }

  /** Forgets executions quiet long enough to have their whole burst back: the same as never seen. */
  forgetQuiet(now: number): void {
    for (const [executionId, due] of this.due) if (due <= now) this.due.delete(executionId);
  }
}

/**
 * The live feed behind the subscriptions, driven by the projection runner. A changed execution is
 * read back from the read model once per message (so the `execution` query agrees with the last
 * message, and a thousand subscribers cost one read), and every subscriber following it gets the
 * view. Each execution's messages are rate-limited (MessageRate): changes that land while one
 * waits for its turn go out with it.
 */
export class ExecutionUpdates {
  private readonly byExecution = new Map<string, Set<Watcher>>();
  private readonly byWorkflow = new Map<string, Set<Watcher>>();
  /** Changed executions not read yet, each with the timer of its turn (null: its turn came). */
  private readonly pending = new Map<string, { workflowId: string; timer: NodeJS.Timeout | null }>();
  /** Executions whose turn came, in that order. */
  private readonly due: string[] = [];
  private flushing: Promise<void> = Promise.resolve();
  private readonly rate: MessageRate;
  private readonly unsubscribe: () => void;

  constructor(private readonly options: ExecutionUpdatesOptions) {
    this.rate = new MessageRate(options.coalesceMs ?? 25, options.burst ?? DEFAULT_BURST);
    this.unsubscribe = options.projections.onChange((changes) => this.changed(changes));
  }

  /** First a snapshot (every node), then the changes; ends after the execution finishes. */
  async execution(executionId: string): Promise<Channel<ExecutionUpdate>> {
    const watcher = this.watch(this.byExecution, executionId, true);
    try {
      watcher.show(await this.snapshot(executionId));
    } catch (error) {
      await watcher.channel.return();
      throw error;
    }
    return watcher.channel;
  }

  /** Every execution of a workflow: a snapshot of each active one, then each new or changed one. */
  async workflow(workflowId: string): Promise<Channel<ExecutionUpdate>> {
    const watcher = this.watch(this.byWorkflow, workflowId, false);
    try {
      for (const status of ACTIVE_STATUSES) {
        const { nodes } = await this.options.readModel.listExecutions({ workflowId, status });
        for (const view of nodes) watcher.show(view);
      }
    } catch (error) {
      await watcher.channel.return();
      throw error;
    }
    return watcher.channel;
  }

  /** Ends every subscription (the server is shutting down). */
  close(): void {
    this.unsubscribe();
    for (const { timer } of this.pending.values()) if (timer) clearTimeout(timer);
    for (const watcher of this.watchers()) watcher.channel.end();
  }

  get subscriberCount(): number {
    return [...this.watchers()].length;
  }

  /**
   * The read model lags the log a little: an execution that a client just started may not be
   * projected yet. Once the projections caught up with everything committed so far it must be.
   */
  private async snapshot(executionId: string): Promise<ExecutionView> {
    const { readModel, projections } = this.options;
    const view = (await readModel.getExecution(executionId)) ?? (await projections.caughtUp().then(() => readModel.getExecution(executionId)));
    if (!view) throw new DomainError('NOT_FOUND', `execution ${executionId} not found`);
    return view;
  }

  private watch(index: Map<string, Set<Watcher>>, key: string, endsWithExecution: boolean): Watcher {
    const watchers = index.get(key) ?? new Set<Watcher>();
    index.set(key, watchers);
    const watcher: Watcher = new Watcher(endsWithExecution, () => {
      watchers.delete(watcher);
      if (watchers.size === 0 && index.get(key) === watchers) index.delete(key);
    });
    watchers.add(watcher);
    return watcher;
  }

  private *watchers(): Iterable<Watcher> {
    for (const watchers of [...this.byExecution.values(), ...this.byWorkflow.values()]) yield* watchers;
  }

  private changed(changes: ExecutionChange[]): void {
    const now = Date.now();
    for (const { executionId, workflowId } of changes) {
      if (this.pending.has(executionId) || !(this.byExecution.has(executionId) || this.byWorkflow.has(workflowId))) continue;
      const at = this.rate.book(executionId, now);
      const timer = at > now ? setTimeout(() => this.turn(executionId), at - now) : null;
      this.pending.set(executionId, { workflowId, timer });
      // A turn that came at once is read in a microtask, once the projection runner's listeners
      // have returned: the changes of this batch go together.
      if (!timer) this.turn(executionId);
    }
  }

  private turn(executionId: string): void {
    this.pending.get(executionId)!.timer = null;
    this.due.push(executionId);
    if (this.due.length === 1) this.flushing = this.flushing.then(() => this.flush());
  }

  private async flush(): Promise<void> {
    this.rate.forgetQuiet(Date.now());
    for (let executionId = this.due.shift(); executionId !== undefined; executionId = this.due.shift()) {
      const { workflowId } = this.pending.get(executionId)!;
      // From here on, a change needs a read of its own: this one may miss it.
      this.pending.delete(executionId);
      await this.send(executionId, workflowId);
    }
  }

  /** One read of the execution, shown to everyone following it. */
  private async send(executionId: string, workflowId: string): Promise<void> {
    const following = [...(this.byExecution.get(executionId) ?? []), ...(this.byWorkflow.get(workflowId) ?? [])];
    if (following.length === 0) return;
    try {
      const view = await this.options.readModel.getExecution(executionId);
      if (!view) return;
      const steps = new Steps(view);
      for (const watcher of following) watcher.show(view, steps);
    } catch (error) {
      // Without the read model there is nothing true to show: end these subscriptions with the error.
      const coded = toCodedGraphQLError(error, this.options.log);
      for (const watcher of following) watcher.channel.fail(coded);
    }
  }
}
