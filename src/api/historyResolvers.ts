import { toExecutionEvent } from '../domain/execution/events.js';
import { DomainError } from '../domain/errors.js';
import { nodeCausation } from '../domain/execution/causation.js';
import { executionStreamId } from '../domain/execution/events.js';
import { diffExecution } from '../domain/execution/executionDiff.js';
import { foldExecution } from '../domain/execution/evolve.js';
import { MAX_EVENTS_PAGE } from '../domain/limits.js';
import type { RecordedEvent } from '../eventstore/eventStore.js';
import { executionViewFromState } from '../projections/executionView.js';
import { replayCheck } from '../projections/replayCheck.js';
import type { ApiDeps } from './apiDeps.js';
import { ApiError } from './errors.js';
import { actorOf } from '../auth/actor.js';

const DEFAULT_EVENT_PAGE = 100;

const toGraphQLEvent = (event: RecordedEvent) => ({
  eventNumber: event.streamVersion,
  type: event.type,
  data: event.data,
  recordedAt: event.recordedAt,
  causationId: event.metadata.causationId,
  userId: event.metadata.userId,
});

function checkRange(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value < min || value > max) throw new ApiError('BAD_USER_INPUT', `${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

type RerunArgs = { executionId: string; nodeId: string; data?: unknown; useOriginalVersion?: boolean | null };

/** Debugging a past execution: its events, its state after any one of them, why nodes ran, and reruns. */
export function historyResolvers({ store, engine, readModel }: Pick<ApiDeps, 'store' | 'engine' | 'readModel'>) {
  /** The first `toVersion` events (all without it); NOT_FOUND for an execution without any. */
  const eventsOf = async (executionId: string, toVersion?: number) => {
    const events = await store.read(executionStreamId(executionId), toVersion === undefined ? {} : { toVersion });
    if (events.length === 0) throw new DomainError('NOT_FOUND', `execution ${executionId} not found`);
    if (toVersion !== undefined && events.length < toVersion) throw new ApiError('BAD_USER_INPUT', `execution ${executionId} has only ${events.length} events`);
    return events;
  };

  // Another tenant's execution is answered as an unknown one: NOT_FOUND, or null where an unknown one is null.
  const own = (executionId: string, context: unknown) => engine.executionOf(executionId, actorOf(context));
  const owned = (executionId: string, context: unknown) =>
    own(executionId, context).then(
      () => true,
      (error: unknown) => {
        if (error instanceof DomainError && error.code === 'NOT_FOUND') return false;
        throw error;
      },
    );

  return {
    Query: {
      executionEvents: async (_: unknown, { executionId, after, first }: { executionId: string; after?: number | null; first?: number | null }, context: unknown) => {
        const from = checkRange('after', after ?? 0, 0) + 1;
        const count = checkRange('first', first ?? DEFAULT_EVENT_PAGE, 1, MAX_EVENTS_PAGE);
        await own(executionId, context);
        const events = await store.read(executionStreamId(executionId), { fromVersion: from, toVersion: from + count - 1 });
        return events.map(toGraphQLEvent);
      },
      executionAt: async (_: unknown, { executionId, eventNumber }: { executionId: string; eventNumber: number }, context: unknown) => {
        const toVersion = checkRange('eventNumber', eventNumber, 1);
        if (!(await owned(executionId, context))) return null;
        const events = await store.read(executionStreamId(executionId), { toVersion });
        const last = events.at(-1);
        if (!last) return null;
        if (last.streamVersion < eventNumber) throw new ApiError('BAD_USER_INPUT', `execution ${executionId} has only ${last.streamVersion} events`);
        // Durations and estimates as they stood when that event happened, not as of now.
        return executionViewFromState(foldExecution(events.map(toExecutionEvent))!, undefined, new Date(last.recordedAt));
      },
      executionDiff: async (_: unknown, { executionId, from, to }: { executionId: string; from: number; to: number }, context: unknown) => {
        checkRange('from', from, 0);
        const toVersion = checkRange('to', to, Math.max(1, from));
        await own(executionId, context);
        const events = await eventsOf(executionId, toVersion);
        return { executionId, from, to, ...diffExecution(events.map(toExecutionEvent), from, to), events: events.slice(from).map(toGraphQLEvent) };
      },
      nodeCausation: async (_: unknown, { executionId, nodeId }: { executionId: string; nodeId: string }, context: unknown) => {
        await own(executionId, context);
        return nodeCausation((await eventsOf(executionId)).map(toExecutionEvent), nodeId);
      },
      replayCheck: async (_: unknown, { executionId }: { executionId: string }, context: unknown) => {
        await own(executionId, context);
        return replayCheck(store, readModel, executionId);
      },
    },
    Mutation: {
      // null data is no data: the node gets its recorded input (the trigger its recorded data).
      rerunFromNode: async (_: unknown, { executionId, nodeId, data, useOriginalVersion }: RerunArgs, context: unknown) =>
        executionViewFromState(await engine.rerunFromNode(executionId, nodeId, data ?? undefined, { useOriginalVersion: useOriginalVersion ?? false, context: actorOf(context) })),
    },
  };
}
