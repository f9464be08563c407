import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDatabaseFault } from '../../src/db/databaseFaults.js';
import { createPgliteClient } from '../../src/db/pgliteClient.js';
import { createPostgresClient, type PostgresClient } from '../../src/db/postgresClient.js';
import type { SqlClient } from '../../src/db/sqlClient.js';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';

function sqlClientContract(name: string, open: () => Promise<SqlClient>, release: () => Promise<void> = async () => {}) {
  describe(name, () => {
    let client: SqlClient;
    beforeAll(async () => {
      client = await open();
      await client.query('CREATE TABLE items (n integer)');
    });
    afterAll(async () => {
      await client?.close();
      await release();
    });

    it('rolls a transaction back when its function throws', async () => {
      const failing = client.transaction(async (tx) => {
        await tx.query('INSERT INTO items VALUES ($1)', [-1]);
        throw new Error('boom');
      });
      await expect(failing).rejects.toThrow('boom');
      expect((await client.query('SELECT count(*)::int AS n FROM items WHERE n = -1')).rows[0].n).toBe(0);
    });

    it('runs a query issued during an open transaction after it, not inside it', async () => {
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let inserted!: () => void;
      const didInsert = new Promise<void>((resolve) => (inserted = resolve));
      const transaction = client.transaction(async (tx) => {
        await tx.query('INSERT INTO items VALUES (1)');
        inserted();
        await held;
        throw new Error('rolled back');
      });
      await didInsert;
      const count = client.query<{ n: number }>('SELECT count(*)::int AS n FROM items WHERE n = 1');
      release();
      await expect(transaction).rejects.toThrow('rolled back');
      expect((await count).rows[0]!.n).toBe(0);
    });

    it('delivers notifications until unlistened', async () => {
      const payloads: string[] = [];
      const unlisten = await client.listen('pings', (payload) => payloads.push(payload));
      await client.query("SELECT pg_notify('pings', 'one')");
      await waitFor(() => payloads.length === 1);
      await unlisten();
      await client.query("SELECT pg_notify('pings', 'two')");
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(payloads).toEqual(['one']);
    });
  });
}

sqlClientContract('PGlite client', () => createPgliteClient());

let database: TestDatabase;
sqlClientContract(
  'PostgreSQL client',
  async () => {
    database = await createTestDatabase();
    return createPostgresClient(database.url);
  },
  () => database.drop(),
);

describe('PostgreSQL client LISTEN connection', () => {
  let db: TestDatabase;
  let client: PostgresClient;
  beforeAll(async () => {
    db = await createTestDatabase();
    client = createPostgresClient(db.url);
  });
  afterAll(async () => {
    await client?.close();
    await db?.drop();
  });

  it('reconnects and listens again after its connection is killed', async () => {
    const payloads: string[] = [];
    await client.listen('pings', (payload) => payloads.push(payload));
    const killed = await client.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'");
    expect(killed.rows).toHaveLength(1);
    await waitFor(async () => {
      await client.query("SELECT pg_notify('pings', 'back')");
      return payloads.length > 0;
    });
    expect(payloads[0]).toBe('back');
  });
});

describe('PostgreSQL client whose connections are terminated', () => {
  let db: TestDatabase;
  let client: PostgresClient;
  /** A connection of its own, as a DBA's session would be. */
  let admin: PostgresClient;
  beforeAll(async () => {
    db = await createTestDatabase();
    client = createPostgresClient(db.url, { max: 2 });
    admin = createPostgresClient(db.url, { max: 1 });
    await client.query('CREATE TABLE kept (n integer)');
  });
  afterAll(async () => {
    await client?.close();
    await admin?.close();
    await db?.drop();
  });

  const terminate = async (pid: number) => {
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await waitFor(async () => (await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rows.length === 0);
  };
  const rejection = (promise: Promise<unknown>) =>
    promise.then(
      () => null,
      (error: unknown) => error,
    );

  /** Every pooled connection answers: none of them is the dead one handed out again. */
  const poolAnswers = async () => {
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => client.query<{ n: number }>('SELECT $1::int AS n', [i])));
    expect(answers.map(({ rows }) => rows[0]!.n)).toEqual([0, 1, 2, 3, 4, 5]);
  };

  it('fails a transaction whose connection is terminated between its queries, writes nothing of it, and keeps the pool usable', async () => {
    const outcome = rejection(
      client.transaction(async (tx) => {
        await tx.query('INSERT INTO kept VALUES (1)');
        const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        // The connection is held and idle when it goes: its 'error' event has no query to land on.
        await terminate(rows[0]!.pid);
        await tx.query('INSERT INTO kept VALUES (2)');
      }),
    );
    const error = await outcome;
    expect(error).toBeInstanceOf(Error);
    expect(isDatabaseFault(error)).toBe(true);
    expect((await client.query('SELECT count(*)::int AS n FROM kept')).rows[0].n).toBe(0);
    await poolAnswers();
  });

  it('fails a transaction whose connection is terminated inside a query, and keeps the pool usable', async () => {
    let pid = 0;
    const outcome = rejection(
      client.transaction(async (tx) => {
        await tx.query('INSERT INTO kept VALUES (3)');
        pid = (await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
        await tx.query('SELECT pg_sleep(60)');
      }),
    );
    await waitFor(async () => pid !== 0 && (await admin.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND query LIKE 'SELECT pg_sleep%'", [pid])).rows.length === 1);
    await terminate(pid);
    const error = await outcome;
    expect(isDatabaseFault(error)).toBe(true);
    expect((await client.query('SELECT count(*)::int AS n FROM kept')).rows[0].n).toBe(0);
    await poolAnswers();
  });

  it('fails a pooled query whose connection is terminated under it, and answers the next ones', async () => {
    const sleeping = rejection(client.query('SELECT pg_sleep(60)'));
    let pid = 0;
    await waitFor(async () => {
      const { rows } = await admin.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = 'SELECT pg_sleep(60)' AND state = 'active'",
      );
      pid = rows[0]?.pid ?? 0;
      return pid !== 0;
    });
    await terminate(pid);
    expect(isDatabaseFault(await sleeping)).toBe(true);
    await poolAnswers();
  });

  it('survives every connection terminated at once, idle ones and LISTEN included, and notifications flow again', async () => {
    const payloads: string[] = [];
    const unlisten = await client.listen('after-failover', (payload) => payloads.push(payload));
    await poolAnswers(); // both pooled connections exist and are idle
    const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    expect(rows.length).toBeGreaterThanOrEqual(3);
    await Promise.all(rows.map(({ pid }) => terminate(pid)));
    await waitFor(async () => {
      await client.query("SELECT pg_notify('after-failover', 'back')").catch(() => undefined);
      return payloads.length > 0;
    }, 20_000);
    expect(payloads[0]).toBe('back');
    await poolAnswers();
    await unlisten();
  });
});

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
