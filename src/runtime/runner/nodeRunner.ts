import type { ExecutionCommandHandler, RunAhead } from '../../commands/executionCommandHandler.js';
import { isDatabaseFault } from '../../db/databaseFaults.js';
import { OutageReporter, retryDatabaseFaults } from '../../db/faultRetry.js';
import type { ExecutionCommand } from '../../domain/execution/commands.js';
import { DomainError } from '../../domain/errors.js';
import { jsonProblem, storableString } from '../../domain/jsonHygiene.js';
import { MAX_NODE_OUTPUT_DEPTH } from '../../domain/limits.js';
import type { ExecutionState } from '../../domain/execution/state.js';
import type { WaitSpec } from '../../domain/execution/waiting.js';
import type { ExecutionFaults } from '../executionFaults.js';
import { attemptBound, ExecutionDeadline } from './attemptBound.js';
import { runAhead } from './runAhead.js';
import { CodedNodeError, PermanentNodeError } from '../../nodes/nodeErrors.js';
import type { ChildPlan, NodeExecute, NodeLog } from '../../nodes/nodeType.js';
import type { NodeTypeRegistry, RegisteredNodeType } from '../../nodes/registry.js';
import type { ExpressionEvaluator } from '../expressions/expressionPool.js';
import { maskedLog, maskSecrets } from '../../secrets/secretMask.js';
import { attemptScope, type AttemptScope, type ExpressionBindings, type PayloadResolver } from './attemptScope.js';
import { resolveParameters } from './resolveParameters.js';
import { Semaphore } from './semaphore.js';
import type { ErrorReporter } from '../../errors/errorReporter.js';

export interface NodeJob {
  executionId: string;
  nodeId: string;
  attempt: number;
  /** The stream version of the event that queued the attempt, when known: a state this recent needs no re-read. */
  queuedAt?: number;
}

export interface NodeRunnerOptions {
  workerId: string;
  concurrency: number;
  /** How long a started attempt is ours before another runtime may take it back; renewed while it runs. */
  leaseMs: number;
  /** The types it runs: side-effect-free ones run first, then are started and settled in one commit; the others under a lease. */
  nodeTypes: NodeTypeRegistry;
  /** Evaluates parameter expressions, conditions and mappings. */
  expressions: ExpressionEvaluator;
  /** The `$variables` of every expression (`$secrets`). */
  bindings: ExpressionBindings;
  /** Where a node's `log` goes, with its execution, node and attempt. */
  log: (job: NodeJob, type: string) => NodeLog;
  /**
   * How many side-effect-free nodes may be in hand at once. They hold no connection or socket, so
   * this bound is far above `concurrency`: the more of them wait on one append, the fewer commits.
   */
  computeConcurrency: number;
  onError?: ErrorReporter;
  /** Fails the execution of a job whose handling failed (an error other than a refusal or a lost connection). */
  faults?: ExecutionFaults;
  /** Puts large payloads back into an attempt's trigger data, input and `nodes`; none: the state holds the values. */
  payloads?: PayloadResolver;
  /** Runs the children of child types (`workflow`, `map`); without it such nodes fail. */
  children?: ChildRuns;
}

/** What the runner needs to run a child type's attempt (src/runtime/subflows implements it). */
export interface ChildRuns {
  /** Records the attempt's children; answers what launches them once the node has started. Throws a coded error to fail the node. */
  open(job: NodeJob, state: ExecutionState, plan: ChildPlan): Promise<() => Promise<void>>;
  /** The node could not start (its attempt ended meanwhile): none of its children may run. */
  abandon(job: NodeJob): Promise<void>;
}

class Stopping extends Error {}

/** Renewing a few times per lease rides out a slow renewal or two. */
const HEARTBEATS_PER_LEASE = 3;

