import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDatabaseFault } from '../../src/db/databaseFaults.js';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';

/** The errors PostgreSQL and pg really produce, told apart: a lost connection, or the work's own error. */
describe('isDatabaseFault', () => {
  let database: TestDatabase;
  const clients: pg.Client[] = [];
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.end().catch(() => {})));
    await database.drop();
  });

  /** A connection whose 'error' events are collected (the server's reason it ended the session). */
  const open = async () => {
    const client = new pg.Client({ connectionString: database.url });
    const events: unknown[] = [];
    client.on('error', (error) => events.push(error));
    await client.connect();
    clients.push(client);
    const pid: number = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    return { client, events, pid };
  };
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => expect.unreachable('the query succeeded'),
      (error: unknown) => error,
    );
  const waitFor = async (condition: () => boolean | Promise<boolean>) => {
    const deadline = Date.now() + 20_000;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  it('holds for a terminated connection: under a query, in its error event, and for the next query', async () => {
    const { client, events, pid } = await open();
    const { client: other } = await open();
    const sleeping = failure(client.query('SELECT pg_sleep(60)'));
    await waitFor(async () => (await other.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND query LIKE 'SELECT pg_sleep%'", [pid])).rows.length > 0);
    await other.query('SELECT pg_terminate_backend($1)', [pid]);
    const underQuery = await sleeping;
    expect((underQuery as { code?: string }).code).toBe('57P01');
    expect(isDatabaseFault(underQuery)).toBe(true);
    expect(isDatabaseFault(await failure(client.query('SELECT 1')))).toBe(true);
    expect(events.every(isDatabaseFault)).toBe(true);
  });

  it('holds for a session the server ends for idle_session_timeout or idle_in_transaction_session_timeout', async () => {
    for (const [setting, begin] of [
      ['idle_session_timeout', false],
      ['idle_in_transaction_session_timeout', true],
    ] as const) {
      const { client, events } = await open();
      await client.query(`SET ${setting} = '100ms'`);
      if (begin) await client.query('BEGIN');
      await waitFor(() => events.length > 0);
      expect((events[0] as { code?: string }).code).toBe(begin ? '25P03' : '57P05');
      expect(events.every(isDatabaseFault)).toBe(true);
      expect(isDatabaseFault(await failure(client.query('SELECT 1')))).toBe(true);
    }
  });

  it('holds for a refused connection', async () => {
    const url = new URL(database.url);
    url.port = '1'; // nothing listens there
    const refused = new pg.Client({ connectionString: url.toString() });
    refused.on('error', () => {});
    expect(isDatabaseFault(await failure(refused.connect()))).toBe(true);
  });

  it('does not hold for the work’s own errors', async () => {
    const { client } = await open();
    await client.query('CREATE TABLE unique_ids (id int PRIMARY KEY)');
    await client.query('INSERT INTO unique_ids VALUES (1)');
    const own = [
      await failure(client.query('INSERT INTO unique_ids VALUES (1)')),
      await failure(client.query('SELEC 1')),
      await failure(client.query('SELECT 1 / 0')),
      await failure(client.query("SELECT 'x'::int")),
      new Error('boom'),
      new RangeError('Invalid time value'),
      null,
      'a string',
    ];
    expect(own.map(isDatabaseFault)).toEqual(own.map(() => false));
  });
});
