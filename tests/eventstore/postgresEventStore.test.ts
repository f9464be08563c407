import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresClient, type PostgresClient } from '../../src/db/postgresClient.js';
import { createTestDatabase, type TestDatabase } from '../../src/db/testDatabase.js';
import { ANY, type EventStore, type NewEvent, NO_STREAM, type RecordedEvent } from '../../src/eventstore/eventStore.js';
import { appendToStream, createPostgresEventStore, migrateEventStore } from '../../src/eventstore/postgresEventStore.js';
import { eventStoreContract } from './eventStoreContract.js';
import { sqlSubject } from './sqlSubject.js';

eventStoreContract('PostgreSQL event store on PostgreSQL', async () => {
  const database = await createTestDatabase();
  // Room for the eight held-open appenders of the ordering test plus the subscriber.
  return sqlSubject(createPostgresClient(database.url, { max: 16 }), database.drop);
});

describe('PostgreSQL event store, server specifics', () => {
  let database: TestDatabase;
  let client: PostgresClient;
  let store: EventStore;
  beforeAll(async () => {
    database = await createTestDatabase();
    client = createPostgresClient(database.url);
    await Promise.all([migrateEventStore(client), migrateEventStore(client)]);
    store = createPostgresEventStore(client);
  });
  afterAll(async () => {
    await store?.close();
    await client?.close();
    await database?.drop();
  });

  it('holds back an event committed before an older transaction that is still open', async () => {
    const p = `held_${randomUUID().slice(0, 8)}`;
    const delivered: RecordedEvent[] = [];
    const subscription = store.subscribe({
      from: 'end',
      filter: { streamPrefixes: [p] },
      handler: async (events) => void delivered.push(...events),
    });
    await subscription.caughtUp();

    const older = await openTransaction(database.url);
    try {
      await appendToStream(older, `${p}-old`, [event()], NO_STREAM);
      await store.append(`${p}-new`, [event()], NO_STREAM);
      await sleep(100);
      expect(delivered).toEqual([]);
      await older.query('COMMIT');
    } finally {
      await older.end();
    }
    await subscription.caughtUp();
    await subscription.close();
    expect(delivered.map((e) => e.streamId.slice(p.length))).toEqual(['-old', '-new']);
  });

  it('refuses an append that would commit a stream out of order', async () => {
    const stream = `order_${randomUUID()}`;
    const early = await openTransaction(database.url);
    await early.query('SELECT pg_current_xact_id()');
    await store.append(stream, [event()], NO_STREAM);

    const error = await appendToStream(early, stream, [event()], ANY)
      .catch((e: unknown) => e)
      .finally(() => early.end());
    expect(error).toMatchObject({ code: '40001' });
    expect(await store.read(stream)).toHaveLength(1);
  });
});

async function openTransaction(url: string): Promise<pg.Client> {
  const connection = new pg.Client({ connectionString: url });
  // Dropping the database after a failed test kills the connection: don't crash the run.
  connection.on('error', () => {});
  await connection.connect();
  await connection.query('BEGIN');
  return connection;
}

function event(): NewEvent {
  return { id: randomUUID(), type: 'Happened', data: {}, metadata: { correlationId: 'c', causationId: null, userId: null } };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
