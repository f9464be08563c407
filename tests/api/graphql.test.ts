import { describe, expect, it } from 'vitest';
import { BACKENDS } from '../support/backends.js';
import { apiPerSuite, collect } from './apiHarness.js';

const NODE_FIELDS = 'nodeId status attempt progress startedAt finishedAt durationMs error skipReason input output outputName dependencies dependents';
const EXECUTION_FIELDS = `id workflowId status triggerNodeId triggerType progress startedAt finishedAt durationMs streamVersion
  executionPath currentlyExecuting completedNodes failedNodes queuedNodes error errorCode
  metrics { totalNodes completedNodes failedNodes bottleneckNodes }
  nodeStates { ${NODE_FIELDS} }`;
const UPDATE_FIELDS = `executionId status progress changedNodes { ${NODE_FIELDS} } execution { ${EXECUTION_FIELDS} }`;

const CREATE = `mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id version nodes { id type parameters } connections { source target sourceOutput } } }`;
const START = `mutation($workflowId: ID!, $data: JSON) { startTrigger(workflowId: $workflowId, triggerNodeId: "start", data: $data) { id status streamVersion nodeStates { nodeId status } } }`;
const EXECUTION = `query($id: ID!) { execution(id: $id) { ${EXECUTION_FIELDS} } }`;
const WORKFLOW_IDS = `{ workflows { id } }`;

interface NodeView {
  nodeId: string;
  status: string;
  progress: number;
}
interface Update {
  executionId: string;
  status: string;
  progress: number;
  changedNodes: NodeView[];
  execution: { streamVersion: number; status: string; nodeStates: NodeView[] };
}

/** Fan-out to two delays and an `if`, a skipped branch, and a join of all of them. */
const fanOutWorkflow = {
  name: 'fan-out, if and join',
  nodes: [
    { id: 'start', type: 'trigger.manual' },
    { id: 'slowA', type: 'delay', parameters: { ms: 150 } },
    { id: 'slowB', type: 'delay', parameters: { ms: 500 } },
    { id: 'check', type: 'if', parameters: { condition: 'trigger.amount > 100' } },
    { id: 'big', type: 'noop' },
    { id: 'small', type: 'transform', parameters: { mapping: 'trigger.amount * 2' } },
    { id: 'join', type: 'merge' },
  ],
  connections: [
    { source: 'start', target: 'slowA' },
    { source: 'start', target: 'slowB' },
    { source: 'start', target: 'check' },
    { source: 'check', target: 'big', sourceOutput: 'true' },
    { source: 'check', target: 'small', sourceOutput: 'false' },
    { source: 'slowA', target: 'join' },
    { source: 'slowB', target: 'join' },
    { source: 'big', target: 'join' },
    { source: 'small', target: 'join' },
  ],
};
const tiny = (name: string, delayMs = 0) => ({
  name,
  nodes: [
    { id: 'start', type: 'trigger.manual' },
    { id: 'wait', type: 'delay', parameters: { ms: delayMs } },
  ],
  connections: [{ source: 'start', target: 'wait' }],
});

/** Generous: these machines are shared, and a loaded one runs a node in seconds, not milliseconds. */
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 10_000 });

const RANK: Record<string, number> = { IDLE: 0, QUEUED: 1, RUNNING: 2, COMPLETED: 3, SKIPPED: 3 };

/** Each node only moves forward, and each message shows only nodes that changed. */
function expectForwardOnly(updates: Update[]): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const last = new Map<string, string>();
  let progress = 0;
  for (const update of updates) {
    expect(update.progress).toBeGreaterThanOrEqual(progress);
    progress = update.progress;
    for (const node of update.changedNodes) {
      const statuses = seen.get(node.nodeId) ?? [];
      const previous = statuses.at(-1);
      expect(RANK[node.status], `${node.nodeId}: ${previous} -> ${node.status}`).toBeGreaterThanOrEqual(previous ? RANK[previous]! : 0);
      expect(JSON.stringify(node), `${node.nodeId} shown unchanged`).not.toBe(last.get(node.nodeId));
      last.set(node.nodeId, JSON.stringify(node));
      seen.set(node.nodeId, [...statuses, node.status]);
    }
  }
  return seen;
}

