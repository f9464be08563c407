import type { FastifyBaseLogger } from 'fastify';
import { DomainError } from '../domain/errors.js';
import type { ApiDeps } from './apiDeps.js';
import { checkArguments } from './argumentChecks.js';
import { toCodedGraphQLError } from './errors.js';
import type { ExecutionUpdate, ExecutionUpdates } from './executionUpdates.js';

/** The feed yields ExecutionUpdate values as they are; the field resolver hands them on. */
const asIs = (update: ExecutionUpdate) => update;

/** Errors at subscribe time bypass mercurius' error formatter: they must carry their code already. */
async function coded<T>(log: FastifyBaseLogger, args: Record<string, unknown>, start: () => Promise<T>): Promise<T> {
  try {
    checkArguments(args);
    return await start();
  } catch (error) {
    throw toCodedGraphQLError(error, log);
  }
}

export function subscriptionResolvers({ engine, updates, log }: Pick<ApiDeps, 'engine'> & { updates: ExecutionUpdates; log: FastifyBaseLogger }) {
  return {
    Subscription: {
      executionUpdated: {
        subscribe: (_: unknown, args: { executionId: string }) => coded(log, args, () => updates.execution(args.executionId)),
        resolve: asIs,
      },
      workflowExecutions: {
        subscribe: (_: unknown, args: { workflowId: string }) =>
          coded(log, args, async () => {
            const { workflowId } = args;
            if (!(await engine.workflows.get(workflowId))) throw new DomainError('NOT_FOUND', `workflow ${workflowId} not found`);
            return updates.workflow(workflowId);
          }),
        resolve: asIs,
      },
    },
  };
}
