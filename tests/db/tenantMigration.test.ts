import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, readMigrations } from '../../src/db/migrator.js';
import { NO_STREAM } from '../../src/eventstore/eventStore.js';
import { createPostgresEventStore } from '../../src/eventstore/postgresEventStore.js';
import { startApi, type Api } from '../api/apiHarness.js';
import { BACKENDS, type Backend } from '../support/backends.js';

/** The tables migration 0015 gives a tenant_id. */
const TENANT_TABLES = ['workflow', 'flow_execution', 'webhook_routes', 'event_triggers', 'schedules', 'external_jobs', 'execution_slots'];

describe('migration 0015 (tenant isolation) on a database from before it', () => {
  const postgres = BACKENDS.find((each) => each.name === 'postgres')!;
  let backend: Backend;
  let api: Api;
  const workflowId = randomUUID();
  const executionId = randomUUID();
  const at = '2026-01-01T00:00:00.000Z';
  const tenantsAfter: Record<string, string[]> = {};

  beforeAll(async () => {
    backend = await postgres.create();
    const { db } = backend;
    await migrate(
      db,
      readMigrations().filter((migration) => migration.version < 15),
    );
    // What a build from before tenants wrote: a workflow event without a tenantId, and its rows.
    const workflow = {
      id: workflowId,
      version: 1,
      name: 'from before tenants',
      nodes: [
        { id: 'hook', type: 'trigger.webhook', parameters: { path: 'legacy' } },
        { id: 'work', type: 'external', parameters: { queue: 'old' } },
      ],
      connections: [{ source: 'hook', target: 'work' }],
      settings: {},
    };
    const store = createPostgresEventStore(db);
    await store.append(
      `workflow-${workflowId}`,
      [{ id: randomUUID(), type: 'WorkflowCreated', data: { workflow, at }, metadata: { correlationId: workflowId, causationId: null, userId: null } }],
      NO_STREAM,
    );
    await db.query(`INSERT INTO workflow (id, name, version, definition, created_at, updated_at) VALUES ($1, 'from before tenants', 1, '{}', $2, $2)`, [workflowId, at]);
    await db.query(
      `INSERT INTO flow_execution (id, workflow_id, workflow_version, status, trigger_node_id, trigger_type, progress, started_at, execution_path,
         total_nodes, completed_nodes, failed_nodes, stream_version, updated_at)
       VALUES ($1, $2, 1, 'COMPLETED', 'hook', 'trigger.webhook', 100, $3, '[]', 0, 0, 0, 1, $3)`,
      [executionId, workflowId, at],
    );
    await db.query(`INSERT INTO webhook_routes (path, workflow_id, workflow_version, node_id) VALUES ('legacy', $1, 1, 'hook')`, [workflowId]);
    await db.query(`INSERT INTO event_triggers (workflow_id, node_id, workflow_version, event_name) VALUES ($1, 'hook', 1, 'old.event')`, [workflowId]);
    await db.query(`INSERT INTO schedules (workflow_id, node_id, cron, timezone, workflow_version) VALUES ($1, 'hook', '0 0 1 1 *', 'UTC', 1)`, [workflowId]);
    await db.query(`INSERT INTO external_jobs (execution_id, node_id, attempt, queue, available_at) VALUES ($1, 'work', 1, 'old', $2)`, [executionId, at]);
    await db.query(
      `INSERT INTO execution_slots (execution_id, workflow_id, trigger_node_id, trigger_type, state, confirmed, version, updated_at)
       VALUES ($1, $2, 'hook', 'trigger.webhook', 'DONE', true, 1, now())`,
      [executionId, workflowId],
    );
    await migrate(db);
    // Before the server starts: its trigger catalog rewrites the trigger tables from the log.
    for (const table of TENANT_TABLES) tenantsAfter[table] = (await db.query<{ tenant_id: string }>(`SELECT tenant_id FROM ${table}`)).rows.map((row) => row.tenant_id);
    api = await startApi(backend);
  });
  afterAll(async () => {
    await api?.close();
    await backend?.dispose();
  });

  it('gives every row from before it to the tenant default, nothing lost', async () => {
    for (const table of TENANT_TABLES) expect(tenantsAfter[table], table).toEqual(['default']);
  });

  it('serves the old data to the tenant default only, and its webhook at /webhooks/<path>', async () => {
    const other = (await api.gql('mutation { createTenant(name: "newcomer") { id } }')).data.createTenant.id;
    const newcomer = await api.createKey({ name: 'newcomer admin', roles: ['ADMIN'], tenantId: other });
    const look = 'query ($w: ID!, $e: ID!) { workflow(id: $w) { id } execution(id: $e) { id } workflows { id } }';
    expect((await api.gql(look, { w: workflowId, e: executionId })).data).toEqual({
      workflow: { id: workflowId },
      execution: { id: executionId },
      workflows: [{ id: workflowId }],
    });
    expect((await api.gql(look, { w: workflowId, e: executionId }, newcomer)).data).toEqual({ workflow: null, execution: null, workflows: [] });

    const called = await fetch(`${api.url}/webhooks/legacy`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(called.status).toBe(202);
    const { executionId: started } = (await called.json()) as { executionId: string };
    expect((await api.gql('query ($id: ID!) { execution(id: $id) { workflowId } }', { id: started })).data.execution).toEqual({ workflowId });
    expect((await fetch(`${api.url}/tenants/${other}/webhooks/legacy`, { method: 'POST', body: '' })).status).toBe(404);
  });
});
