import type { FastifyBaseLogger } from 'fastify';
import type { GraphQLResolveInfo } from 'graphql';
import { actorOf } from '../auth/actor.js';
import type { ApiDeps } from './apiDeps.js';
import { checkArguments } from './argumentChecks.js';
import { toCodedGraphQLError } from './errors.js';
import { checkMayCall, mayUseQueue } from '../auth/permissions.js';
import { identityOf, type IdentityContext } from '../auth/identity.js';
import { ApiError } from './errors.js';
import type { NodeJobFeed, NodeJobsNotice } from './live/nodeJobFeed.js';
import type { ExecutionUpdate, ExecutionUpdates, Sink } from './live/executionUpdates.js';
import type { SubscriptionContext } from './live/liveSinks.js';

/** Where a subscription's messages go, from its context (mercurius' context with the socket: SubscriptionContext) and its document. */
export type SinkFor = (context: SubscriptionContext, info: GraphQLResolveInfo) => Sink;

/** SharedFrames executes a subscription's document with the update as its root value. */
const asIs = (update: ExecutionUpdate) => update;

/** Errors at subscribe time bypass mercurius' error formatter: they must carry their code already. */
async function coded<T>(log: FastifyBaseLogger, field: string, context: unknown, args: Record<string, unknown>, start: () => Promise<T>): Promise<T> {
  try {
    checkMayCall(context, field);
    checkArguments(args);
    return await start();
  } catch (error) {
    throw toCodedGraphQLError(error, log);
  }
}

/**
 * The feed writes each message to the subscriber's socket itself (live/socketSink.ts), shared
 * by every subscriber of the same document; the iterator graphql-js gets yields nothing and only
 * ends (or fails) the subscription, so graphql-js never executes the selection per subscriber.
 */
export function subscriptionResolvers({
  engine,
  updates,
  sinkFor,
  jobs,
  log,
}: Pick<ApiDeps, 'engine'> & { updates: ExecutionUpdates; sinkFor: SinkFor; jobs: NodeJobFeed; log: FastifyBaseLogger }) {
  return {
    Subscription: {
      executionUpdated: {
        subscribe: (_: unknown, args: { executionId: string }, context: unknown, info: GraphQLResolveInfo) =>
          coded(log, 'executionUpdated', context, args, async () => {
            // Another tenant's execution is answered as an unknown one.
            await engine.executionOf(args.executionId, actorOf(context));
            return updates.execution(args.executionId, sinkFor(context as SubscriptionContext, info));
          }),
        resolve: asIs,
      },
      workflowExecutions: {
        subscribe: (_: unknown, args: { workflowId: string }, context: unknown, info: GraphQLResolveInfo) =>
          coded(log, 'workflowExecutions', context, args, async () => {
            const { workflowId } = args;
            await engine.workflowOf(workflowId, actorOf(context));
            return updates.workflow(workflowId, sinkFor(context as SubscriptionContext, info));
          }),
        resolve: asIs,
      },
      // A few small messages per job, executed per subscriber as usual (not shared frames).
      nodeJobs: {
        subscribe: (_: unknown, args: { queue: string }, context: unknown) =>
          coded(log, 'nodeJobs', context, args, () => {
            const identity = identityOf(context as IdentityContext);
            if (!mayUseQueue(identity, args.queue)) throw new ApiError('FORBIDDEN', `this key may not work on queue ${args.queue}`);
            return jobs.subscribe({ tenantId: identity.tenantId, queue: args.queue }, (context as Partial<SubscriptionContext>).socket);
          }),
        resolve: (notice: NodeJobsNotice) => notice,
      },
    },
  };
}
