import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineNodeType } from '../../src/index.js';
import { BACKENDS, type Backend } from '../support/backends.js';
import { startApi, type Api } from './apiHarness.js';

const SECRET = 'tok-7f3a9c2e51d84b06';
const HOOK_SECRET = 'hook-secret-9d2c41';

/** A careless custom node: it logs the token it was given and reports it in its progress message. */
const chatty = defineNodeType<{ token: string }>({
  type: 'test.chatty',
  parameters: { type: 'object', required: ['token'], properties: { token: { type: 'string' } } },
  sideEffects: true,
  execute: async ({ parameters, log, reportProgress }) => {
    log.info(`calling with ${parameters.token}`, { token: parameters.token });
    await reportProgress(50, `sent ${parameters.token}`);
    return { output: { sent: true } };
  },
});

describe('secrets through the API', () => {
  const postgres = BACKENDS.find((backend) => backend.name === 'postgres')!;
  let backend: Backend;
  let api: Api;
  let recorder: Server;
  let recorderUrl: string;
  const authorizations: Array<string | undefined> = [];
  const logged: string[] = [];
  const answers: string[] = [];
  const gql = async (query: string, variables?: Record<string, unknown>) => {
    const answer = await api.gql(query, variables);
    answers.push(JSON.stringify(answer));
    return answer;
  };

  beforeAll(async () => {
    // Echoes the header it got: the token comes back in the node's output, and must be masked there.
    recorder = createServer((request, response) => {
      authorizations.push(request.headers.authorization);
      request.resume().on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ seen: request.headers.authorization })));
    });
    await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
    recorderUrl = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}`;
    backend = await postgres.create();
    const logger = pino({ level: 'trace' }, new Writable({ write: (chunk: Buffer, _, done) => (logged.push(chunk.toString()), done()) }));
    api = await startApi(backend, { logger, engine: { nodeTypes: [chatty], logger } });
  });
  afterAll(async () => {
    await api.close();
    await backend.dispose();
    await new Promise((resolve) => recorder.close(resolve));
  });

  it('reaches an http header and a custom node through $secrets, and its value shows nowhere: events, tables, log, progress, answers', async () => {
    const set = await gql(`mutation($value: String!) { setSecret(name: "API_TOKEN", value: $value) { name updatedAt } }`, { value: SECRET });
    expect(set.errors).toBeUndefined();
    expect(set.data.setSecret.name).toBe('API_TOKEN');
    expect((await gql(`{ secrets { name } }`)).data.secrets).toEqual([{ name: 'API_TOKEN' }]);

    const input = {
      name: 'uses a secret',
      nodes: [
        { id: 'start', type: 'trigger.manual' },
        { id: 'call', type: 'http', parameters: { url: recorderUrl, method: 'POST', headers: { authorization: 'Bearer {{ $secrets.API_TOKEN }}' }, body: '{{ trigger }}' } },
        { id: 'shape', type: 'transform', parameters: { mapping: '{ "echo": input.call.body.seen }' } },
        { id: 'chatty', type: 'test.chatty', parameters: { token: '{{ $secrets.API_TOKEN }}' } },
      ],
      connections: [
        { source: 'start', target: 'call' },
        { source: 'call', target: 'shape' },
        { source: 'start', target: 'chatty' },
      ],
    };
    const created = await gql(`mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id } }`, { input });
    const workflowId: string = created.data.createWorkflow.id;
    const started = await gql(`mutation($id: ID!) { startTrigger(workflowId: $id, triggerNodeId: "start", data: { order: 1 }) { id } }`, { id: workflowId });
    const id: string = started.data.startTrigger.id;
    const read = () => gql(`query($id: ID!) { execution(id: $id) { status nodeStates { nodeId status input output error } } }`, { id });
    await expect.poll(async () => (await read()).data.execution?.status, { timeout: 60_000, interval: 100 }).toBe('COMPLETED');
    await api.caughtUp();

    expect(authorizations).toEqual([`Bearer ${SECRET}`]);
    const nodes = (await read()).data.execution.nodeStates as Array<{ nodeId: string; output: unknown }>;
    expect(nodes.find((node) => node.nodeId === 'shape')!.output).toEqual({ echo: 'Bearer ***' });
    expect(logged.join('\n')).toContain('calling with ***');

    const { rows: events } = await backend.db.query<{ row: string }>('SELECT e::text AS row FROM events e');
    expect(events.length).toBeGreaterThan(0);
    expect(events.map((each) => each.row).join('\n')).not.toContain(SECRET);
    const { rows: tables } = await backend.db.query<{ name: string }>(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'secrets'",
    );
    for (const { name } of tables) {
      const { rows } = await backend.db.query<{ row: string }>(`SELECT t::text AS row FROM "${name}" t`);
      expect(rows.map((each) => each.row).join('\n'), name).not.toContain(SECRET);
    }
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.join('\n')).not.toContain(SECRET);
    expect(answers.join('\n')).not.toContain(SECRET);
  });

  it('fails a node that reads a secret nobody set with SECRET_NOT_FOUND, before it sends anything', async () => {
    const before = authorizations.length;
    const input = {
      name: 'reads a missing secret',
      nodes: [
        { id: 'start', type: 'trigger.manual' },
        { id: 'call', type: 'http', parameters: { url: recorderUrl, headers: { authorization: 'Bearer {{ $secrets.NOT_SET }}' } } },
      ],
      connections: [{ source: 'start', target: 'call' }],
    };
    const workflowId = (await gql(`mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id } }`, { input })).data.createWorkflow.id;
    const id = (await gql(`mutation($id: ID!) { startTrigger(workflowId: $id, triggerNodeId: "start") { id } }`, { id: workflowId })).data.startTrigger.id;
    const read = () => gql(`query($id: ID!) { execution(id: $id) { status error errorCode nodeStates { nodeId status attempt errorCode error } } }`, { id });
    await expect.poll(async () => (await read()).data.execution?.status, { timeout: 60_000, interval: 100 }).toBe('FAILED');
    await api.caughtUp();
    const call = (await read()).data.execution.nodeStates.find((node: { nodeId: string }) => node.nodeId === 'call');
    expect(call).toMatchObject({ status: 'FAILED', attempt: 1, errorCode: 'SECRET_NOT_FOUND' });
    expect(call.error).toContain('NOT_SET');
    expect(authorizations.length).toBe(before);

    // Asking whether a secret is set is no read of it.
    const optional = {
      name: 'optional secret',
      nodes: [
        { id: 'start', type: 'trigger.manual' },
        { id: 'has', type: 'transform', parameters: { mapping: '{ "has": $exists($secrets.NOT_SET) }' } },
      ],
      connections: [{ source: 'start', target: 'has' }],
    };
    const optionalId = (await gql(`mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id } }`, { input: optional })).data.createWorkflow.id;
    const asked = (await gql(`mutation($id: ID!) { startTrigger(workflowId: $id, triggerNodeId: "start") { id } }`, { id: optionalId })).data.startTrigger.id;
    const output = () => gql(`query($id: ID!) { execution(id: $id) { status nodeStates { nodeId output } } }`, { id: asked });
    await expect.poll(async () => (await output()).data.execution?.status, { timeout: 60_000, interval: 100 }).toBe('COMPLETED');
    await api.caughtUp();
    expect((await output()).data.execution.nodeStates.find((node: { nodeId: string }) => node.nodeId === 'has').output).toEqual({ has: false });
  });

  it("never answers a webhook's secret, which still checks signatures", async () => {
    const input = {
      name: 'signed hook',
      nodes: [
        { id: 'hook', type: 'trigger.webhook', parameters: { path: 'signed-secret-test', secret: HOOK_SECRET } },
        { id: 'end', type: 'noop' },
      ],
      connections: [{ source: 'hook', target: 'end' }],
    };
    const created = await gql(`mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id nodes { id parameters } } }`, { input });
    expect(created.data.createWorkflow.nodes[0].parameters).toEqual({ path: 'signed-secret-test' });
    await api.caughtUp();
    const read = await gql(`query($id: ID!) { workflow(id: $id) { nodes { parameters } } workflows { nodes { parameters } } }`, { id: created.data.createWorkflow.id });
    expect(JSON.stringify(read)).not.toContain(HOOK_SECRET);
    const unsigned = await fetch(`${api.url}/webhooks/signed-secret-test`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(unsigned.status).toBe(401);
  });

  it('answers a bad name with BAD_USER_INPUT and deleting an unknown secret with NOT_FOUND', async () => {
    const bad = await gql(`mutation { setSecret(name: "not-a-name", value: "v") { name } }`);
    expect(bad.errors![0]!.extensions.code).toBe('BAD_USER_INPUT');
    const missing = await gql(`mutation { deleteSecret(name: "NOBODY") { name } }`);
    expect(missing.errors![0]!.extensions.code).toBe('NOT_FOUND');
    await gql(`mutation { setSecret(name: "GONE", value: "soon-deleted") { name } }`);
    expect((await gql(`mutation { deleteSecret(name: "GONE") { name } }`)).data.deleteSecret.name).toBe('GONE');
    expect((await gql(`{ secrets { name } }`)).data.secrets.map((each: { name: string }) => each.name)).not.toContain('GONE');
  });
});
