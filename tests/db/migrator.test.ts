import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getTableConfig, PgTable } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { migrate, MigrationError, readMigrations } from '../../src/db/migrator.js';
import { createPostgresClient, type PostgresClient } from '../../src/db/postgresClient.js';
import type { SqlClient } from '../../src/db/sqlClient.js';
import * as readModelSchema from '../../src/projections/schema.js';
import { BACKENDS, type Backend } from '../support/backends.js';
import { createHarness } from '../support/engineHarness.js';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';

/** Every table the code reads or writes. */
const TABLES = [
  'events',
  'streams',
  'workflow',
  'flow_execution',
  'node_execution_state',
  'execution_dependency',
  'projection_checkpoints',
  'runtime_checkpoints',
  'runtime_active_executions',
  'runtime_recoveries',
  'timers',
  'external_jobs',
  'execution_slots',
  'trigger_workflow_versions',
  'webhook_routes',
  'event_triggers',
  'schedules',
  'schedule_firings',
  'idempotency_keys',
  'secrets',
  'tenants',
  'api_keys',
  'audit_log',
  'waits',
  'subflow_runs',
  'subflow_children',
  'payloads',
  'schema_migrations',
];

/**
 * The fixture is a dump: its events and checkpoints hold the transaction ids of the cluster it was
 * made on, and a fresh cluster counts from far lower. Committed transactions are burnt until this
 * cluster's ids are past them (once per cluster), as after a restore into another cluster.
 */
async function passTransactionIds(client: pg.Client, fixture: string): Promise<void> {
  const highest = Math.max(
    ...[...fixture.matchAll(/'0*(\d+):0*\d+'|INSERT INTO public\.(?:events|streams) VALUES \([^,]+, '(\d+)'/g)].map((match) => Number(match[1] ?? match[2])),
  );
  await client.query(`CREATE PROCEDURE pg_temp.burn_transaction_ids(upto bigint) LANGUAGE plpgsql AS $$
    BEGIN
      WHILE pg_current_xact_id()::text::bigint <= upto LOOP COMMIT; END LOOP;
    END $$`);
  await client.query('CALL pg_temp.burn_transaction_ids($1)', [highest]);
}

async function publicTables(db: SqlClient): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1");
  return rows.map((row) => row.name);
}

/** Every row of every public table but the migrator's own, in a stable order. */
async function allRows(db: SqlClient): Promise<Record<string, unknown[]>> {
  const rows: Record<string, unknown[]> = {};
  for (const table of await publicTables(db)) {
    if (table !== 'schema_migrations') rows[table] = (await db.query(`SELECT * FROM ${table} t ORDER BY t::text`)).rows;
  }
  return rows;
}

