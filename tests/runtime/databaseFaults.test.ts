import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';
import { freePort, launchServer, poll, postGraphQL, type ServerProcess } from '../support/serverProcess.js';

const EXECUTIONS = 200;
const STARTS_AT_ONCE = 10;
/** Generous: the machine is shared and slow; the test waits for conditions, not for time. */
const SETTLE_DEADLINE_MS = 240_000;

const workflow = {
  name: 'faults',
  nodes: [
    { id: 'start', type: 'trigger.manual' },
    { id: 'price', type: 'transform', parameters: { mapping: 'trigger.n * 2' } },
    { id: 'pause', type: 'delay', parameters: { ms: 50 } },
    { id: 'label', type: 'transform', parameters: { mapping: "'n' & $string(trigger.n)" } },
    { id: 'join', type: 'merge' },
    { id: 'after', type: 'transform', parameters: { mapping: 'input.join.price' } },
  ],
  connections: [
    { source: 'start', target: 'price' },
    { source: 'start', target: 'pause' },
    { source: 'start', target: 'label' },
    { source: 'price', target: 'join' },
    { source: 'pause', target: 'join' },
    { source: 'label', target: 'join' },
    { source: 'join', target: 'after' },
  ],
};

describe('a server process whose database connections are terminated under load', () => {
  let database: TestDatabase;
  let admin: pg.Client;
  let server: ServerProcess | null = null;
  beforeAll(async () => {
    database = await createTestDatabase();
    const url = new URL(database.url);
    url.pathname = '/postgres';
    admin = new pg.Client({ connectionString: url.toString() });
    await admin.connect();
  });
  afterAll(async () => {
    if (server && server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
    await server?.exited;
    await admin.end();
    await database.drop();
  });

  /** What a failover or a DBA does: every connection of the server to its database ends at once. */
  const terminateAll = async (): Promise<number> => {
    const { rows } = await admin.query('SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database.name]);
    return rows.length;
  };

  it('stays up, completes every execution, runs no attempt twice and keeps the read model equal to the log', { timeout: 400_000 }, async () => {
    server = await launchServer({ DATABASE_URL: database.url, PORT: String(await freePort()) });
    const running = server;
    const { createWorkflow } = await running.gql(`mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id } }`, { input: workflow });
    const workflowId: string = createWorkflow.id;

    // Starts refused while the database is away are coded, and the client tries again.
    const refusals = new Map<string, number>();
    const startOne = async (n: number): Promise<string> => {
      for (;;) {
        const answer = await postGraphQL(running, `mutation($id: ID!, $n: Int!) { startTrigger(workflowId: $id, triggerNodeId: "start", data: { n: $n }) { id } }`, {
          id: workflowId,
          n,
        });
        if (answer.body.data?.startTrigger) return answer.body.data.startTrigger.id as string;
        const code = answer.body.errors?.[0]?.extensions?.code ?? `HTTP ${answer.status}`;
        refusals.set(code, (refusals.get(code) ?? 0) + 1);
        expect(code, JSON.stringify(answer.body)).toBe('DATABASE_UNAVAILABLE');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    let loadDone = false;
    const load = (async () => {
      const ids: string[] = [];
      for (let next = 0; next < EXECUTIONS; next += STARTS_AT_ONCE) {
        const batch = Array.from({ length: Math.min(STARTS_AT_ONCE, EXECUTIONS - next) }, (_, i) => startOne(next + i));
        ids.push(...(await Promise.all(batch)));
      }
      return ids;
    })().finally(() => (loadDone = true));
    load.catch(() => {}); // awaited below; a failed start must not count as unhandled meanwhile

    // Terminations at varied moments of the load: between queries, inside them, inside transactions.
    const rounds: number[] = [];
    while (!loadDone || rounds.length < 8) {
      await new Promise((resolve) => setTimeout(resolve, 150 + Math.floor(Math.random() * 250)));
      rounds.push(await terminateAll());
    }
    const started = await load;
    expect(rounds.filter((terminated) => terminated > 0).length).toBeGreaterThanOrEqual(5);

    // A pooled connection the last round terminated may answer one more query with the documented
    // DATABASE_UNAVAILABLE (try again): that reading does not count.
    const countOf = async (status: string | null): Promise<number> => {
      try {
        const { executions } = await running.gql(`query($id: ID, $status: ExecutionStatus) { executions(workflowId: $id, status: $status) { totalCount } }`, {
          id: workflowId,
          status,
        });
        return executions.totalCount as number;
      } catch (error) {
        if ((error as Error).message.includes('DATABASE_UNAVAILABLE')) return -1;
        throw error;
      }
    };
    await poll(
      async () => ({ completed: await countOf('COMPLETED'), all: await countOf(null) }),
      ({ completed, all }) => completed >= 0 && all >= started.length && completed === all,
      SETTLE_DEADLINE_MS,
      200,
    );
    expect(running.child.exitCode, running.output()).toBeNull();

    // Straight from the log: one of each lifecycle event per execution and per node attempt.
    const log = new pg.Client({ connectionString: database.url });
    await log.connect();
    try {
      const duplicates = await log.query(
        `SELECT stream_id, type, data->>'nodeId' AS node, data->>'attempt' AS attempt, count(*)::int AS n FROM events
         WHERE stream_id LIKE 'execution-%' AND type <> 'NodeProgressReported'
         GROUP BY 1, 2, 3, 4 HAVING count(*) > 1 LIMIT 10`,
      );
      expect(duplicates.rows).toEqual([]);
      const starts = await log.query(`SELECT count(*)::int AS n FROM events WHERE type = 'NodeStarted' AND stream_id = ANY($1::text[])`, [started.map((id) => `execution-${id}`)]);
      expect(starts.rows[0].n).toBe(started.length * workflow.nodes.length);
    } finally {
      await log.end();
    }
    for (const id of started) {
      const { replayCheck } = await running.gql(`query($id: ID!) { replayCheck(executionId: $id) { consistent differences { path expected actual } } }`, { id });
      expect(replayCheck, id).toEqual({ consistent: true, differences: [] });
    }

    running.child.kill('SIGTERM');
    expect(await running.exited, running.output()).toBe(0);
  });
});
