import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { buildSchema } from 'graphql';
import rateLimit from '@fastify/rate-limit';
import fastifyWebsocket from '@fastify/websocket';
import mercurius from 'mercurius';
import type { ApiDeps } from './apiDeps.js';
import { createErrorFormatter } from './errors.js';
import { graphiqlRoutes } from './graphiqlRoutes.js';
import { boundedDocuments } from './guards/boundedDocuments.js';
import { QUERY_BOUND_DEFAULTS, type QueryBounds } from './guards/queryBounds.js';
import { DEFAULT_RATE_LIMIT_PER_MINUTE, requestRateOptions } from './guards/requestRate.js';
import { checkHealth } from './health.js';
import { ExecutionUpdates } from './live/executionUpdates.js';
import { LiveSinks, type SubscriptionContext } from './live/liveSinks.js';
import { NodeJobFeed, type NodeJobFeedOptions } from './live/nodeJobFeed.js';
import type { SlowSubscriberLimits } from './live/socketSink.js';
import { createResolvers } from './resolvers.js';
import { assertResolversMatch, readSchemaSource } from './schema.js';
import { viewerRoutes } from './viewerRoutes.js';
import { httpAuthentication } from '../auth/httpAuthentication.js';
import { socketAuthentication } from '../auth/socketAuthentication.js';
import { followRevocations } from '../auth/keyRevocations.js';
import { identityOf, type IdentityContext } from '../auth/identity.js';
import { webhookRoutes } from './webhookRoutes.js';

export interface ServerOptions extends ApiDeps {
  logger?: FastifyBaseLogger;
  /** Largest request body, in bytes; larger ones get 413. */
  bodyLimit?: number;
  /** Once an execution has sent a burst of messages, its changes within this window go out as one message. */
  coalesceMs?: number;
  /** Depth, alias, cost and token bounds of GraphQL documents (GRAPHQL_MAX_*). */
  queryBounds?: QueryBounds;
  /** Requests per minute per token, client address or webhook path (RATE_LIMIT_PER_MINUTE). */
  rateLimitPerMinute?: number;
  /** When a subscriber that does not read its socket gets coalesced messages, and when it is dropped. */
  slowSubscribers?: Partial<SlowSubscriberLimits>;
  /** GRAPHIQL=false: no /graphiql page (404). */
  graphiql?: boolean;
  /** When jobs told of to one worker and not claimed are offered to others. */
  nodeJobs?: NodeJobFeedOptions;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The live feed behind the subscriptions. */
    executionUpdates: ExecutionUpdates;
    /** Writes the feed's messages to the subscribers' sockets. */
    liveSinks: LiveSinks;
  }
}

const ONE_MIB = 1024 * 1024;
/** Keeps idle subscription sockets alive through proxies that drop silent connections. */
const KEEP_ALIVE_MS = 15_000;

export function buildServer(options: ServerOptions): FastifyInstance {
  const bodyLimit = options.bodyLimit ?? ONE_MIB;
  const queryBounds = options.queryBounds ?? QUERY_BOUND_DEFAULTS;
  const app: FastifyInstance = options.logger ? Fastify({ bodyLimit, loggerInstance: options.logger }) : Fastify({ bodyLimit });
  const updates = new ExecutionUpdates({ readModel: options.readModel, projections: options.projections, coalesceMs: options.coalesceMs, log: app.log });
  const errorFormatter = createErrorFormatter({ bodyLimit, maxTokens: queryBounds.maxTokens });
  const sinks = new LiveSinks({
    format: (result, context) => errorFormatter(result, context as Parameters<typeof errorFormatter>[1]).response,
    limits: options.slowSubscribers,
    log: app.log,
    // Subscribers share a message only if they may see the same of it: same tenant, same payload visibility.
    visibility: (context) => {
      const { tenantId, canViewPayloads } = identityOf(context as IdentityContext);
      return JSON.stringify([tenantId, canViewPayloads]);
    },
  });
  const jobs = new NodeJobFeed(options.db, (error) => app.log.error({ err: error }, 'nodeJobs feed: looking at a queue failed'), options.nodeJobs);
  const resolvers = createResolvers(options, { updates, sinkFor: (context, info) => sinks.sinkFor(context, info), jobs }, app.log);
  const schema = readSchemaSource();
  assertResolversMatch(buildSchema(schema), resolvers);

  // First, so that every route registered after it is counted.
  app.register(rateLimit, requestRateOptions(options.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT_PER_MINUTE));
  // Registered here rather than by mercurius, so that its socket server is the root's, which
  // boundedDocuments screens; a message is at most as large as a request body.
  app.register(fastifyWebsocket, { options: { maxPayload: bodyLimit } });
  let socketIdentity: ReturnType<typeof socketAuthentication> | undefined;
  // Once @fastify/websocket has made its socket server.
  app.after(() => {
    httpAuthentication(app, options.auth);
    socketIdentity = socketAuthentication(app.websocketServer, options.auth);
  });
  // mercurius gets the SDL, not a built schema: under a bundler the ESM and CommonJS builds of
  // graphql may both load, and mercurius' instanceof checks only know its own.
  app.register(mercurius, {
    schema,
    resolvers,
    path: '/graphql',
    graphiql: false,
    // The socket in the context lets the live feed write shared messages straight to it (live/socketSink.ts).
    subscription: {
      keepAlive: KEEP_ALIVE_MS,
      context: async (socket): Promise<Omit<SubscriptionContext, 'id'> & IdentityContext> => ({ socket, ...(await socketIdentity?.(socket)) }),
    },
    context: (request) => ({ identity: request.identity, requestId: request.id }),
    errorFormatter,
    graphql: { parseOptions: { maxTokens: queryBounds.maxTokens } },
  });
  app.register(boundedDocuments, { bounds: queryBounds });
  // An encapsulated plugin: it swaps the body parsers for raw buffers on its own routes only.
  app.register(webhookRoutes, { engine: options.engine, bodyLimit });
  if (options.graphiql !== false) app.register(graphiqlRoutes);
  app.register(viewerRoutes);
  app.get('/health', { config: { rateLimit: false } }, async (_, reply) => {
    const report = await checkHealth(options);
    return reply.code(report.status === 'ok' ? 200 : 503).send(report);
  });
  app.decorate('executionUpdates', updates);
  app.decorate('liveSinks', sinks);
  // Subscribers get a proper `complete` before their sockets close with the server.
  app.addHook('preClose', async () => {
    await jobs.close();
    updates.close();
  });
  let stopRevocations: (() => Promise<void>) | null = null;
  app.addHook('onReady', async () => {
    stopRevocations = await followRevocations(options.db, options.auth.authenticator, (error) => app.log.error({ err: error }, 'revoked keys: LISTEN failed'));
  });
  app.addHook('onClose', async () => {
    await stopRevocations?.();
    await options.auth.audit.flushed();
  });
  return app;
}