describe.each(BACKENDS)('the migrator on $name', ({ create }) => {
  let backend: Backend;
  const folders: string[] = [];
  /** A migrations folder holding these files. */
  const folder = (files: Record<string, string>) => {
    const dir = mkdtempSync(join(tmpdir(), 'cascade-migrations-'));
    folders.push(dir);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  };
  beforeAll(async () => {
    backend = await create();
  }, 120_000);
  afterAll(async () => {
    await backend?.dispose();
  });
  afterEach(() => folders.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('rolls a failing migration back with everything before it in the run, and names it', async () => {
    const migrations = readMigrations(
      folder({ '0001_fine.sql': 'CREATE TABLE fine (n integer)', '0002_broken.sql': 'CREATE TABLE broken (n integer);\n--> statement-breakpoint\nSELECT nonsense' }),
    );
    await expect(migrate(backend.db, migrations)).rejects.toThrow(/migration 0002_broken failed: .*nonsense/);
    expect(await publicTables(backend.db)).toEqual([]);
  });

  it('creates every table once, concurrent calls included, and applies nothing the second time', async () => {
    const runs = await Promise.all([migrate(backend.db), migrate(backend.db)]);
    const names = readMigrations().map((migration) => migration.name);
    expect(runs.sort((a, b) => b.length - a.length)).toEqual([names, []]);
    expect(await publicTables(backend.db)).toEqual([...TABLES].sort());
    expect(await migrate(backend.db)).toEqual([]);
    const { rows } = await backend.db.query<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version');
    expect(rows.map((row) => row.name)).toEqual(names);
  });

  it('has the columns the typed read-model queries declare (src/projections/schema.ts)', async () => {
    const tables = Object.values(readModelSchema).filter((value) => value instanceof PgTable);
    expect(tables.length).toBeGreaterThan(0);
    for (const table of tables) {
      const config = getTableConfig(table);
      const { rows } = await backend.db.query<{ name: string; type: string; nullable: string }>(
        `SELECT column_name AS name, data_type AS type, is_nullable AS nullable FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name = $1 ORDER BY column_name`,
        [config.name],
      );
      const declared = config.columns.map((column) => ({ name: column.name, type: column.getSQLType(), nullable: column.notNull ? 'NO' : 'YES' }));
      expect(rows, config.name).toEqual(declared.sort((a, b) => a.name.localeCompare(b.name)));
    }
  });

  it('refuses a known number recorded under another name (two branches took the same number)', async () => {
    const [first] = readMigrations();
    const renamed = { ...first!, name: `${String(first!.version).padStart(4, '0')}_something_else`, statements: [] };
    await expect(migrate(backend.db, [renamed])).rejects.toThrow(new MigrationError(`migration 1 was applied as ${first!.name}, not ${renamed.name}`));
  });

  it('leaves alone versions a newer build recorded', async () => {
    await backend.db.query("INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_from_the_future')");
    expect(await migrate(backend.db)).toEqual([]);
  });

  it('refuses a folder with two files of one number, or a file not named NNNN_name.sql', () => {
    expect(() => readMigrations(folder({ '0001_a.sql': 'SELECT 1', '0001_b.sql': 'SELECT 1' }))).toThrow('migrations 0001_a and 0001_b have the same number');
    expect(() => readMigrations(folder({ '1_a.sql': 'SELECT 1' }))).toThrow('migration file 1_a.sql is not named NNNN_lower_case_name.sql');
    expect(readMigrations(folder({ 'README.md': 'notes', '0002_b.sql': 'SELECT 2', '0001_a.sql': 'SELECT 1' })).map((migration) => migration.name)).toEqual(['0001_a', '0002_b']);
  });
});

describe('the migrator on PostgreSQL', () => {
  const databases: TestDatabase[] = [];
  const clients: PostgresClient[] = [];
  const open = async () => {
    const database = await createTestDatabase();
    databases.push(database);
    return database;
  };
  const connect = (url: string) => clients[clients.push(createPostgresClient(url)) - 1]!;
  afterAll(async () => {
    for (const client of clients) await client.close();
    for (const database of databases) await database.drop();
  });

  it('lets two clients (two processes) migrate one empty database at once: one applies, the other waits and finds it done', async () => {
    const database = await open();
    const runs = await Promise.all([migrate(connect(database.url)), migrate(connect(database.url))]);
    expect(runs.map((names) => names.length).sort()).toEqual([0, readMigrations().length]);
    const { rows } = await connect(database.url).query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
    expect(rows[0]!.n).toBe(readMigrations().length);
  });

  it('upgrades a database made before the migrator with nothing lost, and the engine goes on with it', async () => {
    const database = await open();
    const loader = new pg.Client({ connectionString: database.url });
    await loader.connect();
    const fixture = readFileSync(new URL('fixtures/beforeMigrator.sql', import.meta.url), 'utf8');
    await passTransactionIds(loader, fixture);
    await loader.query(fixture);
    await loader.end();
    const db = connect(database.url);
    const before = await allRows(db);
    expect(before.workflow_webhook).toHaveLength(1);

    expect(await migrate(db)).toEqual(readMigrations().map((migration) => migration.name));

    const { workflow_webhook: dropped, ...kept } = before;
    expect(dropped).toBeDefined();
    // Columns that later migrations add (with no value for old rows) are not data that was there.
    expect(await allRows(db)).toMatchObject(kept);
    const { rows: drizzle } = await db.query("SELECT 1 FROM information_schema.schemata WHERE schema_name = 'drizzle'");
    expect(drizzle).toEqual([]);

    const h = await createHarness({ db, url: database.url, dispose: async () => {} });
    try {
      const { rows: workflows } = await db.query<{ id: string; name: string }>('SELECT id, name FROM workflow');
      const byName = new Map(workflows.map((row) => [row.name, row.id]));
      const waiting = (kept.flow_execution as Array<{ id: string; workflow_id: string }>).find((row) => row.workflow_id === byName.get('hooked and waiting'))!;
      // The delay's timer came through the upgrade: brought forward, it ends the delay.
      await db.query('UPDATE timers SET due_at = now() WHERE execution_id = $1', [waiting.id]);
      expect((await h.waitFor(waiting.id)).nodes.get('wait')?.status).toBe('COMPLETED');
      const again = await h.engine.startTrigger(byName.get('finished')!, 'start', { n: 2 });
      expect((await h.waitFor(again.id)).status).toBe('COMPLETED');
    } finally {
      await h.close();
    }
  });
});
