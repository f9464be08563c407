import { randomUUID } from 'node:crypto';
import { ExecutionCommandHandler, type CommandContext } from '../commands/executionCommandHandler.js';
import { WorkflowCommandHandler } from '../commands/workflowCommandHandler.js';
import type { SqlClient } from '../db/sqlClient.js';
import { DomainError } from '../domain/errors.js';
import type { ExecutionState } from '../domain/execution/state.js';
import type { Workflow } from '../domain/workflow/workflow.js';
import type { EventStore } from '../eventstore/eventStore.js';
import { NodeRunner } from './runner/nodeRunner.js';
import { Admission, type ActiveTrigger } from './admission/admission.js';
import { DEFAULT_EXPRESSION_BOUNDS } from './expressions/expressionBounds.js';
import { BoundedEvaluator } from './expressions/boundedEvaluator.js';
import type { ExpressionEvaluator } from './expressions/expressionPool.js';
import { HTTP_NODE_DEFAULTS, type HttpNodeOptions } from '../nodes/http.js';
import type { NodeLog, NodeType } from '../nodes/nodeType.js';
import { builtinNodeTypes, NodeTypeRegistry } from '../nodes/registry.js';
import { tenantOf } from '../domain/tenants.js';
import type { SecretStore } from '../secrets/secretStore.js';
import { NO_SECRETS, type ExpressionBindings } from './runner/attemptScope.js';
import { ProcessManager } from './processManager/processManager.js';
import { RuntimeStore } from './processManager/runtimeStore.js';
import { DurableSchedule } from './processManager/durableSchedule.js';
import { ExecutionFaults } from './executionFaults.js';
import { timerActions } from './timers/timerActions.js';
import { TimerScheduler } from './timers/timers.js';
import { TimerStore } from './timers/timerStore.js';
import { WorkQueue } from './workQueue/workQueue.js';
import { WorkQueueStore } from './workQueue/workQueueStore.js';
import { TriggerSources } from './triggers/triggerSources.js';
import { Subflows } from './subflows/subflows.js';
import { DEFAULT_IDEMPOTENCY_WINDOW_MS, IdempotentStarts } from './idempotency/idempotentStarts.js';
import type { ErrorReporter } from '../errors/errorReporter.js';
import { Payloads } from '../payloads/payloads.js';
import { PayloadStore } from '../payloads/payloadStore.js';
import { Waits } from './waits/waits.js';
import { WaitStore } from './waits/waitStore.js';

const DEFAULT_LEASE_MS = 60_000;
/**
 * Side-effect-free nodes in hand at once (see NodeRunnerOptions.computeConcurrency). Each holds
 * its unit, promises and events until its commit: on a 10,000-node fan-out 2,048 of them took the
 * process to 345-363 MB at its peak, 256 to 294 MB, as fast (appends also group across streams).
 */
const COMPUTE_CONCURRENCY = 256;

export interface EngineOptions {
  store: EventStore;
  /** Where the runtime keeps its checkpoint (the read-model database). */
  db: SqlClient;
  clock?: () => Date;
  workerId?: string;
  nodeConcurrency?: number;
  /** Lease of a started node attempt (built-in nodes renew theirs; the default for external workers' claims). */
  leaseMs?: number;
  /** Bounds of `http` nodes (request timeout, response size, address rules); default HTTP_NODE_DEFAULTS. */
  http?: Partial<HttpNodeOptions>;
  /** Longest chain of executions started by execution.* events (a self-triggering workflow stops there); default 100. */
  maxEventChainDepth?: number;
  /** How long an idempotency key answers with the execution it started; default 24 hours. */
  idempotencyWindowMs?: number;
  /** Time bound of one expression evaluation (EXPRESSION_TIMEOUT_MS); default 1000. */
  expressionTimeoutMs?: number;
  /** Node types besides the built-ins (defineNodeType). */
  nodeTypes?: readonly NodeType[];
  /** What `$secrets` holds in parameter expressions; none: `$secrets` is {}. */
  secrets?: SecretStore;
  /** Where the nodes' `log` goes (pino-shaped); default: nowhere. */
  logger?: LogSink;
  onError?: ErrorReporter;
  /** PAYLOAD_INLINE_BYTES: larger trigger data and outputs are stored once and referred to from events; default 256 KiB. */
  payloadInlineBytes?: number;
}

