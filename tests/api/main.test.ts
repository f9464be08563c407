import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The server as a real process, `src/main.ts` under tsx as `npm start` runs it, but with tsx as
 * a loader in one node process: npx and the tsx CLI sit between us and the server as parent
 * processes, and npx does not pass SIGTERM on.
 */
interface Running {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const launched: ChildProcess[] = [];

function launch(env: Record<string, string>): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, LOG_LEVEL: 'warn', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  launched.push(child);
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, url: `http://127.0.0.1:${env.PORT}`, output: () => output, exited };
}

async function waitForHealth(running: Running): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const response = await fetch(`${running.url}/health`).catch(() => null);
    if (response?.ok) return;
    if (Date.now() > deadline || running.child.exitCode !== null) throw new Error(`server did not come up:\n${running.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The key the first start made and left in the data directory (the bootstrap of an embedded default). */
let adminKey = '';

async function gql(running: Running, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(`${running.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data: any; errors?: unknown };
  expect(body.errors).toBeUndefined();
  return body.data;
}

describe('main: the server as a process', () => {
  let dataDir: string;
  let port: number;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'cascade-main-'));
    port = await freePort();
  });
  afterAll(async () => {
    // A failed test may leave its server running: don't let it outlive the run.
    for (const child of launched) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  // A fresh PGlite data directory takes seconds to initialise.
  it('serves, runs a workflow, stops cleanly on SIGTERM and keeps its data across a restart', { timeout: 240_000 }, async () => {
    const first = launch({ DATA_DIR: dataDir, PORT: String(port) });
    await waitForHealth(first);
    adminKey = (await readFile(join(dataDir, 'admin-key'), 'utf8')).trim();
    const graphiql = await fetch(`${first.url}/graphiql`);
    expect(graphiql.status).toBe(200);
    expect(graphiql.headers.get('content-type')).toMatch(/text\/html/);

    const { createWorkflow } = await gql(first, `mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id } }`, {
      input: {
        name: 'kept',
        nodes: [
          { id: 'start', type: 'trigger.manual' },
          { id: 'done', type: 'noop' },
        ],
        connections: [{ source: 'start', target: 'done' }],
      },
    });
    const { startTrigger } = await gql(first, `mutation($id: ID!) { startTrigger(workflowId: $id, triggerNodeId: "start") { id } }`, { id: createWorkflow.id });
    const status = async () => (await gql(first, `query($id: ID!) { execution(id: $id) { status } }`, { id: startTrigger.id })).execution?.status;
    await expect.poll(status, { timeout: 10_000 }).toBe('COMPLETED');
    first.child.kill('SIGTERM');
    expect(await first.exited, first.output()).toBe(0);

    const second = launch({ DATA_DIR: dataDir, PORT: String(port) });
    await waitForHealth(second);
    const { workflows, execution } = await gql(second, `query($id: ID!) { workflows { id name } execution(id: $id) { status } }`, { id: startTrigger.id });
    expect(workflows).toEqual([{ id: createWorkflow.id, name: 'kept' }]);
    expect(execution).toEqual({ status: 'COMPLETED' });
    second.child.kill('SIGTERM');
    expect(await second.exited, second.output()).toBe(0);
  });

  it('exits 1 on bad configuration, saying what is wrong', { timeout: 90_000 }, async () => {
    const running = launch({ DATA_DIR: dataDir, PORT: 'abc' });
    expect(await running.exited).toBe(1);
    expect(running.output()).toContain('PORT must be an integer between 0 and 65535, got "abc"');
  });
});
