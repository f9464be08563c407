import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';
import { freePort, launchServer, poll, postGraphQL, type ServerProcess } from '../support/serverProcess.js';

const DEADLINE_MS = 60_000;

/**
 * A TCP hop between the server and PostgreSQL that the test can take down and bring back: the
 * database as a failover shows it (every connection reset, new ones refused), and back again.
 */
class DatabaseLink {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(readonly port: number) {}

  async up(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(5432, '127.0.0.1');
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => server?.close(resolve));
  }
}

const workflow = {
  name: 'outage',
  nodes: [
    { id: 'start', type: 'trigger.manual' },
    { id: 'double', type: 'transform', parameters: { mapping: 'trigger.n * 2' } },
    { id: 'wait', type: 'delay', parameters: { ms: 20 } },
    { id: 'done', type: 'merge' },
  ],
  connections: [
    { source: 'start', target: 'double' },
    { source: 'start', target: 'wait' },
    { source: 'double', target: 'done' },
    { source: 'wait', target: 'done' },
  ],
};

const START = `mutation($id: ID!, $n: Int!) { startTrigger(workflowId: $id, triggerNodeId: "start", data: { n: $n }) { id } }`;
const STATUS = `query($id: ID!) { execution(id: $id) { status } }`;

describe('a server process whose database goes away and comes back', () => {
  let database: TestDatabase;
  let link: DatabaseLink;
  let server: ServerProcess | null = null;
  beforeAll(async () => {
    database = await createTestDatabase();
    link = new DatabaseLink(await freePort());
    await link.up();
  });
  afterAll(async () => {
    if (server && server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
    await server?.exited;
    await link.down();
    await database.drop();
  });

  it('answers DATABASE_UNAVAILABLE (503) meanwhile, stays up, and goes on where it was once the database is back', { timeout: 180_000 }, async () => {
    const url = new URL(database.url);
    url.port = String(link.port);
    server = await launchServer({ DATABASE_URL: url.toString(), PORT: String(await freePort()) });
    const running = server;
    const { createWorkflow } = await running.gql(`mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id } }`, { input: workflow });
    const workflowId: string = createWorkflow.id;
    const status = async (id: string) => ((await postGraphQL(running, STATUS, { id })).body.data?.execution?.status ?? null) as string | null;
    const before: string = (await running.gql(START, { id: workflowId, n: 1 })).startTrigger.id;
    await poll(
      () => status(before),
      (seen) => seen === 'COMPLETED',
      DEADLINE_MS,
    );

    await link.down();
    const refused = await postGraphQL(running, START, { id: workflowId, n: 2 });
    expect(refused.status).toBe(503);
    expect(refused.body.errors?.map((error) => error.extensions?.code)).toEqual(['DATABASE_UNAVAILABLE']);
    expect(JSON.stringify(refused.body)).not.toMatch(/ECONN|5432|stack/);
    const query = await postGraphQL(running, `{ executions { totalCount } }`);
    expect([query.status, query.body.errors?.[0]?.extensions?.code]).toEqual([503, 'DATABASE_UNAVAILABLE']);
    expect((await fetch(`${running.url}/health`)).status).toBe(503);
    // The background loops meet the outage too (each reports it), and the process lives on.
    await poll(
      async () => running.output(),
      (output) => /runtime error/.test(output) && /projection error/.test(output),
      DEADLINE_MS,
    );
    expect(running.child.exitCode, running.output()).toBeNull();

    await link.up();
    const after = await poll(
      () => postGraphQL(running, START, { id: workflowId, n: 3 }),
      (answer) => answer.body.data?.startTrigger !== undefined || answer.body.errors?.[0]?.extensions?.code !== 'DATABASE_UNAVAILABLE',
      DEADLINE_MS,
    );
    const afterId: string = after.body.data.startTrigger.id;
    await poll(
      () => status(afterId),
      (seen) => seen === 'COMPLETED',
      DEADLINE_MS,
    );
    expect((await fetch(`${running.url}/health`)).status).toBe(200);
    expect(running.child.exitCode, running.output()).toBeNull();

    running.child.kill('SIGTERM');
    expect(await running.exited, running.output()).toBe(0);
  });
});
