import { existsSync } from 'node:fs';
import type { Config } from '../config.js';
import { migrate as migrateDatabase } from '../db/migrator.js';
import { createPgliteClient, type PgliteClient } from '../db/pgliteClient.js';
import { createPostgresClient, type PostgresClient } from '../db/postgresClient.js';
import { createEsdbEventStore } from '../eventstore/esdbEventStore.js';
import type { EventStore } from '../eventstore/eventStore.js';
import { createPostgresEventStore } from '../eventstore/postgresEventStore.js';

export interface CliConnections {
  db: PostgresClient | PgliteClient;
  store: EventStore;
  close: () => Promise<void>;
}

/**
 * What the server reads, from the same configuration (DATABASE_URL, else the embedded database
 * in DATA_DIR; EVENTSTORE_URL for the events), for a command-line tool that `does` something to
 * the read model ("Rebuilding", "Checking"). `migrate` brings every table up to date (see
 * migrations/); a tool that only reads must not change the schema.
 */
export async function openCliConnections(config: Config, does: string, { migrate = false } = {}): Promise<CliConnections> {
  const db = await openDatabase(config, does);
  try {
    if (migrate) await migrateDatabase(db);
    const store = config.eventStoreUrl ? createEsdbEventStore(config.eventStoreUrl) : createPostgresEventStore(db);
    return {
      db,
      store,
      async close() {
        await store.close();
        await db.close();
      },
    };
  } catch (error) {
    await db.close();
    throw error;
  }
}

async function openDatabase(config: Config, does: string): Promise<PostgresClient | PgliteClient> {
  if (config.databaseUrl) {
    const { host, pathname } = new URL(config.databaseUrl);
    console.log(`${does} the read model in PostgreSQL ${host}${pathname}.`);
    return createPostgresClient(config.databaseUrl);
  }
  console.log(
    `${does} the read model in the embedded database ${config.dataDir}.\n` +
      'Stop the Cascade server using that directory first: PGlite allows one process per directory, and two corrupt it.',
  );
  if (!existsSync(config.dataDir)) throw new Error(`no embedded database in ${config.dataDir}`);
  return createPgliteClient(config.dataDir);
}
