import type { FastifyBaseLogger } from 'fastify';
import type { ApiDeps } from './apiDeps.js';
import { checkedRoot } from './argumentChecks.js';
import { executionResolvers } from './executionResolvers.js';
import { authResolvers } from './authResolvers.js';
import { checkHealth } from './health.js';
import { payloadResolvers } from './payloadResolvers.js';
import { historyResolvers } from './historyResolvers.js';
import { JSONScalar } from './schema.js';
import { subscriptionResolvers, type SinkFor } from './subscriptionResolvers.js';
import type { ExecutionUpdates } from './live/executionUpdates.js';
import { NodeJobFeed } from './live/nodeJobFeed.js';
import { secretResolvers } from './secretResolvers.js';
import { tenantResolvers } from './tenantResolvers.js';
import { workflowResolvers } from './workflowResolvers.js';

const merged = (parts: Array<Record<string, unknown>>): Record<string, unknown> => Object.fromEntries(parts.flatMap((part) => Object.entries(part)));

/** Every resolver of schema.graphql, one area per module, merged; each checks its arguments first (argumentChecks). */
export function createResolvers(deps: ApiDeps, live: { updates: ExecutionUpdates; sinkFor: SinkFor; jobs?: NodeJobFeed }, log: FastifyBaseLogger) {
  const workflows = workflowResolvers(deps);
  const executions = executionResolvers(deps);
  const areas = [workflows, executions, historyResolvers(deps), secretResolvers(deps), authResolvers(deps), tenantResolvers(deps)];
  return {
    JSON: JSONScalar,
    Node: workflows.Node,
    Execution: executions.Execution,
    ...payloadResolvers(deps.engine.payloads),
    Query: checkedRoot('Query', { health: () => checkHealth(deps), ...merged(areas.map((area) => area.Query)) }, deps.auth.audit),
    Mutation: checkedRoot('Mutation', merged(areas.map((area) => area.Mutation)), deps.auth.audit),
    ...subscriptionResolvers({ engine: deps.engine, ...live, jobs: live.jobs ?? new NodeJobFeed(deps.db, (error) => log.error(error)), log }),
  };
}
