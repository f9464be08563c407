import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../src/db/testDatabase.js';
import { freePort, launchServer, type ServerProcess } from '../support/serverProcess.js';

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

interface Answer {
  status: number;
  body: { data?: any; errors?: Array<{ message: string; extensions?: { code?: string } }> };
}

async function post(server: ServerProcess, query: string, variables: Record<string, unknown> = {}): Promise<Answer> {
  const response = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

async function poll<T>(read: () => Promise<T>, done: (value: T) => boolean, deadlineMs = 60_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting, last seen: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
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
    const status = async (id: string) => ((await post(running, STATUS, { id })).body.data?.execution?.status ?? null) as string | null;
    const before: string = (await running.gql(START, { id: workflowId, n: 1 })).startTrigger.id;
    await poll(
      () => status(before),
      (seen) => seen === 'COMPLETED',
    );

    await link.down();
    const refused = await post(running, START, { id: workflowId, n: 2 });
    expect(refused.status).toBe(503);
    expect(refused.body.errors?.map((error) => error.extensions?.code)).toEqual(['DATABASE_UNAVAILABLE']);
    expect(JSON.stringify(refused.body)).not.toMatch(/ECONN|5432|stack/);
    const query = await post(running, `{ executions { totalCount } }`);
    expect([query.status, query.body.errors?.[0]?.extensions?.code]).toEqual([503, 'DATABASE_UNAVAILABLE']);
    expect((await fetch(`${running.url}/health`)).status).toBe(503);
    // The background loops meet the outage too (each reports it), and the process lives on.
    await poll(
      async () => running.output(),
      (output) => /runtime error/.test(output) && /projection error/.test(output),
    );
    expect(running.child.exitCode, running.output()).toBeNull();

    await link.up();
    const after = await poll(
      () => post(running, START, { id: workflowId, n: 3 }),
      (answer) => answer.body.data?.startTrigger !== undefined || answer.body.errors?.[0]?.extensions?.code !== 'DATABASE_UNAVAILABLE',
    );
    const afterId: string = after.body.data.startTrigger.id;
    await poll(
      () => status(afterId),
      (seen) => seen === 'COMPLETED',
    );
    expect((await fetch(`${running.url}/health`)).status).toBe(200);
    expect(running.child.exitCode, running.output()).toBeNull();

    running.child.kill('SIGTERM');
    expect(await running.exited, running.output()).toBe(0);
  });
});
