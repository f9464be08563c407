import type { SqlClient } from '../../src/db/sqlClient.js';
import type { ExpectedVersion, NewEvent } from '../../src/eventstore/eventStore.js';
import { migrate } from '../../src/db/migrator.js';
import { appendToStream, createPostgresEventStore } from '../../src/eventstore/postgresEventStore.js';
import type { ContractSubject } from './eventStoreContract.js';

/** The contract's subject on a SQL client; `release` runs after the store and client are closed. */
export async function sqlSubject(client: SqlClient, release?: () => Promise<void>): Promise<ContractSubject> {
  await migrate(client);
  const store = createPostgresEventStore(client);
  return {
    store,
    appendHeldOpen: (streamId: string, events: NewEvent[], expected: ExpectedVersion, holdMs: number) =>
      client.transaction(async (tx) => {
        const result = await appendToStream(tx, streamId, events, expected);
        await tx.query('SELECT pg_sleep($1)', [holdMs / 1000]);
        return result;
      }),
    async dispose() {
      try {
        await store.close();
        await client.close();
      } finally {
        await release?.();
      }
    },
  };
}
