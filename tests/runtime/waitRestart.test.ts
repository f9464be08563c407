import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';
import { freePort, killAll, launchServer, poll, type ServerProcess } from '../support/serverProcess.js';

const EXECUTIONS = 1_000;
/** Aliased mutations per request: the default GRAPHQL_MAX_ALIASES. */
const BATCH = 50;
/** Upper bounds only: every wait below is for a state, checked every half second. */
const DEADLINE_MS = 180_000;

const workflow = {
  name: 'a thousand waits',
  nodes: [
    { id: 'start', type: 'trigger.manual' },
    // Even executions are released by one event, odd ones by a signal each.
    { id: 'w', type: 'wait', parameters: { event: 'release', match: 'event.half = trigger.i % 2' } },
    { id: 'done', type: 'noop' },
  ],
  connections: [
    { source: 'start', target: 'w' },
    { source: 'w', target: 'done' },
  ],
};

const batches = (count: number): number[][] =>
  Array.from({ length: Math.ceil(count / BATCH) }, (_, b) => Array.from({ length: Math.min(BATCH, count - b * BATCH) }, (_, i) => b * BATCH + i));

describe('a server killed while 1,000 executions wait', () => {
  let database: TestDatabase;
  let sql: pg.Client;
  const launched: ServerProcess[] = [];
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await killAll(launched);
    await sql?.end();
    await database?.drop();
  });

  const launch = async (env: Record<string, string>) => {
    const server = await launchServer(env);
    launched.push(server);
    return server;
  };
  const count = async (query: string) => (await sql.query<{ n: number }>(query)).rows[0]!.n;
  const completed = async (server: ServerProcess, workflowId: string) =>
    (await server.gql(`query($id: ID!) { executions(workflowId: $id, status: COMPLETED, first: 1) { totalCount } }`, { id: workflowId })).executions.totalCount as number;

  it('after SIGKILL and a restart on the same database, an event and signals complete every one of them', { timeout: 360_000 }, async () => {
    const env = { DATABASE_URL: database.url, PORT: String(await freePort()) };
    const first = await launch(env);
    sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
    const workflowId: string = (await first.gql(`mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id } }`, { input: workflow })).createWorkflow.id;

    const ids: string[] = [];
    for (const batch of batches(EXECUTIONS)) {
      const fields = batch.map((i) => `s${i}: startTrigger(workflowId: $id, triggerNodeId: "start", data: { i: ${i} }) { id }`);
      const answer = await first.gql<Record<string, { id: string }>>(`mutation($id: ID!) { ${fields.join(' ')} }`, { id: workflowId });
      for (const i of batch) ids[i] = answer[`s${i}`]!.id;
    }
    // Each waiting node is a row, and nothing else: the process holds no timer or closure for it.
    await poll(
      () => count('SELECT count(*)::int AS n FROM waits'),
      (n) => n === EXECUTIONS,
      DEADLINE_MS,
      500,
      'every wait to be a row',
    );

    first.child.kill('SIGKILL');
    await first.exited;
    const second = await launch(env);

    // One event releases the even half (its match); the odd half still waits: each signal below
    // would be refused (INVALID_FLOW_STATE) for a node the event had completed.
    await second.gql(`mutation { emitEvent(name: "release", data: { half: 0, by: "event" }) { id } }`);
    await poll(
      () => count('SELECT count(*)::int AS n FROM waits'),
      (n) => n === EXECUTIONS / 2,
      DEADLINE_MS,
      500,
      'the released waits to be removed',
    );
    const odd = ids.filter((_, i) => i % 2 === 1);
    for (const batch of batches(odd.length)) {
      const fields = batch.map((i) => `g${i}: signalNode(executionId: "${odd[i]}", nodeId: "w", data: { by: "signal" }) { status }`);
      const answer = await second.gql<Record<string, { status: string }>>(`mutation { ${fields.join(' ')} }`);
      expect(new Set(Object.values(answer).map((node) => node.status))).toEqual(new Set(['COMPLETED']));
    }

    await poll(
      () => completed(second, workflowId),
      (n) => n === EXECUTIONS,
      DEADLINE_MS,
      500,
      'every execution to complete',
    );
    expect(await count('SELECT count(*)::int AS n FROM waits')).toBe(0);
    const outputOf = async (id: string) => (await second.gql(`query($id: ID!) { execution(id: $id) { nodeStates { nodeId output } } }`, { id })).execution.nodeStates;
    expect(await outputOf(ids[0]!)).toContainEqual({ nodeId: 'w', output: { half: 0, by: 'event' } });
    expect(await outputOf(ids[1]!)).toContainEqual({ nodeId: 'w', output: { by: 'signal' } });
  });
});