/** The part of a pino logger the nodes' logs need. */
export interface LogSink {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

const SILENT: LogSink = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** A node's log: each line carries its execution, node, type and attempt. */
const nodeLog =
  (sink: LogSink) =>
  ({ executionId, nodeId, attempt }: { executionId: string; nodeId: string; attempt: number }, type: string): NodeLog => {
    const line =
      (level: keyof LogSink) =>
      (message: string, details: Record<string, unknown> = {}) =>
        sink[level]({ ...details, executionId, nodeId, nodeType: type, attempt }, message);
    return { info: line('info'), warn: line('warn'), error: line('error') };
  };

const httpOptions = (given: Partial<HttpNodeOptions> = {}): HttpNodeOptions => ({
  timeoutMs: given.timeoutMs ?? HTTP_NODE_DEFAULTS.timeoutMs,
  maxResponseBytes: given.maxResponseBytes ?? HTTP_NODE_DEFAULTS.maxResponseBytes,
  blockPrivate: given.blockPrivate ?? HTTP_NODE_DEFAULTS.blockPrivate,
});

export interface RerunOptions {
  useOriginalVersion?: boolean;
  context?: CommandContext;
}

/** The write side and the runtime, wired: commands in, nodes running by themselves. */
export class Engine {
  readonly executions: ExecutionCommandHandler;
  readonly workflows: WorkflowCommandHandler;
  readonly runner: NodeRunner;
  readonly processManager: ProcessManager;
  readonly timers: TimerScheduler;
  /** Hands queued `external` nodes to workers: `claim(queue, workerId, { max, leaseMs })`. */
  readonly workQueue: WorkQueue;
  readonly admission: Admission;
  /** Every start goes through here: with an idempotency key, a second start answers the first. */
  readonly idempotentStarts: IdempotentStarts;
  readonly triggers: TriggerSources;
  /** Waiting nodes: completed by emitEvent (a match) or signalNode. */
  readonly waits: Waits;
  /** Child executions of `workflow` and `map` nodes. */
  readonly subflows: Subflows;
  readonly workerId: string;
  /** True while `recover` resumes unfinished executions. */
  recovering = false;
  /** Evaluates every JSONata expression, off this event loop and under its bounds. */
  readonly expressions: ExpressionEvaluator;
  /** Every node type this engine runs: the built-ins and the user's. */
  readonly nodeTypes: NodeTypeRegistry;
  /** Large payloads: stored before the events that refer to them, loaded back for attempts and queries. */
  readonly payloads: Payloads;

