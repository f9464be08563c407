import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type Backend } from '../support/backends.js';
import { collect, startApi, type Api, type GraphQLResponse } from './apiHarness.js';

const CREATE = `mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id } }`;
const START = `mutation($workflowId: ID!, $data: JSON) { startTrigger(workflowId: $workflowId, triggerNodeId: "start", data: $data) { id } }`;
const EXECUTION = `query($id: ID!) { execution(id: $id) { status streamVersion nodeStates { nodeId status attempt error errorCode output } } }`;

const flow = (nodes: Array<Record<string, unknown>>, name = 'limits') => ({
  name,
  nodes: [{ id: 'start', type: 'trigger.manual' }, ...nodes],
  connections: nodes.map((node) => ({ source: 'start', target: node.id })),
});

const nested = (depth: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
};

/** Generous: these machines are shared. */
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 20_000 });

const codeOf = (response: GraphQLResponse) => {
  expect(response.status).toBeLessThan(500);
  return response.errors?.[0]?.extensions.code;
};

describe.each(BACKENDS)('input limits over HTTP on $name', ({ create }) => {
  let backend: Backend;
  let api: Api;
  let manual: string;
  beforeAll(async () => {
    backend = await create();
    api = await startApi(backend);
    manual = (await api.gql(CREATE, { input: flow([{ id: 'done', type: 'noop' }]) })).data.createWorkflow.id;
  }, 120_000);
  afterAll(async () => {
    await api?.close();
    await backend?.dispose();
  });

  it.each([
    ['a NUL in trigger data', { a: 'x\u0000y' }, 'argument data: $.a contains a NUL character at position 1'],
    ['a NUL in a key of trigger data', { 'k\u0000': 1 }, 'its key contains a NUL character'],
    ['a lone surrogate in trigger data', ['\uD800'], 'argument data: $[0] contains a lone surrogate'],
    ['a 65-deep array', nested(65), 'is nested deeper than 64 levels'],
  ])('refuses %s in variables with BAD_USER_INPUT and starts nothing', async (_, data, message) => {
    const before = (await api.gql(`{ executions(workflowId: "${manual}") { totalCount } }`)).data.executions.totalCount;
    const response = await api.gql(START, { workflowId: manual, data });
    expect(codeOf(response)).toBe('BAD_USER_INPUT');
    expect(response.errors![0]!.message).toContain(message);
    await api.caughtUp();
    expect((await api.gql(`{ executions(workflowId: "${manual}") { totalCount } }`)).data.executions.totalCount).toBe(before);
  });

  it('refuses a 10,000-deep array in variables and inline, with BAD_USER_INPUT and never a 500', async () => {
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    const post = async (body: string) => {
      const response = await fetch(`${api.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${api.adminKey}` }, body });
      return { status: response.status, ...((await response.json()) as object) } as GraphQLResponse;
    };
    const variables = await post(`{"query":${JSON.stringify(START)},"variables":{"workflowId":"${manual}","data":${deep}}}`);
    expect(codeOf(variables)).toBe('BAD_USER_INPUT');
    expect(variables.errors![0]!.message).toMatch(/^argument data: \$(\[0\]){64} is nested deeper than 64 levels$/);
    const inline = await post(JSON.stringify({ query: `mutation { startTrigger(workflowId: "${manual}", triggerNodeId: "start", data: ${deep}) { id } }` }));
    expect(inline.status).toBe(400);
    expect(inline.errors![0]!.extensions.code).toMatch(/^(BAD_USER_INPUT|GRAPHQL_PARSE_FAILED|GRAPHQL_VALIDATION_FAILED)$/);
  });

  it('refuses a NUL in an inline JSON literal, in ids, in names and in emitEvent', async () => {
    const inline = await api.gql(`mutation { startTrigger(workflowId: "${manual}", triggerNodeId: "start", data: { a: "x\\u0000" }) { id } }`);
    expect(codeOf(inline)).toBe('BAD_USER_INPUT');
    expect(codeOf(await api.gql(`query($id: ID!) { execution(id: $id) { id } }`, { id: 'a\u0000b' }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await api.gql(`query($id: ID!) { workflow(id: $id) { id } }`, { id: '\uDC00' }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await api.gql(START, { workflowId: `${manual}\u0000`, data: null }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await api.gql(CREATE, { input: flow([{ id: 'done', type: 'noop' }], 'bad\u0000name') }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await api.gql(CREATE, { input: flow([{ id: 'do\u0000ne', type: 'noop' }]) }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await api.gql(`mutation($name: String!, $data: JSON) { emitEvent(name: $name, data: $data) { id } }`, { name: 'e\u0000', data: null }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await api.gql(`mutation($data: JSON) { emitEvent(name: "ok", data: $data) { id } }`, { data: { v: '\u0000' } }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await api.gql(`mutation { claimNodes(queue: "q\\u0000", workerId: "w") { nodeId } }`))).toBe('BAD_USER_INPUT');
  });

  it('refuses a NUL in a subscription argument with BAD_USER_INPUT', async () => {
    const feed = collect(api.wsClient(), `subscription($id: ID!) { executionUpdated(executionId: $id) { status } }`, { id: 'a\u0000' });
    const error = (await feed.done.then(
      () => null,
      (caught: { errors?: unknown; cause?: unknown }) => caught,
    ))!;
    expect(JSON.stringify(error.errors ?? error.cause)).toContain('"code":"BAD_USER_INPUT"');
  });

  it('refuses ids and names past their maximum length', async () => {
    const long = 'x'.repeat(257);
    const tooLong = await api.gql(`query($id: ID!) { execution(id: $id) { id } }`, { id: long });
    expect(codeOf(tooLong)).toBe('BAD_USER_INPUT');
    expect(tooLong.errors![0]!.message).toBe('argument id must be at most 256 characters, got 257');
    expect(codeOf(await api.gql(`mutation($q: String!) { claimNodes(queue: $q, workerId: "w") { nodeId } }`, { q: long }))).toBe('BAD_USER_INPUT');
    const named = await api.gql(CREATE, { input: flow([{ id: 'done', type: 'noop' }], long) });
    expect(codeOf(named)).toBe('VALIDATION_FAILED');
  });

  it('refuses numbers above their documented maxima', async () => {
    const delay = await api.gql(CREATE, { input: flow([{ id: 'wait', type: 'delay', parameters: { ms: 1e300 } }]) });
    expect(codeOf(delay)).toBe('VALIDATION_FAILED');
    const backoff = await api.gql(CREATE, { input: flow([{ id: 'n', type: 'noop', retry: { maxAttempts: 3, backoffFactor: 1e308 } }]) });
    expect(codeOf(backoff)).toBe('VALIDATION_FAILED');
    expect(codeOf(await api.gql(`{ executions(first: 101) { totalCount } }`))).toBe('BAD_USER_INPUT');
    expect(codeOf(await api.gql(`{ executionEvents(executionId: "x", first: 1001) { type } }`))).toBe('BAD_USER_INPUT');
    expect(codeOf(await api.gql(`mutation { claimNodes(queue: "q", workerId: "w", max: 1001) { nodeId } }`))).toBe('BAD_USER_INPUT');
    const lease = await api.gql(`mutation { claimNodes(queue: "q", workerId: "w", leaseMs: 3600001) { nodeId } }`);
    expect(codeOf(lease)).toBe('BAD_USER_INPUT');
    expect(lease.errors![0]!.message).toBe('leaseMs must be an integer between 1 and 3600000');
  });

  it('answers a webhook body with a NUL or nested too deep with 400 BAD_USER_INPUT', async () => {
    const path = `limits-${Date.now()}`;
    await api.gql(CREATE, {
      input: {
        name: 'hook',
        nodes: [
          { id: 'hook', type: 'trigger.webhook', parameters: { path } },
          { id: 'done', type: 'noop' },
        ],
        connections: [{ source: 'hook', target: 'done' }],
      },
    });
    const post = (body: string) => fetch(`${api.url}/webhooks/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await poll(async () => (await post('{}')).status).toBe(202);
    for (const body of ['{"a":"x\\u0000"}', '["\\ud800"]', `${'['.repeat(10_000)}${']'.repeat(10_000)}`]) {
      const response = await post(body);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('BAD_USER_INPUT');
    }
  });

  it('lets only workers settle external nodes: completeNode, failNode and reportNodeProgress on a running delay change nothing', async () => {
    const workflowId = (await api.gql(CREATE, { input: flow([{ id: 'wait', type: 'delay', parameters: { ms: 600_000 } }]) })).data.createWorkflow.id;
    const id = (await api.gql(START, { workflowId, data: null })).data.startTrigger.id;
    const waitNode = async () => (await api.gql(EXECUTION, { id })).data.execution?.nodeStates.find((node: { nodeId: string }) => node.nodeId === 'wait');
    await poll(async () => (await waitNode())?.status).toBe('RUNNING');
    await api.caughtUp();
    const before = (await api.gql(EXECUTION, { id })).data.execution.streamVersion;
    const forged = [
      `completeNode(executionId: $id, nodeId: "wait", output: { forged: true }) { status }`,
      `failNode(executionId: $id, nodeId: "wait", error: "forged") { status }`,
      `reportNodeProgress(executionId: $id, nodeId: "wait", progress: 50) { status }`,
    ];
    for (const call of forged) {
      const response = await api.gql(`mutation($id: ID!) { ${call} }`, { id });
      expect(codeOf(response)).toBe('INVALID_FLOW_STATE');
      expect(response.errors![0]!.message).toBe('node wait is a delay node: only external nodes are settled by workers');
    }
    await api.caughtUp();
    expect((await api.gql(EXECUTION, { id })).data.execution).toMatchObject({ status: 'RUNNING', streamVersion: before });
    expect(await waitNode()).toMatchObject({ status: 'RUNNING', output: null });
    await api.gql(`mutation($id: ID!) { cancelExecution(id: $id) { status } }`, { id });
  });

  it('a worker completion with a NUL is refused at the door and the node stays the worker’s', async () => {
    const workflowId = (await api.gql(CREATE, { input: flow([{ id: 'ext', type: 'external', parameters: { queue: `q-${Date.now()}` } }]) })).data.createWorkflow.id;
    const id = (await api.gql(START, { workflowId, data: null })).data.startTrigger.id;
    const complete = (output: unknown) =>
      api.gql(`mutation($id: ID!, $output: JSON) { completeNode(executionId: $id, nodeId: "ext", output: $output) { status output } }`, { id, output });
    await poll(async () => (await api.gql(EXECUTION, { id })).data.execution?.nodeStates.find((node: { nodeId: string }) => node.nodeId === 'ext')?.status).toBe('QUEUED');
    expect(codeOf(await complete({ text: 'a\u0000' }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await complete(nested(65)))).toBe('BAD_USER_INPUT');
    expect((await complete({ text: 'fine' })).data.completeNode).toEqual({ status: 'COMPLETED', output: { text: 'fine' } });
  });

  it('fails a transform whose result holds a NUL with INVALID_OUTPUT instead of leaving the execution RUNNING', async () => {
    const workflowId = (await api.gql(CREATE, { input: flow([{ id: 'make', type: 'transform', parameters: { mapping: '"x\\u0000y"' } }]) })).data.createWorkflow.id;
    const id = (await api.gql(START, { workflowId, data: null })).data.startTrigger.id;
    await poll(async () => (await api.gql(EXECUTION, { id })).data.execution?.status).toBe('FAILED');
    await api.caughtUp();
    const make = (await api.gql(EXECUTION, { id })).data.execution.nodeStates.find((node: { nodeId: string }) => node.nodeId === 'make');
    expect(make).toMatchObject({ status: 'FAILED', errorCode: 'INVALID_OUTPUT', error: 'INVALID_OUTPUT: output $ contains a NUL character at position 1' });
  });
});
