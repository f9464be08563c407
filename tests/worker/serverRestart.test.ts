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

  it('reconnects by itself after a SIGTERM and a SIGKILL of the server, and runs the jobs started after each restart', { timeout: DEADLINE_MS * 3 }, async () => {
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

    let server = first;
    // SIGTERM: the server completes the subscription before it closes; SIGKILL: the socket just drops.
    for (const [round, signal] of (['SIGTERM', 'SIGKILL'] as const).entries()) {
      server.child.kill(signal);
      await server.exited;
      server = await launchServer(env);
      servers.push(server);
      const current = server;
      const { startTrigger } = await current.gql('mutation ($id: ID!, $data: JSON) { startTrigger(workflowId: $id, triggerNodeId: "start", data: $data) { id } }', {
        id: createWorkflow.id,
        data: { n: round },
      });
      const { execution } = await poll(
        () => current.gql('query ($id: ID!) { execution(id: $id) { status nodeStates { nodeId output } } }', { id: startTrigger.id }),
        ({ execution }) => execution?.status === 'COMPLETED',
        DEADLINE_MS,
        100,
        `the execution after ${signal} to complete`,
      );
      expect(execution.nodeStates.find((node: { nodeId: string }) => node.nodeId === 'work').output).toEqual({ doubled: round * 2, by: 'A' });
    }
  });
});