const jobKey = (job: NodeJob) => `${job.executionId}\u0000${job.nodeId}\u0000${job.attempt}`;
const QUEUE_READY: ExecutionCommand = { type: 'QueueReadyNodes' };
const isQueued = (state: ExecutionState | null, job: NodeJob): boolean => {
  const node = state?.nodes.get(job.nodeId);
  return node?.status === 'QUEUED' && node.attempt === job.attempt;
};

/**
 * Runs the queued nodes of in-process and timer types: StartNode, the type's executor with an
 * AbortSignal, then CompleteNode or
 * FailNode. Each attempt runs at most once: a job already in hand is ignored, and StartNode is
 * refused by the decider for an attempt that another runtime started, or that waits to retry
 * (its retry timer dispatches it again). Timeouts are durable timers (see timerPlan): the
 * runner learns of one as the event that ended the attempt, through `abort`.
 */
export class NodeRunner {
  private readonly inHand = new Map<string, Promise<void>>();
  private readonly running = new Map<string, AbortController>();
  private readonly finished = new Set<Promise<void>>();
  private readonly slots: Semaphore;
  private readonly computeSlots: Semaphore;
  private stopping = false;
  private readonly outage: OutageReporter<[NodeJob]>;

  constructor(
    private readonly handler: ExecutionCommandHandler,
    private readonly options: NodeRunnerOptions,
  ) {
    this.slots = new Semaphore(options.concurrency);
    this.computeSlots = new Semaphore(options.computeConcurrency);
    this.outage = new OutageReporter((error, job) => options.onError?.(error, { executionId: job.executionId, nodeId: job.nodeId }));
  }

  /** Resolves when the job has settled (at once when the runner stops, with the job in hand when it is). */
  dispatch(job: NodeJob): Promise<void> {
    const key = jobKey(job);
    if (this.stopping) return Promise.resolve();
    const held = this.inHand.get(key);
    if (held) return held;
    const run = () => this.run(job, key);
    const done = (this.options.faults ? this.options.faults.contain(job.executionId, 'node runner', run) : run())
      .catch((error) => this.outage.failed(error, job))
      .finally(() => {
        this.inHand.delete(key);
        this.finished.delete(done);
      });
    this.inHand.set(key, done);
    this.finished.add(done);
    return done;
  }

  get runningCount(): number {
    return this.running.size;
  }

  /** Aborts the running attempts of an execution (all its nodes, or one node, or one attempt of it). */
  abort(executionId: string, nodeId?: string, attempt?: number): void {
    for (const [key, controller] of this.running) {
      const [execution, node, running] = key.split('\u0000');
      const matches = execution === executionId && (nodeId === undefined || node === nodeId) && (attempt === undefined || running === String(attempt));
      if (matches) controller.abort(new Error('cancelled'));
    }
  }

