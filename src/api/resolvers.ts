import type { FastifyBaseLogger } from 'fastify';
import type { ApiDeps } from './apiDeps.js';
import { checkedRoot } from './argumentChecks.js';
import { executionResolvers } from './executionResolvers.js';
import { checkHealth } from './health.js';
import { historyResolvers } from './historyResolvers.js';
import { JSONScalar } from './schema.js';
import { subscriptionResolvers, type SinkFor } from './subscriptionResolvers.js';
import type { ExecutionUpdates } from './live/executionUpdates.js';
import { secretResolvers } from './secretResolvers.js';
import { workflowResolvers } from './workflowResolvers.js';

const merged = (parts: Array<Record<string, unknown>>): Record<string, unknown> => Object.fromEntries(parts.flatMap((part) => Object.entries(part)));

/** Every resolver of schema.graphql, one area per module, merged; each checks its arguments first (argumentChecks). */
export function createResolvers(deps: ApiDeps, live: { updates: ExecutionUpdates; sinkFor: SinkFor }, log: FastifyBaseLogger) {
  const workflows = workflowResolvers(deps);
  const areas = [workflows, executionResolvers(deps), historyResolvers(deps), secretResolvers(deps)];
  return {
    JSON: JSONScalar,
    Node: workflows.Node,
    Query: checkedRoot({ health: () => checkHealth(deps), ...merged(areas.map((area) => area.Query)) }),
    Mutation: checkedRoot(merged(areas.map((area) => area.Mutation))),
    ...subscriptionResolvers({ engine: deps.engine, ...live, log }),
  };
}
