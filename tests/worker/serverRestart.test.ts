import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';
import { freePort, killAll, launchServer, poll, type ServerProcess } from '../support/serverProcess.js';
import { killWorkers, launchWorker, prepareWorkerProgram, type WorkerProcess } from './workerProgram.js';

/** Upper bounds only: a busy 2-core machine starting tsx twice is slow. */
const DEADLINE_MS = 120_000;

describe('a worker whose server is killed and started again', () => {
  let database: TestDatabase;
  let program: Awaited<ReturnType<typeof prepareWorkerProgram>>;
  const servers: ServerProcess[] = [];
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    program = await prepareWorkerProgram();
    database = await createTestDatabase();
  }, 300_000);

  afterAll(async () => {
    await killWorkers(workers);
    await killAll(servers);
    await database?.drop();
    await program?.dispose();
  });

  it('reconnects by itself and runs the job started after the restart', { timeout: DEADLINE_MS * 3 }, async () => {
    const env = { DATABASE_URL: database.url, PORT: String(await freePort()) };
    const first = await launchServer(env);
    servers.push(first);
    const { createApiKey } = await first.gql('mutation { createApiKey(input: { name: "w", roles: [WORKER], queues: ["restart"], canViewPayloads: true }) { secret } }');
    const input = {
      name: 'restart',
      nodes: [
        { id: 'start', type: 'trigger.manual' },
        { id: 'work', type: 'external', parameters: { queue: 'restart' } },
      ],
      connections: [{ source: 'start', target: 'work' }],
    };
    const { createWorkflow } = await first.gql('mutation ($input: WorkflowInput!) { createWorkflow(input: $input) { id } }', { input });
    const worker = launchWorker(program.dir, { url: first.url, key: createApiKey.secret, queue: 'restart', name: 'A', mode: 'echo' });
    workers.push(worker);
    await worker.line((line) => line.event === 'listening', 'listening');

    first.child.kill('SIGKILL');
    await first.exited;
    const second = await launchServer(env);
    servers.push(second);
    const { startTrigger } = await second.gql('mutation ($id: ID!) { startTrigger(workflowId: $id, triggerNodeId: "start", data: { n: 8 }) { id } }', { id: createWorkflow.id });
    const { execution } = await poll(
      () => second.gql('query ($id: ID!) { execution(id: $id) { status nodeStates { nodeId output } } }', { id: startTrigger.id }),
      ({ execution }) => execution?.status === 'COMPLETED',
      DEADLINE_MS,
      100,
      'the execution to complete',
    );
    expect(execution.nodeStates.find((node: { nodeId: string }) => node.nodeId === 'work').output).toEqual({ doubled: 16, by: 'A' });
  });
});
