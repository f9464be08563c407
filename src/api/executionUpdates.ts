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
  /** Changes that land within this window go out as one message. */
  coalesceMs?: number;
  log: FastifyBaseLogger;
}

const ACTIVE_STATUSES: ExecutionStatus[] = ['QUEUED', 'RUNNING', 'PAUSED'];

/** What one subscriber has been shown of one execution. */
interface Shown {
  streamVersion: number;
  status: ExecutionStatus;
  progress: number;
  /** nodeId -> the node's state as last shown, serialised for comparison. */
  nodes: Map<string, string>;
}

const serialiseNodes = (view: ExecutionView): Map<string, string> => new Map(view.nodeStates.map((node) => [node.nodeId, JSON.stringify(node)]));

/**
 * One subscriber and what it has shown of each execution it follows. Messages are diffs against
 * that, not against the change notifications, so a view that arrives late, or twice, shows
 * nothing twice and nothing older.
 */
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

  /** `nodes` is the view's nodes serialised, shared by every watcher of the view. */
  show(view: ExecutionView, nodes: Map<string, string> = serialiseNodes(view)): void {
    const shown = this.shown.get(view.id);
    if (shown && view.streamVersion <= shown.streamVersion) return;
    const changedNodes = view.nodeStates.filter((node) => shown?.nodes.get(node.nodeId) !== nodes.get(node.nodeId));
    const terminal = TERMINAL_EXECUTION_STATUSES.has(view.status);
    // Finished executions keep only their version: enough to ignore late notifications about them.
    this.shown.set(view.id, { streamVersion: view.streamVersion, status: view.status, progress: view.progress, nodes: terminal ? new Map() : nodes });
    const visible = !shown || changedNodes.length > 0 || shown.status !== view.status || shown.progress !== view.progress;
    if (visible) this.channel.push({ executionId: view.id, status: view.status, progress: view.progress, changedNodes, execution: view });
    if (terminal && this.endsWithExecution) this.channel.end();
  }
}

/**
 * The live feed behind the subscriptions, driven by the projection runner. Executions changed by
 * the batches projected within one window are read back from the read model once each (so the
 * `execution` query agrees with the last message, and a thousand subscribers cost one read), and
 * every subscriber following them gets the view.
 */
export class ExecutionUpdates {
  private readonly byExecution = new Map<string, Set<Watcher>>();
  private readonly byWorkflow = new Map<string, Set<Watcher>>();
  /** Changed executions not read yet: executionId -> workflowId. */
  private readonly pending = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;
  /** Until then, changes wait to be sent together. */
  private windowEndsAt = 0;
  private flushing: Promise<void> = Promise.resolve();
  private readonly unsubscribe: () => void;
  private readonly coalesceMs: number;

  constructor(private readonly options: ExecutionUpdatesOptions) {
    this.coalesceMs = options.coalesceMs ?? 25;
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
    if (this.timer) clearTimeout(this.timer);
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
    for (const { executionId, workflowId } of changes) {
      if (this.byExecution.has(executionId) || this.byWorkflow.has(workflowId)) this.pending.set(executionId, workflowId);
    }
    if (this.pending.size === 0 || this.timer) return;
    // The first change after a quiet spell goes out at once; what lands during the window after
    // a message waits for the window's end and goes out as one message.
    this.timer = setTimeout(() => {
      this.timer = null;
      this.windowEndsAt = Date.now() + this.coalesceMs;
      this.flushing = this.flushing.then(() => this.flush());
    }, Math.max(0, this.windowEndsAt - Date.now()));
  }

  private async flush(): Promise<void> {
    const pending = [...this.pending];
    this.pending.clear();
    for (const [executionId, workflowId] of pending) {
      const following = [...(this.byExecution.get(executionId) ?? []), ...(this.byWorkflow.get(workflowId) ?? [])];
      if (following.length === 0) continue;
      try {
        const view = await this.options.readModel.getExecution(executionId);
        if (!view) continue;
        const nodes = serialiseNodes(view);
        for (const watcher of following) watcher.show(view, nodes);
      } catch (error) {
        // Without the read model there is nothing true to show: end these subscriptions with the error.
        const coded = toCodedGraphQLError(error, this.options.log);
        for (const watcher of following) watcher.channel.fail(coded);
      }
    }
  }
}
