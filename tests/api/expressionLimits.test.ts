import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';
import { freePort, launchServer, type ServerProcess, killAll, poll as pollUntil } from '../support/serverProcess.js';
import { HOSTILE } from '../support/hostileExpressions.js';

interface NodeView {
  nodeId: string;
  status: string;
  errorCode: string | null;
  error: string | null;
}

/** This file's waits: at most `timeoutMs`, checked every 50 ms. */
const poll = <T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> => pollUntil(read, done, timeoutMs, 50);

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** How long `{ __typename }` takes to answer over HTTP. */
async function probe(server: ServerProcess): Promise<number> {
  const begun = performance.now();
  expect(await server.gql('{ __typename }')).toEqual({ __typename: 'Query' });
  return performance.now() - begun;
}

const oneTransform = (mapping: string) => ({
  name: 'hostile',
  nodes: [
    { id: 'start', type: 'trigger.manual' },
    { id: 'map', type: 'transform', parameters: { mapping } },
  ],
  connections: [{ source: 'start', target: 'map' }],
});

describe('hostile expressions against a server process', () => {
  let database: TestDatabase;
  const launched: ServerProcess[] = [];
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await killAll(launched);
    await database.drop();
  });

  const launch = async (env: Record<string, string> = {}) => {
    const server = await launchServer({ DATABASE_URL: database.url, PORT: String(await freePort()), ...env });
    launched.push(server);
    return server;
  };

  const start = async (server: ServerProcess, mapping: string): Promise<string> => {
    const { createWorkflow } = await server.gql(`mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id } }`, { input: oneTransform(mapping) });
    const { startTrigger } = await server.gql(`mutation($id: ID!) { startTrigger(workflowId: $id, triggerNodeId: "start") { id } }`, { id: createWorkflow.id });
    return startTrigger.id;
  };

  const mapNode = async (server: ServerProcess, executionId: string): Promise<NodeView | undefined> => {
    const { execution } = await server.gql(`query($id: ID!) { execution(id: $id) { nodeStates { nodeId status errorCode error } } }`, { id: executionId });
    return (execution?.nodeStates as NodeView[] | undefined)?.find((node) => node.nodeId === 'map');
  };

  it.each(Object.entries(HOSTILE))('%s: the node fails with EXPRESSION_LIMIT while { __typename } keeps answering fast', { timeout: 120_000 }, async (_, mapping) => {
    const server = launched[0] ?? (await launch());
    // Warm: the first evaluation also starts the evaluation worker.
    await start(server, '1');
    const executionId = await start(server, mapping);
    const probes: number[] = [];
    const node = await poll(
      async () => {
        probes.push(await probe(server));
        return mapNode(server, executionId);
      },
      (view) => view?.status === 'FAILED',
    );
    expect(node).toMatchObject({ status: 'FAILED', errorCode: 'EXPRESSION_LIMIT' });
    expect(node!.error).toMatch(/^EXPRESSION_LIMIT: /);
    // The median, so that one probe that a busy machine delayed does not decide it.
    expect(median(probes)).toBeLessThan(200);
  });

  it('comes back after SIGKILL during an evaluation, serves, and ends the node with EXPRESSION_LIMIT', { timeout: 120_000 }, async () => {
    // A long bound for the first process, so that the kill surely lands during the evaluation.
    const first = await launch({ EXPRESSION_TIMEOUT_MS: '30000' });
    const executionId = await start(first, HOSTILE.spin);
    // A side-effect-free node is QUEUED (not yet started) while it evaluates.
    await poll(
      () => mapNode(first, executionId),
      (view) => view?.status === 'QUEUED',
    );
    first.child.kill('SIGKILL');
    await first.exited;
    const second = await launch();
    const probes: number[] = [];
    const node = await poll(
      async () => {
        probes.push(await probe(second));
        return mapNode(second, executionId);
      },
      (view) => view?.status === 'FAILED',
    );
    expect(node).toMatchObject({ status: 'FAILED', errorCode: 'EXPRESSION_LIMIT' });
    expect(median(probes)).toBeLessThan(200);
  });
});