  /** Stops taking work and hands running attempts back (they are queued again as a new attempt). */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const controller of this.running.values()) controller.abort(new Stopping('runtime stopping'));
    while (this.finished.size > 0) await Promise.allSettled([...this.finished]);
  }

  private async run(job: NodeJob, key: string): Promise<void> {
    const state = await this.untilStored(job, () => this.queuedState(job));
    const definition = state?.graph.nodes.get(job.nodeId);
    if (!state || !definition) return;
    const type = this.options.nodeTypes.get(definition.type);
    // Saved while a process had the type (a user type since unregistered): waiting would be for ever.
    if (!type) return void (await this.settle(job, [this.startCommand(job, null), failure(job, unknownType(definition.type)), QUEUE_READY]));
    if (type.runs === 'timer' || type.runs === 'wait') return this.startTimer(job, state, type);
    if (type.runs === 'child') return this.startChildren(job, state, type);
    const execute = type.definition.execute;
    if (!execute) return;
    const controller = new AbortController();
    this.running.set(key, controller);
    try {
      const pure = !type.sideEffects;
      const release = await (pure ? this.computeSlots : this.slots).acquire();
      try {
        if (controller.signal.aborted) return;
        const attempt: Attempt = { type, execute, state, signal: controller.signal, leased: !pure };
        if (pure) await this.compute(job, attempt, controller);
        else if (await this.startLeased(job)) await this.execute(job, attempt);
      } finally {
        release();
      }
    } catch (error) {
      if (!(error instanceof Stopping) && !controller.signal.aborted) throw error;
    } finally {
      this.running.delete(key);
    }
  }

  /** The cached state answers when it has seen the queueing event; otherwise the store does. */
  private async queuedState(job: NodeJob): Promise<ExecutionState | null> {
    const cached = await this.handler.current(job.executionId);
    if (isQueued(cached, job)) return cached;
    // The cache has seen the queueing event and moved on: that attempt is over.
    if (cached && job.queuedAt !== undefined && cached.version >= job.queuedAt) return null;
    const latest = await this.handler.load(job.executionId);
    return isQueued(latest, job) ? latest : null;
  }

  private startCommand(job: NodeJob, leaseMs: number | null, waitMs?: number, wait?: WaitSpec): ExecutionCommand {
    const timed = waitMs === undefined ? {} : { waitMs };
    const waiting = wait === undefined ? {} : { wait };
    return { type: 'StartNode', data: { nodeId: job.nodeId, attempt: job.attempt, workerId: this.options.workerId, leaseMs, ...timed, ...waiting } };
  }

  private scope(job: NodeJob, state: ExecutionState, signal: AbortSignal): Promise<AttemptScope> {
    return attemptScope(state, job.nodeId, job.attempt, this.options.expressions, this.options.bindings, signal, this.options.payloads);
  }

  /**
   * A timer-run node (a delay) or a wait-run one (a wait): its timer, or an event or signal,
   * completes it, and needs no runtime alive meanwhile (no lease). How long or what for it waits
   * comes from its parameters, resolved now; resolving them may fail it.
   */
  private async startTimer(job: NodeJob, state: ExecutionState, type: RegisteredNodeType): Promise<void> {
    const definition = state.graph.nodes.get(job.nodeId)!;
    let parameters: Record<string, unknown>;
    try {
      parameters = await resolveParameters(type, definition.parameters, await this.scope(job, state, new AbortController().signal));
    } catch (error) {
      return void (await this.settle(job, [this.startCommand(job, null), failure(job, error), QUEUE_READY]));
    }
    const { waitMs, waitFor } = type.definition;
    await this.settle(job, [this.startCommand(job, null, waitMs?.(parameters), waitFor?.(parameters))]);
  }

  /**
   * A child-run node (a sub-workflow, a map): its children are recorded before it starts, so that
   * a crash in between leaves it QUEUED (and opened again, the same children) rather than RUNNING
   * with none; it needs no runtime alive while they run (no lease), the subflows feed settles it.
   */
  private async startChildren(job: NodeJob, state: ExecutionState, type: RegisteredNodeType): Promise<void> {
    const { children } = this.options;
    let launch: () => Promise<void>;
    try {
      if (!children || !type.definition.children) throw new PermanentNodeError(`node type ${type.type} needs child runs, which this runtime lacks`, 'UNKNOWN_NODE_TYPE');
      const parameters = await resolveParameters(type, state.graph.nodes.get(job.nodeId)!.parameters, await this.scope(job, state, new AbortController().signal));
      const input = state.nodes.get(job.nodeId)?.input ?? {};
      const plan = type.definition.children(parameters, { input, continueOnNodeFailure: state.recovery.continueOnNodeFailure === true });
      launch = await this.untilStored(job, () => children.open(job, state, plan));
    } catch (error) {
      if (!(error instanceof CodedNodeError) && isDatabaseFault(error)) throw error;
      return void (await this.settle(job, [this.startCommand(job, null), failure(job, error), QUEUE_READY]));
    }
    if (await this.settle(job, [this.startCommand(job, null)])) await launch();
    else await children.abandon(job);
  }

  /**
   * Refused, the start may still be ours: when the connection was lost under its commit, the
   * retry finds the attempt already started, by this runtime, and runs it (instead of leaving it
   * RUNNING until its lease runs out and it is tried again as a new attempt).
   */
  private async startLeased(job: NodeJob): Promise<boolean> {
    if (await this.settle(job, [this.startCommand(job, this.options.leaseMs)])) return true;
    const state = await this.untilStored(job, () => this.handler.load(job.executionId));
    const node = state?.nodes.get(job.nodeId);
    return node?.status === 'RUNNING' && node.attempt === job.attempt && node.workerId === this.options.workerId;
  }

  /**
   * A side-effect-free node runs before it is recorded as started: running it twice harms nothing,
   * so its start, its outcome and the readiness of its dependents share one commit. No durable
   * timer covers it meanwhile, so its own timeoutMs and the execution's deadline stop it here.
   */
  private async compute(job: NodeJob, attempt: Attempt, controller: AbortController): Promise<void> {
    const bound = attemptBound(attempt.state, job.nodeId, Date.now());
    const timer = bound ? setTimeout(() => controller.abort(bound.reason), bound.ms) : undefined;
    try {
      const outcome = await this.outcome(job, attempt);
      const reason: unknown = controller.signal.reason;
      if (reason instanceof ExecutionDeadline) await this.settle(job, [{ type: 'TimeoutExecution' }]);
      else if (!controller.signal.aborted || reason === bound?.reason)
        await this.settle(job, [this.startCommand(job, null), outcome, QUEUE_READY], true, this.runAhead(job, controller.signal));
    } finally {
      clearTimeout(timer);
    }
  }

  /** The dependents this job's commit makes ready that may run ahead into it (see runAhead). */
  private runAhead(job: NodeJob, signal: AbortSignal): RunAhead {
    const computed = (typeName: string) => {
      const type = this.options.nodeTypes.get(typeName);
      return type && !type.sideEffects && type.runs === 'in-process' && type.definition.execute ? { type, execute: type.definition.execute } : null;
    };
    return runAhead({
      computesInProcess: (typeName) => computed(typeName) !== null,
      outcome: (nodeId, attempt, state, budget) =>
        this.outcome({ ...job, nodeId, attempt }, { ...computed(state.graph.nodes.get(nodeId)!.type)!, state, signal: budget, leased: false }),
      start: (nodeId, attempt) => this.startCommand({ ...job, nodeId, attempt }, null),
      signal,
    });
  }

  private async execute(job: NodeJob, attempt: Attempt): Promise<void> {
    const heartbeat = setInterval(() => this.renewLease(job), this.options.leaseMs / HEARTBEATS_PER_LEASE);
    try {
      const outcome = await this.outcome(job, attempt);
      await this.settle(job, outcome.type === 'ReleaseNode' ? [outcome] : [outcome, QUEUE_READY]);
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** What the attempt ended as: completed, failed, or handed back because this runtime stops. */
  private async outcome(job: NodeJob, { type, execute, state, signal, leased }: Attempt): Promise<ExecutionCommand> {
    const { nodeId, attempt } = job;
    // Whatever the attempt records or logs, and its error too, has the secrets it read masked out.
    let secretsRead = (): string[] => [];
    const mask = <T>(value: T): T => maskSecrets(value, secretsRead());
    try {
      const scope = await this.scope(job, state, signal);
      secretsRead = () => scope.secretsRead();
      const parameters = await resolveParameters(type, state.graph.nodes.get(nodeId)!.parameters, scope);
      const reportProgress = (progress: number | null, message: string | null = null) => (leased ? this.report(job, progress, mask(message)) : Promise.resolve());
      const log = maskedLog(this.options.log(job, type.type), mask);
      const result = await execute({ ...scope, parameters, attempt, signal, nodeId, reportProgress, log });
      if (signal.aborted) throw signal.reason;
      // An output the log cannot hold would fail the append and leave the attempt unsettled for ever.
      const invalid = jsonProblem(result.output ?? null, MAX_NODE_OUTPUT_DEPTH);
      if (invalid !== null) throw new PermanentNodeError(`output ${invalid}`, 'INVALID_OUTPUT');
      const output = mask(result.output ?? null);
      return { type: 'CompleteNode', data: { nodeId, attempt, output, outputName: result.outputName ?? null } };
    } catch (caught) {
      const error: unknown = signal.aborted ? signal.reason : caught;
      if (error instanceof Stopping) return { type: 'ReleaseNode', data: { nodeId, attempt, reason: error.message } };
      return failure(job, error, secretsRead());
    }
  }

  /** A live runtime keeps its attempts: only a dead one lets their leases run out. */
  private renewLease(job: NodeJob): void {
    this.report(job, null, null).catch((error: unknown) => this.outage.failed(error, job));
  }

  /** Progress of a leased attempt, which renews its lease too; a refusal (the attempt is over) is no error. */
  private async report(job: NodeJob, progress: number | null, message: string | null): Promise<void> {
    const data = { nodeId: job.nodeId, attempt: job.attempt, progress, message, leaseMs: this.options.leaseMs };
    await this.settle(job, [{ type: 'ReportNodeProgress', data }], false);
  }

  /**
   * A job's reads and commands are tried again while the database is away: no event would
   * bring a job that failed here back (its NodeQueued was handled already), and trying again is
   * safe, since the command handler decides again from the stored state when an append's outcome
   * is unknown (a committed attempt is then refused as over, and its events are not appended twice).
   */
  private untilStored<T>(job: NodeJob, work: () => Promise<T>): Promise<T> {
    return retryDatabaseFaults(work, {
      outage: { failed: (error) => this.outage.failed(error, job), succeeded: () => this.outage.succeeded() },
      stopped: () => this.stopping,
    });
  }

  /**
   * A refusal means the world moved on (cancelled, paused, taken by another runtime): not an
   * error. Nodes the commit queued are taken up at once, without waiting for the log to say so.
   * A lease renewal is not tried again: the next heartbeat is its retry.
   */
  private async settle(job: NodeJob, commands: ExecutionCommand[], retry = true, ahead?: RunAhead): Promise<boolean> {
    try {
      const handle = () => this.handler.handleAll(job.executionId, commands, { causationId: `runner:${this.options.workerId}` }, ahead);
      const { events } = await (retry ? this.untilStored(job, handle) : handle());
      for (const event of events) {
        if (event.type !== 'NodeQueued') continue;
        const { nodeId, attempt } = event.data as { nodeId: string; attempt: number };
        void this.dispatch({ executionId: job.executionId, nodeId, attempt, queuedAt: event.streamVersion });
      }
      return true;
    } catch (error) {
      if (error instanceof DomainError) return false;
      throw error;
    }
  }
}

/** One attempt in hand: its type, what runs it, the state it started from and what aborts it. */
interface Attempt {
  type: RegisteredNodeType;
  execute: NodeExecute;
  state: ExecutionState;
  /** Aborts the attempt: cancelled, the runtime stopping, its bound, or a run-ahead's budget. */
  signal: AbortSignal;
  /** Started under a lease before it runs (a type with side effects): its progress is recorded. */
  leased: boolean;
}

const unknownType = (type: string) => new PermanentNodeError(`node type ${type} is not registered in this process`, 'UNKNOWN_NODE_TYPE');

/** A failed attempt as its command: coded errors say whether to retry, any other error is retried by policy. */
function failure(job: NodeJob, error: unknown, secrets: readonly string[] = []): ExecutionCommand {
  // Error texts may quote what a server sent (a NUL in a body): kept, made storable; and may quote a secret (a URL): masked.
  const message = maskSecrets(storableString(error instanceof Error ? error.message : String(error)), secrets);
  const { retryable, code } = error instanceof CodedNodeError ? error : { retryable: true, code: null };
  return { type: 'FailNode', data: { nodeId: job.nodeId, attempt: job.attempt, error: message, retryable, errorCode: code } };
}