describe.each(BACKENDS)('GraphQL API on $name', ({ create }) => {
  const { api } = apiPerSuite(create);

  it('streams an execution live: nodes move forward only, the last message is COMPLETED, the query agrees', async () => {
    const created = await api.gql(CREATE, { input: fanOutWorkflow });
    expect(created.errors).toBeUndefined();
    const workflowId = created.data.createWorkflow.id;
    const client = api.wsClient();
    const subscribers = api.app.executionUpdates.subscriberCount;
    const byWorkflow = collect<{ workflowExecutions: Update }>(client, `subscription($id: ID!) { workflowExecutions(workflowId: $id) { ${UPDATE_FIELDS} } }`, { id: workflowId });
    await poll(() => api.app.executionUpdates.subscriberCount).toBe(subscribers + 1);

    const started = await api.gql(START, { workflowId, data: { amount: 50 } });
    expect(started.errors).toBeUndefined();
    const executionId: string = started.data.startTrigger.id;
    expect(started.data.startTrigger.status).toBe('RUNNING');
    const { done } = collect<{ executionUpdated: Update }>(client, `subscription($id: ID!) { executionUpdated(executionId: $id) { ${UPDATE_FIELDS} } }`, { id: executionId });
    const updates = (await done).map((message) => message.executionUpdated);

    expect(updates[0]!.changedNodes.map((node) => node.nodeId).sort()).toEqual(['big', 'check', 'join', 'slowA', 'slowB', 'small', 'start']);
    const seen = expectForwardOnly(updates);
    expect(seen.get('slowB')!.at(-1)).toBe('COMPLETED');
    expect(seen.get('big')!.at(-1)).toBe('SKIPPED');
    const last = updates.at(-1)!;
    expect(last).toMatchObject({ executionId, status: 'COMPLETED', progress: 100 });
    expect(Object.fromEntries(last.execution.nodeStates.map((node) => [node.nodeId, node.status]))).toEqual({
      start: 'COMPLETED',
      slowA: 'COMPLETED',
      slowB: 'COMPLETED',
      check: 'COMPLETED',
      big: 'SKIPPED',
      small: 'COMPLETED',
      join: 'COMPLETED',
    });
    const versions = updates.map((update) => update.execution.streamVersion);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));

    const queried = await api.gql(EXECUTION, { id: executionId });
    expect(queried.data.execution).toEqual(last.execution);

    // The workflow feed saw the same execution through to the same end.
    await poll(() => byWorkflow.messages.at(-1)?.workflowExecutions.status).toBe('COMPLETED');
    const workflowUpdates = byWorkflow.messages.map((message) => message.workflowExecutions);
    expect(workflowUpdates.every((update) => update.executionId === executionId)).toBe(true);
    // Subscribed before the start, this feed sees the long delay running, whatever the load.
    const slowB = expectForwardOnly(workflowUpdates).get('slowB')!;
    expect(slowB).toContain('RUNNING');
    expect(slowB.at(-1)).toBe('COMPLETED');
    expect(workflowUpdates.at(-1)!.execution).toEqual(last.execution);
    byWorkflow.stop();
  });

  it('lets go of a subscription when its client disconnects', async () => {
    const { data } = await api.gql(CREATE, { input: tiny('long', 5_000) });
    const started = await api.gql(START, { workflowId: data.createWorkflow.id });
    const before = api.app.executionUpdates.subscriberCount;
    const client = api.wsClient();
    const feed = collect<{ executionUpdated: Update }>(client, `subscription($id: ID!) { executionUpdated(executionId: $id) { status } }`, { id: started.data.startTrigger.id });
    await poll(() => feed.messages.length).toBeGreaterThan(0);
    expect(api.app.executionUpdates.subscriberCount).toBe(before + 1);
    await client.dispose();
    await poll(() => api.app.executionUpdates.subscriberCount).toBe(before);
    await api.gql(`mutation($id: ID!) { cancelExecution(id: $id) { id } }`, { id: started.data.startTrigger.id });
  });

  it('pauses, resumes and cancels, answering the state right after each command', async () => {
    const { data } = await api.gql(CREATE, { input: tiny('pausable', 5_000) });
    const started = await api.gql(START, { workflowId: data.createWorkflow.id });
    const id = started.data.startTrigger.id;
    const waitStatus = async () => (await api.gql(EXECUTION, { id })).data.execution?.nodeStates.find((node: NodeView) => node.nodeId === 'wait')?.status;
    await poll(waitStatus).toBe('RUNNING');
    const command = (name: string) => api.gql(`mutation($id: ID!) { ${name}(id: $id) { status nodeStates { nodeId status } } }`, { id });
    expect((await command('pauseExecution')).data.pauseExecution.status).toBe('PAUSED');
    const paused = await command('pauseExecution');
    expect(paused.errors![0]!.extensions.code).toBe('INVALID_FLOW_STATE');
    expect((await command('resumeExecution')).data.resumeExecution.status).toBe('RUNNING');
    const cancelled = await command('cancelExecution');
    expect(cancelled.data.cancelExecution.status).toBe('CANCELLED');
    expect(cancelled.data.cancelExecution.nodeStates.find((node: NodeView) => node.nodeId === 'wait').status).toBe('CANCELLED');
  });

  it('lets workers claim and settle external nodes, and users retry and skip them', async () => {
    const { data } = await api.gql(CREATE, {
      input: {
        name: 'external work',
        nodes: [
          { id: 'start', type: 'trigger.manual' },
          { id: 'ext1', type: 'external', parameters: { queue: 'q' } },
          { id: 'ext2', type: 'external', parameters: { queue: 'q' } },
        ],
        connections: [
          { source: 'start', target: 'ext1' },
          { source: 'start', target: 'ext2' },
        ],
      },
    });
    const id = (await api.gql(START, { workflowId: data.createWorkflow.id })).data.startTrigger.id;
    const nodeMutation =
      (field: string, extra = '', select = 'status') =>
      (nodeId: string) =>
        api.gql(`mutation($executionId: ID!, $nodeId: ID!) { ${field}(executionId: $executionId, nodeId: $nodeId${extra}) { ${select} } }`, { executionId: id, nodeId });

    // The queue learns of queued nodes from the log: a worker polls until it gets one.
    let jobs: Array<{ executionId: string; nodeId: string; attempt: number; parameters: unknown; leaseExpiresAt: string }> = [];
    await poll(async () => {
      jobs = (await api.gql(`mutation { claimNodes(queue: "q", workerId: "w1", max: 1, leaseMs: 30000) { executionId nodeId attempt parameters leaseExpiresAt } }`)).data
        .claimNodes;
      return jobs.length;
    }).toBe(1);
    const [job] = jobs;
    expect(job).toMatchObject({ executionId: id, attempt: 1, parameters: { queue: 'q' } });
    const other = job!.nodeId === 'ext1' ? 'ext2' : 'ext1';

    const progress = await nodeMutation('reportNodeProgress', ', progress: 50, message: "half", leaseMs: 30000', 'status progress')(job!.nodeId);
    expect(progress.data.reportNodeProgress).toEqual({ status: 'RUNNING', progress: 50 });
    // A worker holding another attempt than the running one is refused and changes nothing.
    const stale = await nodeMutation('completeNode', ', output: { x: 0 }, attempt: 2', 'status')(job!.nodeId);
    expect(stale.errors![0]!.extensions.code).toBe('INVALID_FLOW_STATE');
    const completed = await nodeMutation('completeNode', ', output: { x: 1 }, attempt: 1', 'nodeId status output')(job!.nodeId);
    expect(completed.data.completeNode).toEqual({ nodeId: job!.nodeId, status: 'COMPLETED', output: { x: 1 } });
    expect((await nodeMutation('reportNodeProgress', ', progress: 60')(job!.nodeId)).errors![0]!.extensions.code).toBe('INVALID_FLOW_STATE');

    const failed = await nodeMutation('failNode', ', error: "nope", retryable: false', 'status error')(other);
    expect(failed.data.failNode).toEqual({ status: 'FAILED', error: 'nope' });
    expect((await nodeMutation('retryNode')(other)).data.retryNode.status).toBe('RUNNING');
    const nodeStatus = async () => (await api.gql(EXECUTION, { id })).data.execution?.nodeStates.find((node: NodeView) => node.nodeId === other)?.status;
    await poll(nodeStatus).toBe('QUEUED');
    const skipped = await nodeMutation('skipNode', ', output: { y: 2 }', 'nodeStates { nodeId status output }')(other);
    expect(skipped.data.skipNode.nodeStates).toContainEqual({ nodeId: other, status: 'COMPLETED', output: { y: 2 } });
    await poll(async () => (await api.gql(EXECUTION, { id })).data.execution.status).toBe('COMPLETED');
  });

  it('starts every workflow listening to an emitted event', async () => {
    const name = `order.created.${Date.now()}`;
    const { data } = await api.gql(CREATE, {
      input: {
        name: 'listener',
        nodes: [
          { id: 'on', type: 'trigger.event', parameters: { event: name } },
          { id: 'done', type: 'noop' },
        ],
        connections: [{ source: 'on', target: 'done' }],
      },
    });
    const emitted = await api.gql(`mutation($name: String!) { emitEvent(name: $name, data: { id: 7 }) { workflowId triggerNodeId status } }`, { name });
    expect(emitted.data.emitEvent).toEqual([{ workflowId: data.createWorkflow.id, triggerNodeId: 'on', status: 'RUNNING' }]);
    const triggers = await api.gql(`query($id: ID!) { activeTriggers(workflowId: $id) { triggerNodeId triggerType queuedExecutions } }`, { id: data.createWorkflow.id });
    expect(triggers.data.activeTriggers).toEqual([{ triggerNodeId: 'on', triggerType: 'trigger.event', queuedExecutions: 0 }]);
  });

  it('starts a webhook workflow from a POST beside the GraphQL routes', async () => {
    const path = `orders-${Date.now()}`;
    const { data } = await api.gql(CREATE, {
      input: {
        name: 'hook',
        nodes: [
          { id: 'hook', type: 'trigger.webhook', parameters: { path } },
          { id: 'done', type: 'noop' },
        ],
        connections: [{ source: 'hook', target: 'done' }],
      },
    });
    const post = () => fetch(`${api.url}/webhooks/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 1 }) });
    // The webhook registry learns of the new path from the log.
    await poll(async () => (await post()).status).toBe(202);
    const duplicate = await api.gql(`query($input: WorkflowInput!) { validateWorkflow(input: $input) { isValid errors { type } } }`, {
      input: {
        name: 'same path',
        nodes: [
          { id: 'hook', type: 'trigger.webhook', parameters: { path } },
          { id: 'done', type: 'noop' },
        ],
        connections: [{ source: 'hook', target: 'done' }],
      },
    });
    expect(duplicate.data.validateWorkflow).toEqual({ isValid: false, errors: [{ type: 'DUPLICATE_WEBHOOK_PATH' }] });
    const update = await api.gql(`query($input: WorkflowInput!, $id: ID) { validateWorkflow(input: $input, workflowId: $id) { isValid } }`, {
      id: data.createWorkflow.id,
      input: {
        name: 'same path',
        nodes: [
          { id: 'hook', type: 'trigger.webhook', parameters: { path } },
          { id: 'done', type: 'noop' },
        ],
        connections: [{ source: 'hook', target: 'done' }],
      },
    });
    expect(update.data.validateWorkflow.isValid).toBe(true);
  });

  it('lists executions newest first, page by page, and refuses bad filters', async () => {
    const { data } = await api.gql(CREATE, { input: tiny('listed') });
    const workflowId = data.createWorkflow.id;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await api.gql(START, { workflowId })).data.startTrigger.id);
    await api.caughtUp();
    const page = (after?: string) =>
      api.gql(
        `query($workflowId: ID!, $after: String) { executions(workflowId: $workflowId, first: 2, after: $after) { nodes { id } totalCount pageInfo { endCursor hasNextPage } } }`,
        { workflowId, after },
      );
    const first = (await page()).data.executions;
    expect(first).toMatchObject({ totalCount: 3, pageInfo: { hasNextPage: true } });
    const second = (await page(first.pageInfo.endCursor)).data.executions;
    expect(second).toMatchObject({ totalCount: 3, pageInfo: { hasNextPage: false } });
    expect([...first.nodes, ...second.nodes].map((node: { id: string }) => node.id).sort()).toEqual([...ids].sort());

    const codeOf = async (args: string) => (await api.gql(`{ executions(${args}) { totalCount } }`)).errors?.[0]?.extensions.code;
    expect(await codeOf('first: 0')).toBe('BAD_USER_INPUT');
    expect(await codeOf('startedAfter: "yesterday"')).toBe('BAD_USER_INPUT');
    expect(await codeOf('after: "not a cursor"')).toBe('BAD_USER_INPUT');
  });

  it('replays the history: events in order, and the state after any one of them', async () => {
    const { data } = await api.gql(CREATE, { input: tiny('history') });
    const started = await api.gql(START, { workflowId: data.createWorkflow.id, data: { n: 1 } });
    const id = started.data.startTrigger.id;
    await poll(async () => (await api.gql(EXECUTION, { id })).data.execution?.status).toBe('COMPLETED');

    const all = await api.gql(`query($id: ID!) { executionEvents(executionId: $id) { eventNumber type data recordedAt causationId } }`, { id });
    const types = all.data.executionEvents.map((event: { type: string }) => event.type);
    expect(types[0]).toBe('ExecutionStarted');
    expect(types.at(-1)).toBe('ExecutionCompleted');
    expect(all.data.executionEvents.map((event: { eventNumber: number }) => event.eventNumber)).toEqual(types.map((_: string, index: number) => index + 1));

    const page = await api.gql(`query($id: ID!) { executionEvents(executionId: $id, after: 1, first: 2) { eventNumber } }`, { id });
    expect(page.data.executionEvents).toEqual([{ eventNumber: 2 }, { eventNumber: 3 }]);

    const at = (eventNumber: number) =>
      api.gql(`query($id: ID!, $n: Int!) { executionAt(executionId: $id, eventNumber: $n) { status streamVersion nodeStates { nodeId status } } }`, { id, n: eventNumber });
    expect((await at(1)).data.executionAt).toEqual({
      status: 'RUNNING',
      streamVersion: 1,
      nodeStates: [
        { nodeId: 'start', status: 'IDLE' },
        { nodeId: 'wait', status: 'IDLE' },
      ],
    });
    expect((await at(types.length)).data.executionAt.status).toBe('COMPLETED');
    expect((await at(types.length + 1)).errors![0]!.extensions.code).toBe('BAD_USER_INPUT');
  });

  it('rejects invalid workflows with their codes and stores nothing', async () => {
    await api.caughtUp();
    const before = (await api.gql(WORKFLOW_IDS)).data.workflows;
    const cycle = {
      name: 'cycle',
      nodes: [
        { id: 'start', type: 'trigger.manual' },
        { id: 'a', type: 'noop' },
        { id: 'b', type: 'noop' },
      ],
      connections: [
        { source: 'start', target: 'a' },
        { source: 'a', target: 'b' },
        { source: 'b', target: 'a' },
      ],
    };
    const circular = await api.gql(CREATE, { input: cycle });
    expect(circular.data).toBeNull();
    expect(circular.errors![0]!.extensions).toMatchObject({ code: 'CIRCULAR_DEPENDENCY', circularDependencies: [{ path: ['a', 'b', 'a'] }] });

    const missing = await api.gql(CREATE, { input: { ...tiny('missing'), connections: [{ source: 'start', target: 'ghost' }] } });
    expect(missing.errors![0]!.extensions.code).toBe('MISSING_DEPENDENCY');

    const invalid = await api.gql(CREATE, { input: { ...tiny('no trigger'), nodes: [{ id: 'wait', type: 'delay', parameters: { ms: 1 } }], connections: [] } });
    expect(invalid.errors![0]!.extensions).toMatchObject({ code: 'VALIDATION_FAILED', errors: expect.arrayContaining([expect.objectContaining({ type: 'NO_TRIGGER' })]) });

    const validation = await api.gql(`query($input: WorkflowInput!) { validateWorkflow(input: $input) { isValid circularDependencies { path } errors { type } } }`, {
      input: cycle,
    });
    expect(validation.data.validateWorkflow).toMatchObject({ isValid: false, circularDependencies: [{ path: ['a', 'b', 'a'] }] });

    await api.caughtUp();
    expect((await api.gql(WORKFLOW_IDS)).data.workflows).toEqual(before);
  });

  it('answers malformed GraphQL and unknown ids with codes, and null where the field is nullable', async () => {
    const parse = await api.gql('{ workflows { id ');
    expect(parse.status).toBe(400);
    expect(parse.errors![0]!.extensions.code).toBe('GRAPHQL_PARSE_FAILED');
    const validation = await api.gql('{ nope }');
    expect(validation.status).toBe(400);
    expect(validation.errors![0]!.extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');

    const unknown = '00000000-0000-0000-0000-000000000000';
    expect((await api.gql(EXECUTION, { id: unknown })).data).toEqual({ execution: null });
    expect((await api.gql(`query($id: ID!) { workflow(id: $id) { id } }`, { id: unknown })).data).toEqual({ workflow: null });
    expect((await api.gql(`query($id: ID!) { executionAt(executionId: $id, eventNumber: 1) { id } }`, { id: unknown })).data).toEqual({ executionAt: null });
    const codeOf = async (query: string) => (await api.gql(query, { id: unknown })).errors?.[0]?.extensions.code;
    expect(await codeOf(`mutation($id: ID!) { pauseExecution(id: $id) { id } }`)).toBe('NOT_FOUND');
    expect(await codeOf(`mutation($id: ID!) { startTrigger(workflowId: $id, triggerNodeId: "start") { id } }`)).toBe('NOT_FOUND');
    expect(await codeOf(`mutation($id: ID!) { updateWorkflow(id: $id, input: { name: "x", nodes: [], connections: [] }) { id } }`)).toBe('NOT_FOUND');
    expect(await codeOf(`query($id: ID!) { executionEvents(executionId: $id) { type } }`)).toBe('NOT_FOUND');
    expect(await codeOf(`mutation($id: ID!) { rerunFromNode(executionId: $id, nodeId: "x") { id } }`)).toBe('NOT_FOUND');

    const client = api.wsClient();
    const subscription = collect(client, `subscription($id: ID!) { executionUpdated(executionId: $id) { status } }`, { id: unknown });
    const error = await subscription.done.catch((caught: { cause: Array<{ extensions: { code: string } }> }) => caught);
    expect((error as { cause: Array<{ extensions: { code: string } }> }).cause[0]!.extensions.code).toBe('NOT_FOUND');
  });

  it('refuses a body over 1 MiB with 413 and a JSON error', async () => {
    const response = await fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${api.adminKey}` },
      body: JSON.stringify({ query: '{ workflows { id } }', variables: { padding: 'x'.repeat(1024 * 1024) } }),
    });
    expect(response.status).toBe(413);
    const body = (await response.json()) as { errors: Array<{ message: string; extensions: { code: string } }> };
    expect(body.errors[0]).toEqual({ message: 'Request body is larger than the limit of 1048576 bytes', extensions: { code: 'PAYLOAD_TOO_LARGE' } });
  });

  it('reports its health over HTTP and GraphQL', async () => {
    const response = await fetch(`${api.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', database: { ok: true }, projections: { caughtUp: true } });
    expect((await api.gql('{ health { status database { ok } projections { caughtUp lagMs } } }')).data.health).toMatchObject({ status: 'ok' });
  });
});
