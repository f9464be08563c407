import { mkdir } from 'node:fs/promises';
import pino, { type Logger } from 'pino';
import { buildServer } from './api/server.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createPgliteClient } from './db/pgliteClient.js';
import { migrate } from './db/migrator.js';
import { createPostgresClient } from './db/postgresClient.js';
import { logErrors } from './errors/errorReporter.js';
import { createEsdbEventStore } from './eventstore/esdbEventStore.js';
import type { EventStore } from './eventstore/eventStore.js';
import { createPostgresEventStore } from './eventstore/postgresEventStore.js';
import { ProjectionRunner } from './projections/projectionRunner.js';
import { ReadModel } from './projections/readModel.js';
import { RetentionJob } from './projections/retention.js';
import { Engine } from './runtime/engine.js';

/** A stuck shutdown must not keep a deploy waiting forever. */
const SHUTDOWN_TIMEOUT_MS = 15_000;

async function openDatabase(config: Config) {
  if (config.databaseUrl) return createPostgresClient(config.databaseUrl);
  await mkdir(config.dataDir, { recursive: true });
  return createPgliteClient(config.dataDir);
}

function openEventStore(config: Config, db: Awaited<ReturnType<typeof openDatabase>>): EventStore {
  if (config.eventStoreUrl) return createEsdbEventStore(config.eventStoreUrl);
  return createPostgresEventStore(db);
}

/** Wires config to a running server; resolves with the function that stops it all, in order. */
async function start(config: Config, logger: Logger): Promise<() => Promise<void>> {
  const db = await openDatabase(config);
  await migrate(db);
  const store = openEventStore(config, db);
  const readModel = new ReadModel(db);
  const projections = new ProjectionRunner({ store, db, onError: logErrors(logger, 'projection error') });
  const engine = new Engine({
    store,
    db,
    nodeConcurrency: config.nodeConcurrency,
    idempotencyWindowMs: config.idempotencyWindowHours && config.idempotencyWindowHours * 3_600_000,
    expressionTimeoutMs: config.expressionTimeoutMs,
    http: { timeoutMs: config.httpNodeTimeoutMs, maxResponseBytes: config.httpNodeMaxResponseBytes },
    onError: logErrors(logger, 'runtime error'),
  });
  const retention = config.retentionDays ? new RetentionJob({ db, retentionDays: config.retentionDays, onError: logErrors(logger, 'retention error') }) : null;
  await projections.start();
  await engine.open();
  retention?.start();
  const app = buildServer({ engine, readModel, projections, store, db, logger });
  await app.listen({ port: config.port, host: config.host });
  // Resuming comes after listening: whatever an unfinished execution does, the server answers.
  const recovery = engine.recover().catch((err: unknown) => logger.error({ err }, 'recovery error'));
  return async () => {
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
}

function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = pino({ level: config.logLevel });
  const stop = await start(config, logger);
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error('shutdown timed out');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS).unref();
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((err: unknown) => {
  console.error('cascade failed to start:', err);
  process.exit(1);
});
