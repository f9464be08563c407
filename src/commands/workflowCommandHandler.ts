import { randomUUID } from 'node:crypto';
import { DomainError } from '../domain/errors.js';
import { tenantOf } from '../domain/tenants.js';
import type { NodeTypeLookup } from '../domain/workflow/nodeCapabilities.js';
import type { ValidateWorkflowOptions } from '../domain/workflow/validateWorkflow.js';
import type { Workflow, WorkflowDefinition } from '../domain/workflow/workflow.js';
import { decideWorkflowChange, evolveWorkflow } from '../domain/workflow/workflowDecider.js';
import { workflowStreamId, type WorkflowEvent } from '../domain/workflow/workflowEvents.js';
import { NO_STREAM, type EventStore } from '../eventstore/eventStore.js';
import type { CommandContext } from './executionCommandHandler.js';

/** Asks the read side which webhook paths other workflows of the tenant own, for validation. */
export type WebhookPathLookup = (excludingWorkflowId: string, tenantId: string) => Promise<ValidateWorkflowOptions['webhookPathsInUse']>;

/**
 * Creates and updates workflows as events, and reads any version back. The latest version of
 * each workflow is cached; older versions are folded from the stream on demand.
 */
export class WorkflowCommandHandler {
  private readonly latest = new Map<string, Workflow>();

  constructor(
    private readonly store: EventStore,
    private readonly nodeTypes: NodeTypeLookup,
    private readonly clock: () => Date = () => new Date(),
    private readonly webhookPaths: WebhookPathLookup = async () => new Map(),
  ) {}

  async create(definition: WorkflowDefinition, context: CommandContext = {}, id: string = randomUUID()): Promise<Workflow> {
    return this.change(id, definition, null, context);
  }

  /** A workflow of another tenant than the caller's is answered as an unknown one. */
  async update(id: string, definition: WorkflowDefinition, context: CommandContext = {}): Promise<Workflow> {
    const current = await this.get(id);
    if (!current || tenantOf(current) !== tenantOf(context)) throw new DomainError('NOT_FOUND', `workflow ${id} not found`);
    return this.change(id, definition, current, context);
  }

  async get(id: string, version?: number): Promise<Workflow | null> {
    const cached = this.latest.get(id);
    if (cached && (version === undefined || version === cached.version)) return cached;
    const events = await this.store.read(workflowStreamId(id), version === undefined ? {} : { toVersion: version });
    const workflow = events.reduce<Workflow | null>((state, event) => evolveWorkflow(state, event as unknown as WorkflowEvent), null);
    if (workflow && version === undefined) this.latest.set(id, workflow);
    return workflow;
  }

  private async change(id: string, definition: WorkflowDefinition, current: Workflow | null, context: CommandContext): Promise<Workflow> {
    const tenantId = current ? tenantOf(current) : tenantOf(context);
    const options = { nodeTypes: this.nodeTypes, webhookPathsInUse: await this.webhookPaths(id, tenantId) };
    const events = decideWorkflowChange(id, definition, current, this.clock(), options, tenantId);
    try {
      await this.store.append(
        workflowStreamId(id),
        events.map((event) => ({
          id: randomUUID(),
          type: event.type,
          data: event.data,
          metadata: { correlationId: id, causationId: context.causationId ?? null, userId: context.userId ?? null },
        })),
        current ? current.version : NO_STREAM,
      );
    } catch (error) {
      // The cached version is no longer known to be the latest: a conflict says another process
      // wrote, and an append cut off by a lost connection may have committed. Read it afresh next time.
      this.latest.delete(id);
      throw error;
    }
    const workflow = events.reduce<Workflow | null>(evolveWorkflow, current)!;
    this.latest.set(id, workflow);
    return workflow;
  }
}
