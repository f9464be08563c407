import type { FastifyBaseLogger } from 'fastify';
import { DomainError } from '../domain/errors.js';
import type { ApiDeps } from './apiDeps.js';
import { toCodedGraphQLError } from './errors.js';
import type { ExecutionUpdate, ExecutionUpdates } from './executionUpdates.js';

/** The feed yields ExecutionUpdate values as they are; the field resolver hands them on. */
const asIs = (update: ExecutionUpdate) => update;

/** Errors at subscribe time bypass mercurius' error formatter: they must carry their code already. */
async function coded<T>(log: FastifyBaseLogger, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    throw toCodedGraphQLError(error, log);
  }
}

export function subscriptionResolvers({ engine, updates, log }: Pick<ApiDeps, 'engine'> & { updates: ExecutionUpdates; log: FastifyBaseLogger }) {
  return {
    Subscription: {
      executionUpdated: {
        subscribe: (_: unknown, { executionId }: { executionId: string }) => coded(log, () => updates.execution(executionId)),
        resolve: asIs,
      },
      workflowExecutions: {
        subscribe: (_: unknown, { workflowId }: { workflowId: string }) =>
          coded(log, async () => {
            if (!(await engine.workflows.get(workflowId))) throw new DomainError('NOT_FOUND', `workflow ${workflowId} not found`);
            return updates.workflow(workflowId);
          }),
        resolve: asIs,
      },
    },
  };
}
