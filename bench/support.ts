import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer, type ServerOptions } from '../src/api/server.js';
import { ReadModel } from '../src/projections/readModel.js';
import { SecretStore } from '../src/secrets/secretStore.js';
import { createPostgresClient } from '../src/db/postgresClient.js';
import { createPgliteClient } from '../src/db/pgliteClient.js';
import type { SqlClient } from '../src/db/sqlClient.js';
import { createTestDatabase } from '../tests/support/testDatabase.js';
import { createPostgresEventStore } from '../src/eventstore/postgresEventStore.js';
import type { EventStore } from '../src/eventstore/eventStore.js';
import { Engine, type EngineOptions } from '../src/runtime/engine.js';
import { migrate } from '../src/db/migrator.js';
import { ProjectionRunner } from '../src/projections/projectionRunner.js';
import { createAuth, NO_JWT } from '../src/auth/auth.js';
import { bootstrapAdminKey } from '../src/auth/bootstrap.js';

/** A fresh PostgreSQL database with the engine running on it, like a server process would have. */
export interface BenchEnv {
  db: SqlClient;
  store: EventStore;
  engine: Engine;
  projections: ProjectionRunner;
  close(): Promise<void>;
}

export const POOL_SIZE = 10;

/** The ADMIN key benchServer's API knows (made when it gets ready): every bench client sends it, as a real client must. */
export const BENCH_KEY = 'csk_bench-admin-key';
export const benchHeaders = { 'content-type': 'application/json', authorization: `Bearer ${BENCH_KEY}` };

/** The API over the bench's engine, as the server process builds it (no secrets key: `$secrets` is empty). */
export function benchServer(env: BenchEnv, options: Pick<ServerOptions, 'rateLimitPerMinute'> = {}): FastifyInstance {
  const { engine, projections, store, db } = env;
  const auth = createAuth(db, NO_JWT, (error) => console.error('audit log error', error));
  const app = buildServer({ engine, readModel: new ReadModel(db), projections, store, db, secrets: new SecretStore(db, null), auth, ...options });
  app.addHook('onReady', async () => void (await bootstrapAdminKey(auth.keys, { adminKey: BENCH_KEY, databaseUrl: 'bench', dataDir: '' })));
  return app;
}

/**
 * The database a bench runs on: PostgreSQL (the default), or PGlite inside the bench's own
 * process, in a data directory on disk as a server without DATABASE_URL runs it (in memory, the
 * database's files would count in the process's memory too).
 */
export type BenchDatabase = 'postgres' | 'pglite';

async function benchDatabase(kind: BenchDatabase): Promise<{ db: SqlClient; drop(): Promise<void> }> {
  if (kind === 'pglite') {
    const dataDir = await mkdtemp(join(tmpdir(), 'cascade-bench-'));
    return { db: await createPgliteClient(dataDir), drop: () => rm(dataDir, { recursive: true, force: true }) };
  }
  const database = await createTestDatabase();
  return { db: createPostgresClient(database.url, { max: POOL_SIZE }), drop: () => database.drop() };
}

export async function createBenchEnv(engineOptions: Partial<EngineOptions> = {}, kind: BenchDatabase = 'postgres'): Promise<BenchEnv> {
  const database = await benchDatabase(kind);
  const { db } = database;
  await migrate(db);
  const store = createPostgresEventStore(db);
  const projections = new ProjectionRunner({ store, db });
  const engine = new Engine({ ...engineOptions, store, db });
  await projections.start();
  await engine.start();
  return {
    db,
    store,
    engine,
    projections,
    async close() {
      await engine.stop();
      await projections.stop();
      await store.close();
      await db.close();
      await database.drop();
    },
  };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Resolves when every given execution has ended, as the event log tells. */
export async function waitForAll(store: EventStore, executionIds: string[], timeoutMs = 600_000): Promise<void> {
  const pending = new Set(executionIds);
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const subscription = store.subscribe({
    from: 'start',
    filter: { types: ['ExecutionCompleted', 'ExecutionFailed', 'ExecutionCancelled'] },
    handler: async (events) => {
      for (const event of events) pending.delete(event.metadata.correlationId);
      if (pending.size === 0) resolveDone();
    },
  });
  const timer = setTimeout(() => resolveDone(), timeoutMs);
  await done;
  clearTimeout(timer);
  await subscription.close();
  if (pending.size > 0) throw new Error(`${pending.size} executions did not finish`);
}

export { chain, fanOutIn } from '../tests/support/flows.js';
