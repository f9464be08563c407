import type { ExecutionCommand } from '../domain/execution/commands.js';
import { DomainError } from '../domain/errors.js';
import type { ExecutionState } from '../domain/execution/state.js';
import { MAX_CHILDREN_PAGE, MAX_EXECUTIONS_PAGE } from '../domain/limits.js';
import { executionViewFromState } from '../projections/executionView.js';
import type { ExecutionView, NodeStateView } from '../projections/executionViewTypes.js';
import type { ListExecutionsOptions } from '../projections/readModel.js';
import type { ApiDeps } from './apiDeps.js';
import { ApiError } from './errors.js';
import { actorOf, tenantOfCaller } from '../auth/actor.js';
import { identityOf, type IdentityContext } from '../auth/identity.js';
import { mayUseQueue } from '../auth/permissions.js';
import { queueOf } from '../nodes/external.js';

type NodeArgs = { executionId: string; nodeId: string };

function nodeOf(view: ExecutionView, nodeId: string): NodeStateView {
  const node = view.nodeStates.find((each) => each.nodeId === nodeId);
  if (!node) throw new DomainError('NOT_FOUND', `execution ${view.id} has no node ${nodeId}`);
  return node;
}

/** Checked here so that a bad filter is the client's error, not a failed SQL cast. */
function checkFilter(args: ListExecutionsOptions): ListExecutionsOptions {
  const { first, startedAfter, startedBefore } = args;
  if (first !== null && first !== undefined && (first < 1 || first > MAX_EXECUTIONS_PAGE)) {
    throw new ApiError('BAD_USER_INPUT', `first must be between 1 and ${MAX_EXECUTIONS_PAGE}, got ${first}`);
  }
  for (const [name, value] of Object.entries({ startedAfter, startedBefore })) {
    if (value !== null && value !== undefined && Number.isNaN(Date.parse(value))) {
      throw new ApiError('BAD_USER_INPUT', `${name} must be an ISO-8601 timestamp, got ${JSON.stringify(value)}`);
    }
  }
  return args;
}

/**
 * Queries read the read model. Mutations answer the state right after their command, folded on
 * the write side, so that a client sees its own write even before the projections have it.
 */
type WorkerArgs = NodeArgs & { attempt?: number | null };

