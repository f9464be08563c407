import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresClient, type PostgresClient } from '../../src/db/postgresClient.js';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';
import { ANY, ConcurrencyError, type EventStore, type NewEvent, NO_STREAM, type RecordedEvent } from '../../src/eventstore/eventStore.js';
import { migrate } from '../../src/db/migrator.js';
import { appendToStream, createPostgresEventStore, type PostgresEventStoreOptions } from '../../src/eventstore/postgresEventStore.js';
import { decodePosition } from '../../src/eventstore/postgresRows.js';
import { eventStoreContract } from './eventStoreContract.js';
import { sqlSubject } from './sqlSubject.js';

eventStoreContract('PostgreSQL event store on PostgreSQL', async () => {
  const database = await createTestDatabase();
  // Room for the eight held-open appenders of the ordering test plus the subscriber.
  return sqlSubject(createPostgresClient(database.url, { max: 16 }), database.drop);
});

describe('PostgreSQL event store, server specifics', () => {
  const context = useEventStoreDatabase();

  it('holds back an event committed before an older transaction that is still open', async () => {
    const p = `held_${randomUUID().slice(0, 8)}`;
    const delivered: RecordedEvent[] = [];
    const subscription = context.store.subscribe({
      from: 'end',
      filter: { streamPrefixes: [p] },
      handler: async (events) => void delivered.push(...events),
    });
    await subscription.caughtUp();

    const older = await openTransaction(context.database.url);
    try {
      await appendToStream(older, `${p}-old`, [event()], NO_STREAM);
      await context.store.append(`${p}-new`, [event()], NO_STREAM);
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
    const early = await openTransaction(context.database.url);
    await early.query('SELECT pg_current_xact_id()');
    await context.store.append(stream, [event()], NO_STREAM);

    const error = await appendToStream(early, stream, [event()], ANY)
      .catch((e: unknown) => e)
      .finally(() => early.end());
    expect(error).toMatchObject({ code: '40001' });
    expect(await context.store.read(stream)).toHaveLength(1);
  });
});

describe('PostgreSQL event store, group commit across streams', () => {
  // One append on its way at a time: every append arriving meanwhile joins the next commit.
  const context = useEventStoreDatabase({ maxAppendsInFlight: 1 });

  const streams = (count: number) => Array.from({ length: count }, () => `group_${randomUUID()}`);
  const transactionOf = (position: string) => decodePosition(position).xact;

  it('commits appends to many streams that arrive together in few transactions, each answered with its own version', async () => {
    const ids = streams(40);
    const results = await Promise.all(ids.map((id, index) => context.store.append(id, Array.from({ length: 1 + (index % 3) }, event), NO_STREAM)));

    expect(results.map((result) => result.nextVersion)).toEqual(ids.map((_, index) => 1 + (index % 3)));
    expect(new Set(results.map((result) => transactionOf(result.position))).size).toBeLessThanOrEqual(2);
    for (const [index, id] of ids.entries()) expect(await context.store.read(id)).toHaveLength(1 + (index % 3));
  });

  it('refuses only the append whose expected version is wrong; the others of its commit stand', async () => {
    const [taken, ...free] = streams(10);
    await context.store.append(taken!, [event()], NO_STREAM);
    const outcomes = await Promise.allSettled([taken!, ...free].map((id) => context.store.append(id, [event()], NO_STREAM)));

    expect(outcomes[0]).toMatchObject({ status: 'rejected', reason: expect.any(ConcurrencyError) });
    expect((outcomes[0] as PromiseRejectedResult).reason).toMatchObject({ streamId: taken, actual: 1 });
    expect(outcomes.slice(1).every((outcome) => outcome.status === 'fulfilled')).toBe(true);
    expect(await context.store.read(taken!)).toHaveLength(1);
  });

  it('fails only an append the database refuses, not the others that arrived with it', async () => {
    const [bad, ...good] = streams(8);
    // jsonb cannot hold a NUL character: PostgreSQL refuses the whole statement it is in.
    const refused = { ...event(), data: { text: 'nul \u0000 here' } };
    const outcomes = await Promise.allSettled([
      context.store.append(good[0]!, [event()], NO_STREAM),
      context.store.append(bad!, [refused], NO_STREAM),
      ...good.slice(1).map((id) => context.store.append(id, [event()], NO_STREAM)),
    ]);

    expect(outcomes[1]).toMatchObject({ status: 'rejected' });
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(good.length);
    expect(await context.store.read(bad!)).toEqual([]);
    for (const id of good) expect(await context.store.read(id)).toHaveLength(1);
  });
});

describe('PostgreSQL event store, one read of the log for every follower', () => {
  const context = useEventStoreDatabase();

  it('serves followers at the head from one shared read instead of a query each', async () => {
    let logReads = 0;
    const counting = {
      ...context.client,
      query: (text: string, params?: unknown[]) => ((logReads += Number(text.includes('pg_snapshot_xmin'))), context.client.query(text, params)),
    };
    const store = createPostgresEventStore(counting);
    const p = `shared_${randomUUID().slice(0, 8)}`;
    const followers = Array.from({ length: 6 }, (_, index) => {
      const seen: RecordedEvent[] = [];
      const filter = index % 2 === 0 ? { streamPrefixes: [p] } : { streamPrefixes: [p], types: ['Happened'] };
      return { seen, subscription: store.subscribe({ from: 'start', filter, handler: async (events) => void seen.push(...events) }) };
    });
    await Promise.all(followers.map(({ subscription }) => subscription.caughtUp()));
    logReads = 0;

    for (let i = 0; i < 20; i++) await store.append(`${p}-${i % 4}`, [event()], i < 4 ? NO_STREAM : ANY);
    await Promise.all(followers.map(({ subscription }) => subscription.caughtUp()));

    for (const { seen } of followers) expect(seen.map((e) => e.id)).toEqual(followers[0]!.seen.map((e) => e.id));
    expect(followers[0]!.seen).toHaveLength(20);
    // Each follower reading for itself would take at least one query per notification it heard.
    expect(logReads).toBeLessThan((20 * followers.length) / 2);
    await store.close();
  });

  it('wakes a follower whose filter skipped what the shared read holds to an event committed after it', async () => {
    const { store } = context;
    const p = `skipper_${randomUUID().slice(0, 8)}`;
    const wanted: RecordedEvent[] = [];
    const everything: RecordedEvent[] = [];
    // Woken by notifications of 'Wanted' only, so the shared read moves on without it.
    const picky = store.subscribe({ from: 'start', filter: { streamPrefixes: [p], types: ['Wanted'] }, handler: async (events) => void wanted.push(...events) });
    const all = store.subscribe({ from: 'start', filter: { streamPrefixes: [p] }, handler: async (events) => void everything.push(...events) });
    await Promise.all([picky.caughtUp(), all.caughtUp()]);
    for (let i = 0; i < 3; i++) await store.append(`${p}-other`, [event()], ANY);
    await until(() => everything.length === 3);

    await store.append(`${p}-wanted`, [{ ...event(), type: 'Wanted' }], NO_STREAM);
    // Well before the 1 s re-check that a follower makes without any notification.
    await until(() => wanted.length === 1, 600);
    await Promise.all([picky.close(), all.close()]);
  });
});

/**
 * A fresh database with every table for one describe block, migrated twice at once
 * (migrations must be safe to run concurrently), and a store on it made with `options`.
 */
function useEventStoreDatabase(options: PostgresEventStoreOptions = {}) {
  const context = {} as { database: TestDatabase; client: PostgresClient; store: EventStore };
  beforeAll(async () => {
    context.database = await createTestDatabase();
    context.client = createPostgresClient(context.database.url);
    await Promise.all([migrate(context.client), migrate(context.client)]);
    context.store = createPostgresEventStore(context.client, options);
  });
  afterAll(async () => {
    await context.store?.close();
    await context.client?.close();
    await context.database?.drop();
  });
  return context;
}

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

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !condition(); await sleep(5)) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