  constructor(private readonly options: EngineOptions) {
    const clock = options.clock ?? (() => new Date());
    const onError = options.onError ?? ((error) => console.error(error));
    this.workerId = options.workerId ?? `runtime-${randomUUID()}`;
    this.nodeTypes = new NodeTypeRegistry(builtinNodeTypes(httpOptions(options.http)), options.nodeTypes);
    const capabilities = this.nodeTypes.capabilities;
    this.payloads = new Payloads(new PayloadStore(options.db), options.payloadInlineBytes);
    this.executions = new ExecutionCommandHandler(options.store, capabilities, clock, undefined, this.payloads);
    this.workflows = new WorkflowCommandHandler(options.store, capabilities, clock, (id, tenantId) => this.triggers.webhooks.pathsInUse(id, tenantId));
    this.admission = new Admission({ store: options.store, db: options.db, handler: this.executions, clock, onError, nodeTypes: capabilities });
    this.idempotentStarts = new IdempotentStarts({
      db: options.db,
      start: (request) => this.admission.startExecution(request),
      clock,
      windowMs: options.idempotencyWindowMs ?? DEFAULT_IDEMPOTENCY_WINDOW_MS,
      onError,
    });
    this.triggers = new TriggerSources({
      store: options.store,
      db: options.db,
      workflows: this.workflows,
      start: (request) => this.idempotentStarts.startExecution(request),
      clock,
      maxEventChainDepth: options.maxEventChainDepth ?? 100,
      // Bound late: the waits are made below, and are only called once the engine runs.
      waits: { listenedNames: (names) => this.waits.listenedNames(names), emit: (name, data, context) => this.waits.emit(name, data, context) },
      onError,
    });
    const faults = new ExecutionFaults(this.executions, onError);
    this.subflows = new Subflows({
      store: options.store,
      db: options.db,
      handler: this.executions,
      workflows: this.workflows,
      start: (request) => this.admission.startExecution(request),
      nodeTypes: capabilities,
      onError,
    });
    this.expressions = new BoundedEvaluator({ ...DEFAULT_EXPRESSION_BOUNDS, timeoutMs: options.expressionTimeoutMs ?? DEFAULT_EXPRESSION_BOUNDS.timeoutMs });
    this.runner = new NodeRunner(this.executions, {
      workerId: this.workerId,
      concurrency: options.nodeConcurrency ?? 32,
      leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS,
      nodeTypes: this.nodeTypes,
      expressions: this.expressions,
      bindings: options.secrets ? secretBindings(options.secrets) : NO_SECRETS,
      log: nodeLog(options.logger ?? SILENT),
      computeConcurrency: COMPUTE_CONCURRENCY,
      onError,
      faults,
      children: this.subflows,
      payloads: { resolve: async (tenantId, value) => this.payloads.resolve(tenantId, value) },
    });
    const fire = timerActions(this.executions, this.runner, faults);
    this.timers = new TimerScheduler(new TimerStore(options.db), { clock, fire, onError });
    this.workQueue = new WorkQueue(new WorkQueueStore(options.db), this.executions, clock, options.leaseMs ?? DEFAULT_LEASE_MS, capabilities);
    const schedule = new DurableSchedule(this.executions, this.timers, capabilities);
    this.processManager = new ProcessManager(options.store, new RuntimeStore(options.db, 'process-manager'), this.executions, this.runner, schedule, faults, onError);
    const caughtUp = () => this.processManager.caughtUp();
    this.waits = new Waits({ store: new WaitStore(options.db), handler: this.executions, expressions: this.expressions, nodeTypes: capabilities, caughtUp, onError });
  }

  /** Starts the runtime and resumes every unfinished execution. */
  async start(): Promise<void> {
    await this.open();
    await this.recover();
  }

  /** Starts following the log, the timers and the triggers; unfinished executions wait for `recover`. */
  async open(): Promise<void> {
    await this.admission.start();
    this.idempotentStarts.start();
    await this.triggers.start();
    await this.processManager.start();
    await this.subflows.start();
    this.timers.start();
  }

  /**
   * Resumes every unfinished execution (one whose recovery fails is failed, and the others go
   * on). A server calls it after it listens, so that a poisonous execution cannot keep it from
   * answering; `recovering` is true meanwhile.
   */
  async recover(): Promise<void> {
    this.recovering = true;
    try {
      await this.processManager.recover();
      await this.subflows.recover();
    } finally {
      this.recovering = false;
    }
  }

  /** Stops taking work, hands running nodes back, and stops following the log; timers wait in the database. */
  async stop(): Promise<void> {
    await this.triggers.stop();
    await this.timers.stop();
    await this.runner.stop();
    await this.expressions.close();
    await this.subflows.stop();
    await this.processManager.stop();
    await this.admission.stop();
    this.idempotentStarts.stop();
  }

