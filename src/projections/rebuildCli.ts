import { existsSync } from 'node:fs';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { createPgliteClient, type PgliteClient } from '../db/pgliteClient.js';
import { createPostgresClient, type PostgresClient } from '../db/postgresClient.js';
import { createEsdbEventStore } from '../eventstore/esdbEventStore.js';
import type { EventStore } from '../eventstore/eventStore.js';
import { createPostgresEventStore, migrateEventStore } from '../eventstore/postgresEventStore.js';
import { migrateProjections } from './migrate.js';
import { rebuildProjections } from './rebuild.js';

/**
 * `npm run projections:rebuild`: replays the event log into fresh read-model tables. It reads the
 * same configuration as the server (DATABASE_URL, else the embedded database in DATA_DIR;
 * EVENTSTORE_URL for the events), so it rebuilds exactly what the server reads.
 */
async function openDatabase(config: Config): Promise<PostgresClient | PgliteClient> {
  if (config.databaseUrl) {
    const { host, pathname } = new URL(config.databaseUrl);
    console.log(`Rebuilding the read model in PostgreSQL ${host}${pathname}.`);
    return createPostgresClient(config.databaseUrl);
  }
  console.log(
    `Rebuilding the read model in the embedded database ${config.dataDir}.\n` +
      'Stop the Cascade server using that directory first: PGlite allows one process per directory, and two corrupt it.',
  );
  if (!existsSync(config.dataDir)) throw new Error(`no embedded database in ${config.dataDir}: nothing to rebuild`);
  return createPgliteClient(config.dataDir);
}

async function openEventStore(config: Config, db: PostgresClient | PgliteClient): Promise<EventStore> {
  if (config.eventStoreUrl) return createEsdbEventStore(config.eventStoreUrl);
  await migrateEventStore(db);
  return createPostgresEventStore(db);
}

async function main(): Promise<void> {
  const config = loadConfig();
  const db = await openDatabase(config);
  try {
    const store = await openEventStore(config, db);
    try {
      const began = Date.now();
      await migrateProjections(db);
      await rebuildProjections(db, store);
      const { rows } = await db.query<{ workflows: number; executions: number }>(
        'SELECT (SELECT count(*)::int FROM workflow) AS workflows, (SELECT count(*)::int FROM flow_execution) AS executions',
      );
      console.log(`Done in ${Date.now() - began} ms: ${rows[0]!.workflows} workflows, ${rows[0]!.executions} executions.`);
    } finally {
      await store.close();
    }
  } finally {
    await db.close();
  }
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(error.message);
  else console.error('Rebuild failed:', error);
  process.exitCode = 1;
});
