import { randomUUID } from 'node:crypto';
import { ExecutionCommandHandler, type CommandContext } from '../commands/executionCommandHandler.js';
import { WorkflowCommandHandler, type WebhookPathLookup } from '../commands/workflowCommandHandler.js';
import type { SqlClient } from '../db/sqlClient.js';
import { DomainError } from '../domain/errors.js';
import type { ExecutionState } from '../domain/execution/state.js';
import type { EventStore } from '../eventstore/eventStore.js';
import { NodeRunner } from './nodeRunner.js';
import { BUILTIN_EXECUTORS } from './nodes/builtinNodes.js';
import { ProcessManager } from './processManager.js';
import { RuntimeStore } from './runtimeStore.js';

export interface EngineOptions {
  store: EventStore;
  /** Where the runtime keeps its checkpoint (the read-model database). */
  db: SqlClient;
  clock?: () => Date;
  workerId?: string;
  nodeConcurrency?: number;
  leaseMs?: number;
  webhookPaths?: WebhookPathLookup;
  onError?: (error: unknown) => void;
}

/** The write side and the runtime, wired: commands in, nodes running by themselves. */
export class Engine {
  readonly executions: ExecutionCommandHandler;
  readonly workflows: WorkflowCommandHandler;
  readonly runner: NodeRunner;
  readonly processManager: ProcessManager;
  readonly workerId: string;

  constructor(private readonly options: EngineOptions) {
    const clock = options.clock ?? (() => new Date());
    const onError = options.onError ?? ((error) => console.error(error));
    this.workerId = options.workerId ?? `runtime-${randomUUID()}`;
    this.executions = new ExecutionCommandHandler(options.store, clock);
    this.workflows = new WorkflowCommandHandler(options.store, clock, options.webhookPaths);
    this.runner = new NodeRunner(this.executions, {
      workerId: this.workerId,
      concurrency: options.nodeConcurrency ?? 32,
      leaseMs: options.leaseMs ?? 60_000,
      executors: BUILTIN_EXECUTORS,
      onError,
    });
    this.processManager = new ProcessManager(options.store, new RuntimeStore(options.db, 'process-manager'), this.executions, this.runner, onError);
  }

  async start(): Promise<void> {
    await RuntimeStore.migrate(this.options.db);
    await this.processManager.start();
  }

  /** Stops taking work, hands running nodes back, and stops following the log. */
  async stop(): Promise<void> {
    await this.runner.stop();
    await this.processManager.stop();
  }

  async startTrigger(workflowId: string, triggerNodeId: string, triggerData: unknown, context: CommandContext = {}): Promise<ExecutionState> {
    const workflow = await this.workflows.get(workflowId);
    if (!workflow) throw new DomainError('NOT_FOUND', `workflow ${workflowId} not found`);
    const executionId = randomUUID();
    const { state } = await this.executions.handle(
      executionId,
      { type: 'StartExecution', data: { executionId, workflow, triggerNodeId, triggerData, waitsForSlot: false, userId: context.userId ?? null } },
      context,
    );
    return state;
  }
}