export function executionResolvers({ engine, readModel, projections }: Pick<ApiDeps, 'engine' | 'readModel' | 'projections'>) {
  const view = (state: ExecutionState) => executionViewFromState(state);
  // Another tenant's execution is answered as an unknown one, before any command reaches it.
  const command = async (executionId: string, each: ExecutionCommand, context: unknown) => {
    const actor = actorOf(context);
    await engine.executionOf(executionId, actor);
    return view((await engine.executions.handle(executionId, each, actor)).state);
  };
  const call = (args: WorkerArgs, context: unknown) => ({
    executionId: args.executionId,
    nodeId: args.nodeId,
    attempt: args.attempt ?? undefined,
    tenantId: tenantOfCaller(context),
  });
  // A WORKER key limited to queues learns nothing of a job on another queue: it is answered as an unknown one.
  const onOwnQueue = async ({ executionId, nodeId }: NodeArgs, context: unknown) => {
    const identity = identityOf(context as IdentityContext);
    if (mayUseQueue(identity, '')) return;
    // From the node's definition: a claimed (RUNNING) job has no row in external_jobs any more.
    const node = (await engine.executions.load(executionId))?.graph.nodes.get(nodeId);
    const onWorkers = node !== undefined && engine.nodeTypes.capabilities.get(node.type)?.runs === 'worker';
    if (onWorkers && !mayUseQueue(identity, queueOf(node.parameters))) throw new DomainError('NOT_FOUND', `execution ${executionId} not found`);
  };

  return {
    Execution: {
      children: ({ id }: ExecutionView, { first, after, nodeId }: { first?: number | null; after?: string | null; nodeId?: string | null }) => {
        if (first !== null && first !== undefined && (first < 1 || first > MAX_CHILDREN_PAGE)) {
          throw new ApiError('BAD_USER_INPUT', `first must be between 1 and ${MAX_CHILDREN_PAGE}, got ${first}`);
        }
        return readModel.listChildren(id, { first: first ?? MAX_CHILDREN_PAGE, after, nodeId });
      },
    },
    Query: {
      execution: async (_: unknown, { id }: { id: string }, context: unknown) => {
        const tenantId = tenantOfCaller(context);
        // Not projected yet (just started): wait for the projections rather than answer the write
        // side, which is ahead of them; a later read would go back to the read model's older state
        // (a COMPLETED execution answered RUNNING again, its nodes without their inputs).
        const projected = (await readModel.getExecution(id, tenantId)) ?? (await projections.caughtUp().then(() => readModel.getExecution(id, tenantId)));
        if (projected) return projected;
        // One the projections skipped (see Projections in the README), or another tenant's: the write side says which.
        const state = await engine.executions.load(id);
        return state && state.tenantId === tenantId ? view(state) : null;
      },
      executions: (_: unknown, args: ListExecutionsOptions, context: unknown) => readModel.listExecutions({ ...checkFilter(args), tenantId: tenantOfCaller(context) }),
      activeTriggers: (_: unknown, { workflowId }: { workflowId: string }, context: unknown) => engine.activeTriggers(workflowId, actorOf(context)),
    },
    Mutation: {
      startTrigger: async (
        _: unknown,
        { workflowId, triggerNodeId, data, idempotencyKey }: { workflowId: string; triggerNodeId: string; data?: unknown; idempotencyKey?: string | null },
        context: unknown,
      ) => view(await engine.startTrigger(workflowId, triggerNodeId, data ?? null, actorOf(context), idempotencyKey)),
      emitEvent: async (_: unknown, { name, data }: { name: string; data?: unknown }, context: unknown) => (await engine.emitEvent(name, data ?? null, actorOf(context))).map(view),
      pauseExecution: (_: unknown, { id }: { id: string }, context: unknown) => command(id, { type: 'PauseExecution' }, context),
      resumeExecution: (_: unknown, { id }: { id: string }, context: unknown) => command(id, { type: 'ResumeExecution' }, context),
      cancelExecution: (_: unknown, { id }: { id: string }, context: unknown) => command(id, { type: 'CancelExecution', data: { reason: 'cancelled by user' } }, context),
      retryNode: (_: unknown, { executionId, nodeId }: NodeArgs, context: unknown) => command(executionId, { type: 'RetryNode', data: { nodeId } }, context),
      // An absent output skips the node; an explicit one (even null) completes it with that output.
      skipNode: (_: unknown, { executionId, nodeId, output }: NodeArgs & { output?: unknown }, context: unknown) =>
        command(executionId, { type: 'SkipNode', data: { nodeId, ...(output === undefined ? {} : { output }) } }, context),
      // Worker calls decide on the latest state (another process may have moved the attempt on).
      completeNode: async (_: unknown, { executionId, nodeId, output, outputName, attempt }: WorkerArgs & { output?: unknown; outputName?: string | null }, context: unknown) =>
        (await onOwnQueue({ executionId, nodeId }, context)) ??
        nodeOf(view(await engine.workQueue.complete(call({ executionId, nodeId, attempt }, context), { output: output ?? null, outputName })), nodeId),
      failNode: async (_: unknown, { executionId, nodeId, error, retryable, attempt }: WorkerArgs & { error: string; retryable?: boolean | null }, context: unknown) =>
        (await onOwnQueue({ executionId, nodeId }, context)) ??
        nodeOf(view(await engine.workQueue.fail(call({ executionId, nodeId, attempt }, context), { error, retryable: retryable ?? true })), nodeId),
      reportNodeProgress: async (
        _: unknown,
        { executionId, nodeId, progress, message, leaseMs, attempt }: WorkerArgs & { progress?: number | null; message?: string | null; leaseMs?: number | null },
        context: unknown,
      ) =>
        (await onOwnQueue({ executionId, nodeId }, context)) ??
        nodeOf(
          view(await engine.workQueue.reportProgress(call({ executionId, nodeId, attempt }, context), { progress: progress ?? null, message: message ?? null, leaseMs })),
          nodeId,
        ),
      releaseNode: async (_: unknown, { executionId, nodeId, attempt, reason }: NodeArgs & { attempt: number; reason?: string | null }, context: unknown) =>
        (await onOwnQueue({ executionId, nodeId }, context)) ??
        nodeOf(view(await engine.workQueue.release({ ...call({ executionId, nodeId }, context), attempt }, reason ?? 'handed back by its worker')), nodeId),
      signalNode: async (_: unknown, { executionId, nodeId, data, outputName }: NodeArgs & { data?: unknown; outputName?: string | null }, context: unknown) =>
        nodeOf(view(await engine.signalNode(executionId, nodeId, data ?? null, outputName ?? null, actorOf(context))), nodeId),
      claimNodes: (_: unknown, { queue, workerId, max, leaseMs }: { queue: string; workerId: string; max?: number | null; leaseMs?: number | null }, context: unknown) => {
        if (!mayUseQueue(identityOf(context as IdentityContext), queue)) throw new ApiError('FORBIDDEN', `this key may not claim from queue ${queue}`);
        return engine.workQueue.claim(queue, workerId, { max: max ?? undefined, leaseMs: leaseMs ?? undefined, tenantId: tenantOfCaller(context) });
      },
    },
  };
}
