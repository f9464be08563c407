import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteClient } from '../../src/db/pgliteClient.js';
import { createPostgresClient, type PostgresClient } from '../../src/db/postgresClient.js';
import type { SqlClient } from '../../src/db/sqlClient.js';
import { createTestDatabase, type TestDatabase } from '../../src/db/testDatabase.js';

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
    const killed = await client.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
    );
    expect(killed.rows).toHaveLength(1);
    await waitFor(async () => {
      await client.query("SELECT pg_notify('pings', 'back')");
      return payloads.length > 0;
    });
    expect(payloads[0]).toBe('back');
  });
});

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