  /** With an idempotency key, the same key for the same workflow within the window answers the execution it started. */
  async startTrigger(workflowId: string, triggerNodeId: string, triggerData: unknown, context: CommandContext = {}, idempotencyKey?: string | null): Promise<ExecutionState> {
    const workflow = await this.workflowOf(workflowId, context);
    return this.idempotentStarts.startExecution({ executionId: randomUUID(), workflow, triggerNodeId, triggerData, context, idempotencyKey });
  }

  /**
   * A new execution that runs `nodeId` of a finished one and everything downstream again, with
   * `data` (when given) as the node's input, and reuses the recorded results of the other nodes.
   * It runs the workflow's current version, or the original's with `useOriginalVersion`.
   */
  async rerunFromNode(executionId: string, nodeId: string, data: unknown, options: RerunOptions = {}): Promise<ExecutionState> {
    const original = await this.executions.load(executionId);
    if (!original || original.tenantId !== tenantOf(options.context)) throw new DomainError('NOT_FOUND', `execution ${executionId} not found`);
    const workflow = await this.workflows.get(original.workflowId, options.useOriginalVersion ? original.workflowVersion : undefined);
    if (!workflow) throw new DomainError('NOT_FOUND', `workflow ${original.workflowId} not found`);
    const { triggerNodeId, triggerData } = original;
    const rerun = { original, nodeId, data };
    return this.admission.startExecution({ executionId: randomUUID(), workflow, triggerNodeId, triggerData, rerun, context: options.context });
  }

  /**
   * Completes every wait of `name` whose match holds, then starts every workflow with a
   * `trigger.event` listening to it, with `data` as trigger data; answers the executions it
   * started. Waits go first, so that an execution the event starts never hears it itself.
   */
  async emitEvent(name: string, data: unknown, context: CommandContext = {}): Promise<ExecutionState[]> {
    await this.waits.emit(name, data, context);
    return this.triggers.events.emit(name, data, { context });
  }

  /** Completes a waiting node with `data`, on `outputName` (an approval's branch). */
  signalNode(executionId: string, nodeId: string, data: unknown, outputName: string | null, context: CommandContext = {}): Promise<ExecutionState> {
    return this.waits.signal(executionId, nodeId, data, outputName, context);
  }

  /** A POST to a webhook path of the tenant `context.tenantId` (default `default`): refused with NOT_FOUND, UNAUTHENTICATED (bad signature) or BAD_USER_INPUT (not JSON, bad idempotency key). */
  startWebhook(path: string, rawBody: Buffer, signature: string | undefined, context: CommandContext = {}, idempotencyKey?: string): Promise<ExecutionState> {
    return this.triggers.webhook.call(path, rawBody, signature, context, idempotencyKey);
  }

  /** Running and queued executions of a workflow, per trigger node. */
  async activeTriggers(workflowId: string, context: CommandContext = {}): Promise<ActiveTrigger[]> {
    return this.admission.activeTriggers(await this.workflowOf(workflowId, context));
  }

  /** The latest version of a workflow of the caller's tenant (`context.tenantId`); another tenant's is answered as an unknown one. */
  async workflowOf(workflowId: string, context: CommandContext = {}): Promise<Workflow> {
    const workflow = await this.workflows.get(workflowId);
    if (!workflow || tenantOf(workflow) !== tenantOf(context)) throw new DomainError('NOT_FOUND', `workflow ${workflowId} not found`);
    return workflow;
  }

  /** An execution of the caller's tenant (`context.tenantId`), from the cache when it has it (the tenant never changes); another tenant's is answered as an unknown one. */
  async executionOf(executionId: string, context: CommandContext = {}): Promise<ExecutionState> {
    const state = await this.executions.current(executionId);
    if (!state || state.tenantId !== tenantOf(context)) throw new DomainError('NOT_FOUND', `execution ${executionId} not found`);
    return state;
  }
}

/** Read when an attempt's expression first mentions `$secrets`, so that a changed secret counts from the next attempt: the execution's tenant's. */
function secretBindings(store: SecretStore): ExpressionBindings {
  return async (_execution, tenantId) => ({ secrets: await store.values(tenantId) });
}
