import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { buildSchema } from 'graphql';
import mercurius from 'mercurius';
import type { ApiDeps } from './apiDeps.js';
import { createErrorFormatter } from './errors.js';
import { ExecutionUpdates } from './executionUpdates.js';
import { graphiqlRoutes } from './graphiqlRoutes.js';
import { checkHealth } from './health.js';
import { createResolvers } from './resolvers.js';
import { assertResolversMatch, readSchemaSource } from './schema.js';
import { viewerRoutes } from './viewerRoutes.js';
import { webhookRoutes } from './webhookRoutes.js';

export interface ServerOptions extends ApiDeps {
  logger?: FastifyBaseLogger;
  /** Largest request body, in bytes; larger ones get 413. */
  bodyLimit?: number;
  /** Once an execution has sent a burst of messages, its changes within this window go out as one message. */
  coalesceMs?: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The live feed behind the subscriptions. */
    executionUpdates: ExecutionUpdates;
  }
}

const ONE_MIB = 1024 * 1024;
/** Keeps idle subscription sockets alive through proxies that drop silent connections. */
const KEEP_ALIVE_MS = 15_000;

export function buildServer(options: ServerOptions): FastifyInstance {
  const bodyLimit = options.bodyLimit ?? ONE_MIB;
  const app: FastifyInstance = options.logger ? Fastify({ bodyLimit, loggerInstance: options.logger }) : Fastify({ bodyLimit });
  const updates = new ExecutionUpdates({ readModel: options.readModel, projections: options.projections, coalesceMs: options.coalesceMs, log: app.log });
  const resolvers = createResolvers(options, updates, app.log);
  const schema = readSchemaSource();
  assertResolversMatch(buildSchema(schema), resolvers);

  // mercurius gets the SDL, not a built schema: under a bundler the ESM and CommonJS builds of
  // graphql may both load, and mercurius' instanceof checks only know its own.
  app.register(mercurius, {
    schema,
    resolvers,
    path: '/graphql',
    graphiql: false,
    subscription: { keepAlive: KEEP_ALIVE_MS },
    errorFormatter: createErrorFormatter(bodyLimit),
  });
  // An encapsulated plugin: it swaps the body parsers for raw buffers on its own routes only.
  app.register(webhookRoutes, { engine: options.engine, bodyLimit });
  app.register(graphiqlRoutes);
  app.register(viewerRoutes);
  app.get('/health', async (_, reply) => {
    const report = await checkHealth(options);
    return reply.code(report.status === 'ok' ? 200 : 503).send(report);
  });
  app.decorate('executionUpdates', updates);
  // Subscribers get a proper `complete` before their sockets close with the server.
  app.addHook('preClose', async () => updates.close());
  return app;
}
