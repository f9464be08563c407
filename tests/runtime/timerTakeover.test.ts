import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';
import { TIMER_LEASE_MS } from '../../src/runtime/timers/timers.js';
import { freePort, launchServer, type ServerProcess, killAll, poll as pollUntil } from '../support/serverProcess.js';

/** The scheduler's longest sleep (timers.ts POLL_MS): a waiting process looks again at least this often. */
const POLL_MS = 5_000;
/** Room for a busy machine to send and commit the command once the timer is claimed. */
const FIRE_MARGIN_MS = 5_000;

/** This file's waits: at most 60 s, checked every 50 ms. */
const poll = <T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> => pollUntil(read, done, 60_000, 50, what);

const workflow = {
  name: 'takeover',
  nodes: [
    { id: 'start', type: 'trigger.manual' },
    // An hour: the test makes it due when it is ready, instead of racing a short one.
    { id: 'wait', type: 'delay', parameters: { ms: 3_600_000 } },
    { id: 'after', type: 'noop' },
  ],
  connections: [
    { source: 'start', target: 'wait' },
    { source: 'wait', target: 'after' },
  ],
};

describe('a delay timer claimed by a process that dies', () => {
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

  const launch = async () => {
    const server = await launchServer({ DATABASE_URL: database.url, PORT: String(await freePort()) });
    launched.push(server);
    return server;
  };

  const lockedUntil = async (executionId: string) => {
    const { rows } = await sql.query<{ locked_until: Date | null }>(`SELECT locked_until FROM timers WHERE kind = 'delay' AND execution_id = $1`, [executionId]);
    return rows[0] === undefined ? undefined : (rows[0].locked_until?.getTime() ?? null);
  };

  it('is renewed while the fire lasts, and fired by another process within the lease and a poll after a SIGKILL', { timeout: 180_000 }, async () => {
    const first = await launch();
    const { createWorkflow } = await first.gql(`mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id } }`, { input: workflow });
    const { startTrigger } = await first.gql(`mutation($id: ID!) { startTrigger(workflowId: $id, triggerNodeId: "start") { id } }`, { id: createWorkflow.id });
    const executionId: string = startTrigger.id;
    await poll(
      () => lockedUntil(executionId),
      (value) => value === null,
      'the delay timer',
    );

    // The execution stream's append lock (cascade_append_batch): held here, the first process's
    // fire blocks in its append after claiming, as a fire on a slow database would.
    await sql.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [`execution-${executionId}`]);
    // In milliseconds, as the runtime writes due times (a claim is renewed and removed by its due time).
    await sql.query(`UPDATE timers SET due_at = date_trunc('milliseconds', now()) WHERE kind = 'delay' AND execution_id = $1`, [executionId]);
    const claimed = await poll(
      () => lockedUntil(executionId),
      (value) => typeof value === 'number',
      'the first process to claim the timer',
    );
    // A lease, not a long lock; renewed while the fire is in progress, so no one takes it over meanwhile.
    expect(claimed! - Date.now()).toBeLessThanOrEqual(TIMER_LEASE_MS + 1_000);
    await poll(
      () => lockedUntil(executionId),
      (value) => typeof value === 'number' && value > claimed!,
      'the lease to be renewed',
    );

    const second = await launch();
    first.child.kill('SIGKILL');
    await first.exited;
    const killedAt = Date.now();
    // The database drops the dead process's session (its blocked append would otherwise finish the
    // fire for it once the lock is released); then the lock goes, and only the second process is left.
    await sql.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))');
    await sql.query('SELECT pg_advisory_unlock_all()');

    const nodes = async () =>
      (await second.gql(`query($id: ID!) { executionEvents(executionId: $id, first: 1000) { type data } }`, { id: executionId })).executionEvents as Array<{
        type: string;
        data: { nodeId?: string };
      }>;
    const log = await poll(nodes, (events) => events.some((event) => event.type === 'NodeCompleted' && event.data.nodeId === 'wait'), 'the delay to complete');
    expect(Date.now() - killedAt).toBeLessThan(TIMER_LEASE_MS + POLL_MS + FIRE_MARGIN_MS);
    expect(log.filter((event) => event.type === 'NodeCompleted' && event.data.nodeId === 'wait')).toHaveLength(1);
    await poll(nodes, (events) => events.at(-1)?.type === 'ExecutionCompleted', 'the execution to complete');
    second.child.kill('SIGTERM');
    expect(await second.exited, second.output()).toBe(0);
  });
});
