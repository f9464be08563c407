import { randomUUID } from 'node:crypto';
import type { CommandContext } from '../../commands/executionCommandHandler.js';
import type { WorkflowCommandHandler } from '../../commands/workflowCommandHandler.js';
import type { SqlExecutor } from '../../db/sqlClient.js';
import { DomainError } from '../../domain/errors.js';
import { tenantOf } from '../../domain/tenants.js';
import type { ExecutionState } from '../../domain/execution/state.js';
import type { StartExecution } from '../admission/admission.js';
import { derivedId } from './derivedId.js';
import type { TriggerCatalog } from './triggerCatalog.js';

export interface EmitOptions {
  /**
   * The occurrence that emits (e.g. the event that ended an execution): execution ids derive
   * from it, so emitting it again starts nothing twice. Absent: every emit starts anew.
   */
  sourceId?: string;
  /** Its tenant (`context.tenantId`, default `default`) is the only one whose triggers it reaches. */
  context?: CommandContext;
}

interface Listener {
  workflow_id: string;
  node_id: string;
  workflow_version: number;
}

/** `trigger.event` nodes: an emitted event starts every workflow with a trigger listening to its name. */
export class EventTriggers {
  constructor(
    private readonly db: SqlExecutor,
    private readonly catalog: TriggerCatalog,
    private readonly workflows: Pick<WorkflowCommandHandler, 'get'>,
    private readonly start: StartExecution,
  ) {}

  /** Starts one execution per listening trigger of the tenant (none: an empty list), in workflow and node order. */
  async emit(name: string, data: unknown, options: EmitOptions = {}): Promise<ExecutionState[]> {
    if (name.trim() === '') throw new DomainError('BAD_USER_INPUT', 'event name must not be empty');
    await this.catalog.caughtUp();
    const listeners = await this.listeners(tenantOf(options.context), name, sourceWorkflowOf(data));
    return Promise.all(listeners.map((listener) => this.startListener(listener, data, options)));
  }

  /**
   * Which of `names` any trigger listens to at all: emitting the others can be skipped. The
   * catalog catches up first, as for emit: a listener created before the event was committed
   * must count (an execution.completed right after its listener's createWorkflow was skipped).
   * One wait and one query, however many names.
   */
  async listenedNames(names: readonly string[]): Promise<Set<string>> {
    await this.catalog.caughtUp();
    const { rows } = await this.db.query<{ event_name: string }>('SELECT DISTINCT event_name FROM event_triggers WHERE event_name = ANY($1::text[])', [names]);
    return new Set(rows.map((row) => row.event_name));
  }

  /** The tenant's triggers of that event, less those narrowed to another workflow's events. */
  private async listeners(tenantId: string, name: string, sourceWorkflowId: string | null): Promise<Listener[]> {
    const { rows } = await this.db.query<Listener>(
      `SELECT workflow_id, node_id, workflow_version FROM event_triggers
       WHERE tenant_id = $3 AND event_name = $1 AND (source_workflow_id IS NULL OR source_workflow_id = $2) ORDER BY workflow_id, node_id`,
      [name, sourceWorkflowId, tenantId],
    );
    return rows;
  }

  private async startListener(listener: Listener, data: unknown, { sourceId, context }: EmitOptions): Promise<ExecutionState> {
    const { workflow_id: workflowId, node_id: triggerNodeId } = listener;
    const workflow = await this.workflows.get(workflowId, listener.workflow_version);
    if (!workflow) throw new Error(`workflow ${workflowId} version ${listener.workflow_version} is in the trigger catalog but not in the store`);
    const executionId = sourceId === undefined ? randomUUID() : derivedId('event', sourceId, workflowId, triggerNodeId);
    return this.start({ executionId, workflow, triggerNodeId, triggerData: data, context });
  }
}

/** The workflow an event is about (`data.workflowId`, as in execution.* events), if it names one. */
function sourceWorkflowOf(data: unknown): string | null {
  const workflowId = typeof data === 'object' && data !== null ? (data as { workflowId?: unknown }).workflowId : undefined;
  return typeof workflowId === 'string' ? workflowId : null;
}
