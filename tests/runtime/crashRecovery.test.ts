import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';
import { freePort, launchServer, type ServerProcess, killAll, poll as pollUntil } from '../support/serverProcess.js';

interface LoggedEvent {
  eventNumber: number;
  type: string;
  data: { nodeId?: string; attempt?: number };
}

/** This file's waits: at most 30 s, checked every 50 ms. */
const poll = <T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> => pollUntil(read, done, 30_000, 50);

const workflow = {
  name: 'crash',
  nodes: [
    { id: 'start', type: 'trigger.manual' },
    { id: 'wait', type: 'delay', parameters: { ms: 1_500 } },
    { id: 'ext', type: 'external', parameters: { queue: 'crash-q' }, retry: { maxAttempts: 2, initialDelayMs: 0 } },
    { id: 'join', type: 'merge' },
  ],
  connections: [
    { source: 'start', target: 'wait' },
    { source: 'start', target: 'ext' },
    { source: 'wait', target: 'join' },
    { source: 'ext', target: 'join' },
  ],
};

/** What each node went through: the worker's first attempt is lost with the process and retried. */
const EXPECTED_PER_NODE: Record<string, string[]> = {
  start: ['NodeQueued:1', 'NodeStarted:1', 'NodeCompleted:1'],
  wait: ['NodeQueued:1', 'NodeStarted:1', 'NodeCompleted:1'],
  ext: ['NodeQueued:1', 'NodeStarted:1', 'NodeRetryScheduled:1', 'NodeStarted:2', 'NodeCompleted:2'],
  join: ['NodeQueued:1', 'NodeStarted:1', 'NodeCompleted:1'],
};

describe('a server process killed with work in flight', () => {
  let database: TestDatabase;
  const launched: ServerProcess[] = [];
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await killAll(launched);
    await database.drop();
  });

  const launch = async (env: Record<string, string>) => {
    const server = await launchServer(env);
    launched.push(server);
    return server;
  };

  it('after SIGKILL and a restart, finishes the delay and retries the lost external attempt: every node completes once', { timeout: 60_000 }, async () => {
    const env = { DATABASE_URL: database.url, PORT: String(await freePort()) };
    const first = await launch(env);
    const { createWorkflow } = await first.gql(`mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id } }`, { input: workflow });
    const { startTrigger } = await first.gql(`mutation($id: ID!) { startTrigger(workflowId: $id, triggerNodeId: "start", data: { n: 1 }) { id } }`, {
      id: createWorkflow.id,
    });
    const executionId: string = startTrigger.id;
    // The first claim's lease is short so that it runs out soon after the kill; the second one's is
    // long, so that a slow machine cannot let attempt 2 (the last) expire before it completes.
    const claim = async (server: ServerProcess, leaseMs = 1000) =>
      (await server.gql(`mutation { claimNodes(queue: "crash-q", workerId: "worker", max: 1, leaseMs: ${leaseMs}) { executionId nodeId attempt } }`)).claimNodes as Array<{
        nodeId: string;
        attempt: number;
      }>;
    const events = async (server: ServerProcess) =>
      (await server.gql(`query($id: ID!) { executionEvents(executionId: $id, first: 1000) { eventNumber type data } }`, { id: executionId })).executionEvents as LoggedEvent[];

    expect(
      await poll(
        () => claim(first),
        (jobs) => jobs.length > 0,
      ),
    ).toEqual([{ executionId, nodeId: 'ext', attempt: 1 }]);
    await poll(
      () => events(first),
      (log) => log.some((event) => event.type === 'NodeStarted' && event.data.nodeId === 'wait'),
    );
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await launch(env);
    // The killed worker's lease runs out, and the node is offered again as attempt 2.
    expect(
      await poll(
        () => claim(second, 30_000),
        (jobs) => jobs.length > 0,
      ),
    ).toEqual([{ executionId, nodeId: 'ext', attempt: 2 }]);
    await second.gql(`mutation($id: ID!) { completeNode(executionId: $id, nodeId: "ext", output: { done: true }) { status } }`, { id: executionId });
    const log = await poll(
      () => events(second),
      (all) => all.at(-1)?.type === 'ExecutionCompleted',
    );

    expect(log[0]!.type).toBe('ExecutionStarted');
    expect(log.map((event) => event.eventNumber)).toEqual(log.map((_, i) => i + 1));
    const perNode: Record<string, string[]> = {};
    for (const { type, data } of log.slice(1, -1)) (perNode[data.nodeId ?? type] ??= []).push(`${type}:${data.attempt}`);
    expect(perNode).toEqual(EXPECTED_PER_NODE);
    // The read model follows the log: it shows the end a moment after the log has it.
    const status = async () => (await second.gql(`query($id: ID!) { execution(id: $id) { status } }`, { id: executionId })).execution.status as string;
    expect(await poll(status, (seen) => seen === 'COMPLETED')).toBe('COMPLETED');
    second.child.kill('SIGTERM');
    expect(await second.exited, second.output()).toBe(0);
  });
});
