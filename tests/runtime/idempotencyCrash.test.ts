import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';
import { freePort, launchServer, type ServerProcess, killAll } from '../support/serverProcess.js';

const KEYS = Array.from({ length: 60 }, (_, i) => `crash-key-${i}`);
const START = `mutation($id: ID!, $key: String, $data: JSON) { startTrigger(workflowId: $id, triggerNodeId: "start", data: $data, idempotencyKey: $key) { id } }`;
const workflow = {
  name: 'keyed starts',
  nodes: [
    { id: 'start', type: 'trigger.manual' },
    { id: 'done', type: 'noop' },
  ],
  connections: [{ source: 'start', target: 'done' }],
};

describe('idempotent starts across a kill -9', () => {
  let database: TestDatabase;
  let sql: pg.Client;
  const launched: ServerProcess[] = [];
  beforeAll(async () => {
    database = await createTestDatabase();
    sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
  });
  afterAll(async () => {
    await killAll(launched);
    await sql?.end();
    await database.drop();
  });

  const launch = async (port: number) => {
    const server = await launchServer({ DATABASE_URL: database.url, PORT: String(port) });
    launched.push(server);
    return server;
  };
  const startWith = async (server: ServerProcess, workflowId: string, key: string): Promise<string> =>
    (await server.gql(START, { id: workflowId, key, data: { key } })).startTrigger.id;

  it('gives exactly one execution per key when every start is retried after the crash, on two processes at once', { timeout: 240_000 }, async () => {
    const port = await freePort();
    const first = await launch(port);
    const workflowId: string = (await first.gql(`mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id } }`, { input: workflow })).createWorkflow.id;

    // Every start at once; the process dies once a few have been answered, the rest in flight.
    const answeredBefore = new Map<string, string>();
    let killed!: () => void;
    const enoughAnswered = new Promise<void>((resolve) => (killed = resolve));
    const inFlight = KEYS.map((key) =>
      startWith(first, workflowId, key).then(
        (id) => {
          answeredBefore.set(key, id);
          if (answeredBefore.size >= 5) killed();
        },
        () => undefined,
      ),
    );
    await enoughAnswered;
    first.child.kill('SIGKILL');
    await first.exited;
    await Promise.all(inFlight);
    expect(answeredBefore.size).toBeLessThan(KEYS.length);

    // The client retries every start with its key, on the restarted process and on another one at once.
    const [restarted, other] = [await launch(port), await launch(await freePort())];
    const retried = await Promise.all(KEYS.map(async (key) => [key, await Promise.all([startWith(restarted, workflowId, key), startWith(other, workflowId, key)])] as const));

    for (const [key, [a, b]] of retried) {
      expect(a, key).toBe(b);
      if (answeredBefore.has(key)) expect(a, key).toBe(answeredBefore.get(key));
    }
    const ids = retried.map(([, [id]]) => id);
    expect(new Set(ids).size).toBe(KEYS.length);
    const { rows } = await sql.query<{ id: string }>(`SELECT data->>'executionId' AS id FROM events WHERE type = 'ExecutionStarted' AND data->>'workflowId' = $1`, [workflowId]);
    expect(rows.map((row) => row.id).sort()).toEqual([...ids].sort());

    for (const server of [restarted, other]) {
      server.child.kill('SIGTERM');
      expect(await server.exited, server.output()).toBe(0);
    }
  });
});
