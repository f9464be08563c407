import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import { buildServer } from './api/server.js';
import { configFrom, type Config, type Settings } from './config.js';
import { migrate } from './db/migrator.js';
import { createPgliteClient } from './db/pgliteClient.js';
import { logErrors } from './errors/errorReporter.js';
import { createPostgresClient } from './db/postgresClient.js';
import { createEsdbEventStore } from './eventstore/esdbEventStore.js';
import type { EventStore } from './eventstore/eventStore.js';
import { createPostgresEventStore } from './eventstore/postgresEventStore.js';
import type { NodeType } from './nodes/nodeType.js';
import { ProjectionRunner } from './projections/projectionRunner.js';
import { ReadModel } from './projections/readModel.js';
import { RetentionJob } from './projections/retention.js';
import { Engine } from './runtime/engine.js';
import { loadSecretKeys } from './secrets/secretsKeyFile.js';
import { SecretStore } from './secrets/secretStore.js';
import { createAuth } from './auth/auth.js';
import { adminKeyPath, bootstrapAdminKey } from './auth/bootstrap.js';

/** The environment's settings as typed fields (DATABASE_URL is `databaseUrl`, ...), plus the node types. */
export interface CascadeOptions extends Settings {
  /** Node types besides the built-ins, made with defineNodeType. */
  nodeTypes?: readonly NodeType[];
  /** Default: a pino logger at `logLevel`. */
  logger?: Logger;
}

export interface Cascade {
  /** Where the server answers: http://<host>:<port> (the port it got, for `port: 0`). */
  url: string;
  /** Stops it all in order, as on SIGTERM: requests, running nodes (handed back), the log, the database. */
  close(): Promise<void>;
}

async function openDatabase(config: Config) {
  if (config.databaseUrl) return createPostgresClient(config.databaseUrl);
  await mkdir(config.dataDir, { recursive: true });
  return createPgliteClient(config.dataDir);
}

function openEventStore(config: Config, db: Awaited<ReturnType<typeof openDatabase>>): EventStore {
  if (config.eventStoreUrl) return createEsdbEventStore(config.eventStoreUrl);
  return createPostgresEventStore(db);
}

/** A wildcard address is no place to send requests to: the URL names the loopback instead. */
function urlOf(address: AddressInfo): string {
  const host = address.address === '0.0.0.0' || address.address === '::' ? 'localhost' : address.address;
  return `http://${address.family === 'IPv6' && host !== 'localhost' ? `[${host}]` : host}:${address.port}`;
}

/**
 * A running Cascade: the database, the event store, the projections, the engine with the given
 * node types, and the server listening. Settings are checked as the environment's are (a
 * ConfigError lists every problem). Unfinished executions resume once the server listens.
 */
export async function startCascade(options: CascadeOptions = {}): Promise<Cascade> {
  const { nodeTypes, logger: given, ...settings } = options;
  const config = configFrom(settings);
  const logger = given ?? pino({ level: config.logLevel });
  const db = await openDatabase(config);
  await migrate(db);
  const store = openEventStore(config, db);
  const readModel = new ReadModel(db);
  const secrets = new SecretStore(db, await loadSecretKeys(config));
  const projections = new ProjectionRunner({ store, db, onError: logErrors(logger, 'projection error') });
  const engine = new Engine({
    store,
    db,
    nodeConcurrency: config.nodeConcurrency,
    idempotencyWindowMs: config.idempotencyWindowHours && config.idempotencyWindowHours * 3_600_000,
    expressionTimeoutMs: config.expressionTimeoutMs,
    http: { timeoutMs: config.httpNodeTimeoutMs, maxResponseBytes: config.httpNodeMaxResponseBytes, blockPrivate: config.httpNodeBlockPrivate },
    nodeTypes,
    secrets,
    logger,
    onError: logErrors(logger, 'runtime error'),
    payloadInlineBytes: config.payloadInlineBytes,
  });
  const auth = createAuth(
    db,
    { jwksUrl: config.jwtJwksUrl, secret: config.jwtSecret, issuer: config.jwtIssuer, audience: config.jwtAudience },
    logErrors(logger, 'audit log error'),
  );
  const madeKey = await bootstrapAdminKey(auth.keys, config);
  if (madeKey !== null) {
    // Printed once, on the one start that made it: there is no other way to learn it (but the file).
    const where = config.databaseUrl === null ? ` (also in ${adminKeyPath(config.dataDir)})` : '';
    logger.warn({ adminKey: madeKey }, `created the first admin key${where}: send it as Authorization: Bearer <key>`);
  }
  const retention = config.retentionDays ? new RetentionJob({ db, retentionDays: config.retentionDays, onError: logErrors(logger, 'retention error') }) : null;
  await projections.start();
  await engine.open();
  retention?.start();
  const app = buildServer({
    engine,
    readModel,
    projections,
    store,
    db,
    secrets,
    auth,
    logger,
    queryBounds: config.queryBounds,
    rateLimitPerMinute: config.rateLimitPerMinute,
    graphiql: config.graphiql,
  });
  await app.listen({ port: config.port, host: config.host });
  // Resuming comes after listening: whatever an unfinished execution does, the server answers.
  const recovery = engine.recover().catch((err: unknown) => logger.error({ err }, 'recovery error'));
  const close = async () => {
    // Stop taking requests (subscriptions end, in-flight requests finish), then hand running
    // nodes back so another process takes them over, then stop following the log.
    await app.close();
    await retention?.stop();
    await engine.stop();
    await recovery;
    await projections.stop();
    await store.close();
    await db.close();
  };
  return { url: urlOf(app.server.address() as AddressInfo), close };
}
