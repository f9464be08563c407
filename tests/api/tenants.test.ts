import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type Backend } from '../support/backends.js';
import { collect, startApi, type Api, type GraphQLResponse } from './apiHarness.js';

const CREATE = 'mutation ($input: WorkflowInput!) { createWorkflow(input: $input) { id } }';
const START = 'mutation ($id: ID!) { startTrigger(workflowId: $id, triggerNodeId: "start") { id status } }';
const STATUS = 'query ($id: ID!) { execution(id: $id) { status } }';
const OUTPUT = 'query ($id: ID!) { execution(id: $id) { status nodeStates { nodeId output errorCode } } }';

/** A manual start and one node after it. */
const startThen = (name: string, node: { id: string; type: string; parameters: Record<string, unknown> }) => ({
  name,
  nodes: [{ id: 'start', type: 'trigger.manual' }, node],
  connections: [{ source: 'start', target: node.id }],
});
const waiting = (queue: string) => startThen(`waits on ${queue}`, { id: 'work', type: 'external', parameters: { queue } });
const waitingOn = (event: string) => startThen(`waits for ${event}`, { id: 'w', type: 'wait', parameters: { event } });
/** `workflowId`: only events about that workflow (as execution.* events are). */
const listening = (event: string, workflowId?: string) => ({
  name: `listens to ${event}`,
  nodes: [
    { id: 'on', type: 'trigger.event', parameters: { event, ...(workflowId ? { workflowId } : {}) } },
    { id: 'done', type: 'noop' },
  ],
  connections: [{ source: 'on', target: 'done' }],
});
const hooked = (path: string) => ({
  name: `webhook ${path}`,
  nodes: [
    { id: 'hook', type: 'trigger.webhook', parameters: { path } },
    { id: 'done', type: 'noop' },
  ],
  connections: [{ source: 'hook', target: 'done' }],
});
/** Says whether its tenant's secret TOKEN is `value`, without ever putting the secret in an output. */
const comparing = (value: string) => ({
  name: 'compares a secret',
  nodes: [
    { id: 'start', type: 'trigger.manual' },
    { id: 'check', type: 'transform', parameters: { mapping: `{ "same": $secrets.TOKEN = "${value}", "has": $exists($secrets.TOKEN) }` } },
  ],
  connections: [{ source: 'start', target: 'check' }],
});

/** An answer with the id replaced, so that answers about two ids compare. */
const shape = (answer: GraphQLResponse, id: string) => JSON.parse(JSON.stringify(answer).replaceAll(id, '<id>')) as unknown;

describe('tenant isolation over HTTP and graphql-ws', () => {
  const postgres = BACKENDS.find((each) => each.name === 'postgres')!;
  let backend: Backend;
  let api: Api;
  const keys: Record<string, string> = {};
  const tenantIds: Record<string, string> = {};

  const as = (who: string) => (query: string, variables?: Record<string, unknown>) => api.gql(query, variables, keys[who]);
  const created = async (who: string, input: unknown) => {
    const answer = await as(who)(CREATE, { input });
    expect(answer.errors).toBeUndefined();
    return answer.data.createWorkflow.id as string;
  };
  const started = async (who: string, workflowId: string) => {
    const answer = await as(who)(START, { id: workflowId });
    expect(answer.errors).toBeUndefined();
    return answer.data.startTrigger as { id: string; status: string };
  };
  const statusOf = async (who: string, id: string) => (await as(who)(STATUS, { id })).data?.execution?.status as string | undefined;

  beforeAll(async () => {
    backend = await postgres.create();
    api = await startApi(backend);
    for (const tenant of ['A', 'B']) {
      const answer = await api.gql('mutation ($name: String!) { createTenant(name: $name) { id name maxConcurrentExecutions } }', { name: `tenant ${tenant}` });
      expect(answer.errors).toBeUndefined();
      tenantIds[tenant] = answer.data.createTenant.id;
      const tenantId = tenantIds[tenant];
      keys[`admin${tenant}`] = await api.createKey({ name: `admin ${tenant}`, roles: ['ADMIN'], tenantId, canViewPayloads: true });
      keys[`operator${tenant}`] = await api.createKey({ name: `operator ${tenant}`, roles: ['OPERATOR'], tenantId, canViewPayloads: true });
      keys[`worker${tenant}`] = await api.createKey({ name: `worker ${tenant}`, roles: ['WORKER'], tenantId });
    }
  });
  afterAll(async () => {
    await api.close();
    await backend.dispose();
  });

  it('answers every look at, and every act on, another tenant’s workflow or execution exactly as for an unknown id', async () => {
    const workflowId = await created('adminA', waiting('isolated'));
    const execution = await started('operatorA', workflowId);
    await expect.poll(async () => (await backend.db.query('SELECT 1 FROM external_jobs WHERE execution_id = $1', [execution.id])).rows.length, { timeout: 20_000 }).toBe(1);
    await api.caughtUp();
    const unknownWorkflow = randomUUID();
    const unknownExecution = randomUUID();

    const onWorkflow: Array<[string, string]> = [
      ['adminB', 'query ($id: ID!) { workflow(id: $id) { id } }'],
      ['adminB', 'query ($id: ID!) { executions(workflowId: $id) { totalCount nodes { id } } }'],
      ['adminB', 'query ($id: ID!) { activeTriggers(workflowId: $id) { triggerNodeId } }'],
      ['operatorB', START],
      ['adminB', `mutation ($id: ID!) { updateWorkflow(id: $id, input: { name: "taken", nodes: [{ id: "start", type: "trigger.manual" }], connections: [] }) { id } }`],
    ];
    const onExecution: Array<[string, string]> = [
      ['adminB', 'query ($id: ID!) { execution(id: $id) { id status } }'],
      ['adminB', 'query ($id: ID!) { executionEvents(executionId: $id) { type } }'],
      ['adminB', 'query ($id: ID!) { executionAt(executionId: $id, eventNumber: 1) { id } }'],
      ['adminB', 'query ($id: ID!) { nodeCausation(executionId: $id, nodeId: "work") { nodeId } }'],
      ['adminB', 'query ($id: ID!) { replayCheck(executionId: $id) { matches } }'],
      ['operatorB', 'mutation ($id: ID!) { cancelExecution(id: $id) { id status } }'],
      ['operatorB', 'mutation ($id: ID!) { pauseExecution(id: $id) { id status } }'],
      ['operatorB', 'mutation ($id: ID!) { retryNode(executionId: $id, nodeId: "work") { id } }'],
      ['operatorB', 'mutation ($id: ID!) { skipNode(executionId: $id, nodeId: "work") { id } }'],
      ['operatorB', 'mutation ($id: ID!) { rerunFromNode(executionId: $id, nodeId: "work") { id } }'],
      ['workerB', 'mutation ($id: ID!) { completeNode(executionId: $id, nodeId: "work", output: { stolen: true }) { status } }'],
      ['workerB', 'mutation ($id: ID!) { failNode(executionId: $id, nodeId: "work", error: "no") { status } }'],
      ['workerB', 'mutation ($id: ID!) { reportNodeProgress(executionId: $id, nodeId: "work", progress: 50) { status } }'],
    ];
    for (const [ids, cases] of [
      [[workflowId, unknownWorkflow], onWorkflow],
      [[execution.id, unknownExecution], onExecution],
    ] as const) {
      for (const [who, query] of cases) {
        const [foreign, unknown] = await Promise.all(ids.map(async (id) => shape(await as(who)(query, { id }), id)));
        expect(foreign, `${who}: ${query}`).toEqual(unknown);
        expect(JSON.stringify(foreign), query).toMatch(/NOT_FOUND|null|\[\]|"totalCount":0/);
      }
    }

    // Lists and counts hold none of A's; B's worker claims nothing of A's queue, A's worker does.
    expect((await as('adminB')('{ workflows { id } executions { totalCount } }')).data).toEqual({ workflows: [], executions: { totalCount: 0 } });
    expect((await as('workerB')('mutation { claimNodes(queue: "isolated", workerId: "wb") { executionId } }')).data.claimNodes).toEqual([]);
    expect((await as('adminA')('{ executions { totalCount } }')).data.executions.totalCount).toBe(1);
    expect(await statusOf('adminA', execution.id)).toBe('RUNNING');
    const claimed = await as('workerA')('mutation { claimNodes(queue: "isolated", workerId: "wa") { executionId } }');
    expect(claimed.data.claimNodes).toEqual([{ executionId: execution.id }]);
  });

  it('refuses a subscription to another tenant’s execution or workflow as one to an unknown id', async () => {
    const workflowId = await created('adminA', waiting('subscribed'));
    const execution = await started('operatorA', workflowId);
    const refusal = async (query: string, id: string) => {
      const feed = collect(api.wsClient(keys.operatorB), query, { id });
      const error = await feed.done.then(
        () => null,
        (failure: { errors?: unknown; cause?: unknown }) => failure.errors ?? failure.cause,
      );
      return JSON.parse(JSON.stringify(error).replaceAll(id, '<id>')) as unknown;
    };
    for (const [query, id, unknown] of [
      ['subscription ($id: ID!) { executionUpdated(executionId: $id) { execution { id } } }', execution.id, randomUUID()],
      ['subscription ($id: ID!) { workflowExecutions(workflowId: $id) { execution { id } } }', workflowId, randomUUID()],
    ] as const) {
      const foreign = await refusal(query, id);
      expect(JSON.stringify(foreign)).toContain('NOT_FOUND');
      expect(foreign).toEqual(await refusal(query, unknown));
    }
    // A's own subscriber is served.
    const own = collect<{ executionUpdated: { execution: { id: string } } }>(
      api.wsClient(keys.operatorA),
      'subscription ($id: ID!) { executionUpdated(executionId: $id) { execution { id } } }',
      {
        id: execution.id,
      },
    );
    await expect.poll(() => own.messages.length, { timeout: 20_000 }).toBeGreaterThan(0);
    own.stop();
  });

  it('tells a worker on nodeJobs of its own tenant’s jobs only, on a queue name two tenants share', async () => {
    type Notice = { kind: string; available: boolean; executionId: string | null };
    const feed = collect<{ nodeJobs: Notice }>(api.wsClient(keys.workerB), 'subscription { nodeJobs(queue: "shared") { kind available executionId } }', {});
    await expect.poll(() => feed.messages.length, { timeout: 20_000 }).toBe(1);
    expect(feed.messages[0]!.nodeJobs).toMatchObject({ kind: 'AVAILABLE', available: false });
    const claim = (who: string) => as(who)('mutation { claimNodes(queue: "shared", workerId: "w", max: 1) { executionId } }');
    const claimed = async (who: string, executionId: string) =>
      expect.poll(async () => (await claim(who)).data?.claimNodes?.[0]?.executionId, { timeout: 20_000 }).toBe(executionId);
    // A's job on "shared", claimed and cancelled: B's worker hears of neither.
    const ofA = await started('operatorA', await created('adminA', waiting('shared')));
    await claimed('workerA', ofA.id);
    await as('operatorA')('mutation ($id: ID!) { cancelExecution(id: $id) { status } }', { id: ofA.id });
    // Then B's own: notices come in commit order, so one of A's would have come before these.
    const ofB = await started('operatorB', await created('adminB', waiting('shared')));
    await expect.poll(() => feed.messages.some(({ nodeJobs }) => nodeJobs.available), { timeout: 20_000 }).toBe(true);
    await claimed('workerB', ofB.id);
    await as('operatorB')('mutation ($id: ID!) { cancelExecution(id: $id) { status } }', { id: ofB.id });
    await expect.poll(() => feed.messages.some(({ nodeJobs }) => nodeJobs.executionId === ofB.id), { timeout: 20_000 }).toBe(true);
    feed.stop();
    const notices = feed.messages.map(({ nodeJobs }) => nodeJobs);
    expect(notices.filter((notice) => notice.available)).toHaveLength(1);
    expect(notices.filter((notice) => notice.kind === 'ATTEMPT_ENDED')).toEqual([{ kind: 'ATTEMPT_ENDED', available: false, executionId: ofB.id }]);
  });

  it('lets a worker hand back a job of its own tenant, and answers one of another tenant as unknown', async () => {
    const execution = await started('operatorB', await created('adminB', waiting('handed-back')));
    const claim = () => as('workerB')('mutation { claimNodes(queue: "handed-back", workerId: "w", max: 1) { executionId attempt } }');
    await expect.poll(async () => (await claim()).data?.claimNodes?.[0]?.executionId, { timeout: 20_000 }).toBe(execution.id);
    const release = (who: string, id: string) => as(who)('mutation ($id: ID!) { releaseNode(executionId: $id, nodeId: "work", attempt: 1) { status attempt } }', { id });
    const foreign = await release('workerA', execution.id);
    const unknown = randomUUID();
    expect(shape(foreign, execution.id)).toEqual(shape(await release('workerA', unknown), unknown));
    expect(JSON.stringify(foreign.errors)).toContain('NOT_FOUND');
    const own = await release('workerB', execution.id);
    expect(own.errors).toBeUndefined();
    expect(own.data.releaseNode).toEqual({ status: 'QUEUED', attempt: 2 });
    // Ended, so that it holds no slot of B's in the limit tests below.
    await as('operatorB')('mutation ($id: ID!) { cancelExecution(id: $id) { status } }', { id: execution.id });
  });

  it('lets emitEvent and execution.completed reach only the same tenant’s triggers', async () => {
    const inA = await created('adminA', listening('order.placed'));
    const inB = await created('adminB', listening('order.placed'));
    // Both listen to the completions of A's listener: only A's own may hear them.
    const chainedA = await created('adminA', listening('execution.completed', inA));
    const chainedB = await created('adminB', listening('execution.completed', inA));
    const emitted = await as('operatorA')('mutation { emitEvent(name: "order.placed", data: { n: 1 }) { id workflowId } }');
    expect(emitted.errors).toBeUndefined();
    expect(emitted.data.emitEvent.map((each: { workflowId: string }) => each.workflowId)).toEqual([inA]);
    // The chain: A's listener of execution.completed starts once A's execution ends; B's never does.
    const countOf = async (who: string, workflowId: string) =>
      (await as(who)('query ($id: ID!) { executions(workflowId: $id) { totalCount } }', { id: workflowId })).data.executions.totalCount;
    await expect.poll(() => countOf('adminA', chainedA), { timeout: 20_000 }).toBeGreaterThan(0);
    await api.caughtUp();
    expect(await countOf('adminB', inB)).toBe(0);
    expect(await countOf('adminB', chainedB)).toBe(0);
  });

  it('lets emitEvent complete only the same tenant’s waits, and signalNode answer another tenant’s execution as an unknown one', async () => {
    const nodeStatus = async (who: string, id: string) =>
      (await as(who)('query ($id: ID!) { execution(id: $id) { nodeStates { nodeId status } } }', { id })).data.execution?.nodeStates.find(
        (node: { nodeId: string }) => node.nodeId === 'w',
      )?.status;
    const inA = await started('operatorA', await created('adminA', waitingOn('paid')));
    const inB = await started('operatorB', await created('adminB', waitingOn('paid')));
    for (const [who, id] of [
      ['adminA', inA.id],
      ['adminB', inB.id],
    ] as const)
      await expect.poll(() => nodeStatus(who, id), { timeout: 20_000 }).toBe('RUNNING');
    expect((await as('operatorA')('mutation { emitEvent(name: "paid", data: { n: 1 }) { id } }')).errors).toBeUndefined();
    await expect.poll(() => statusOf('adminA', inA.id), { timeout: 20_000 }).toBe('COMPLETED');
    const signal = 'mutation ($id: ID!) { signalNode(executionId: $id, nodeId: "w", data: { stolen: true }) { status } }';
    const unknown = randomUUID();
    expect(shape(await as('operatorA')(signal, { id: inB.id }), inB.id)).toEqual(shape(await as('operatorA')(signal, { id: unknown }), unknown));
    await api.caughtUp();
    expect(await nodeStatus('adminB', inB.id)).toBe('RUNNING');
    expect((await as('operatorB')(signal, { id: inB.id })).data.signalNode.status).toBe('COMPLETED');
  });

  it('routes one webhook path in two tenants each to its own workflow, under /tenants/<id>/webhooks/', async () => {
    const ofA = await created('adminA', hooked('orders'));
    const ofB = await created('adminB', hooked('orders'));
    const post = (path: string) => fetch(`${api.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":1}' });
    const answers = await Promise.all([post(`/tenants/${tenantIds.A}/webhooks/orders`), post(`/tenants/${tenantIds.B}/webhooks/orders`)]);
    expect(answers.map((answer) => answer.status)).toEqual([202, 202]);
    const [inA, inB] = (await Promise.all(answers.map((answer) => answer.json()))) as Array<{ executionId: string }>;
    const workflowOf = async (who: string, id: string) => (await as(who)('query ($id: ID!) { execution(id: $id) { workflowId } }', { id })).data.execution?.workflowId;
    expect([await workflowOf('adminA', inA!.executionId), await workflowOf('adminB', inB!.executionId)]).toEqual([ofA, ofB]);
    expect(await workflowOf('adminB', inA!.executionId)).toBeUndefined();
    // The tenant default has no such path, and an unknown tenant no paths at all.
    expect((await post('/webhooks/orders')).status).toBe(404);
    expect((await post(`/tenants/${randomUUID()}/webhooks/orders`)).status).toBe(404);
  });

  it("gives an execution its own tenant's secrets only", async () => {
    const value = 'tenant-a-secret-5d1e';
    expect((await as('adminA')('mutation ($value: String!) { setSecret(name: "TOKEN", value: $value) { name } }', { value })).errors).toBeUndefined();
    expect((await as('adminB')('{ secrets { name } }')).data.secrets).toEqual([]);
    const checkOf = async (who: string, status: string) => {
      const execution = await started(who.replace('admin', 'operator'), await created(who, comparing(value)));
      await expect.poll(() => statusOf(who, execution.id), { timeout: 20_000 }).toBe(status);
      await api.caughtUp();
      const answer = await as(who)(OUTPUT, { id: execution.id });
      return answer.data.execution.nodeStates.find((node: { nodeId: string }) => node.nodeId === 'check');
    };
    expect((await checkOf('adminA', 'COMPLETED')).output).toEqual({ same: true, has: true });
    // B has no TOKEN: reading it fails the node, as for any secret nobody set.
    expect(await checkOf('adminB', 'FAILED')).toMatchObject({ errorCode: 'SECRET_NOT_FOUND' });
  });

  it('queues a tenant’s executions past its maxConcurrentExecutions, first in, first out, across its workflows', async () => {
    const update = 'mutation ($id: ID!, $max: Int) { updateTenant(id: $id, maxConcurrentExecutions: $max) { id maxConcurrentExecutions } }';
    const limited = await as('adminB')(update, { id: tenantIds.B, max: 1 });
    expect(limited.data.updateTenant).toEqual({ id: tenantIds.B, maxConcurrentExecutions: 1 });
    const [first, second] = [await created('adminB', waiting('limited')), await created('adminB', waiting('limited'))];
    const one = await started('operatorB', first);
    const two = await started('operatorB', second);
    const three = await started('operatorB', first);
    expect([one.status, two.status, three.status]).toEqual(['RUNNING', 'QUEUED', 'QUEUED']);
    // Another tenant is not held up by B's limit.
    expect((await started('operatorA', await created('adminA', waiting('unlimited')))).status).toBe('RUNNING');

    const finishOne = async () => {
      let claimed: Array<{ executionId: string; nodeId: string; attempt: number }> = [];
      await expect
        .poll(
          async () => {
            claimed = (await as('workerB')('mutation { claimNodes(queue: "limited", workerId: "wb") { executionId nodeId attempt } }')).data.claimNodes;
            return claimed.length;
          },
          { timeout: 20_000 },
        )
        .toBe(1);
      const job = claimed[0]!;
      const done = await as('workerB')('mutation ($id: ID!, $attempt: Int) { completeNode(executionId: $id, nodeId: "work", attempt: $attempt, output: {}) { status } }', {
        id: job.executionId,
        attempt: job.attempt,
      });
      expect(done.errors).toBeUndefined();
      return job.executionId;
    };
    expect(await finishOne()).toBe(one.id);
    await expect.poll(() => statusOf('adminB', two.id), { timeout: 20_000 }).toBe('RUNNING');
    expect(await statusOf('adminB', three.id)).toBe('QUEUED');
    expect(await finishOne()).toBe(two.id);
    await expect.poll(() => statusOf('adminB', three.id), { timeout: 20_000 }).toBe('RUNNING');

    // Bounded, and only for the tenant's own ADMIN (another tenant's id answers as an unknown one).
    expect((await as('adminB')(update, { id: tenantIds.B, max: 10_001 })).errors?.[0]?.extensions.code).toBe('BAD_USER_INPUT');
    const foreign = shape(await as('adminB')(update, { id: tenantIds.A, max: 5 }), tenantIds.A!);
    const unknownId = randomUUID();
    expect(foreign).toEqual(shape(await as('adminB')(update, { id: unknownId, max: 5 }), unknownId));
    expect(JSON.stringify(foreign)).toContain('NOT_FOUND');
    expect((await as('adminB')(update, { id: tenantIds.B, max: null })).data.updateTenant.maxConcurrentExecutions).toBeNull();
  });

  it('lets a start of another workflow past a long queue held by its own workflow’s limit (the tenant’s queue read page by page)', async () => {
    const tenantId = (await api.gql('mutation { createTenant(name: "tenant C") { id } }')).data.createTenant.id;
    keys.adminC = await api.createKey({ name: 'admin C', roles: ['ADMIN'], tenantId, canViewPayloads: true });
    expect((await as('adminC')('mutation ($id: ID!) { updateTenant(id: $id, maxConcurrentExecutions: 2) { id } }', { id: tenantId })).errors).toBeUndefined();
    const held = await created('adminC', { ...waiting('held'), settings: { maxConcurrentExecutions: 1 } });
    const statuses: string[] = [];
    for (let each = 0; each < 150; each++) statuses.push((await started('adminC', held)).status);
    expect(statuses.filter((status) => status === 'RUNNING')).toHaveLength(1);
    // One slot of the tenant is free: the other workflow's start takes it, past 149 that wait for theirs.
    expect((await started('adminC', await created('adminC', waiting('free')))).status).toBe('RUNNING');
    expect((await started('adminC', await created('adminC', waiting('free')))).status).toBe('QUEUED');
  });

  it('lets only an ADMIN of the tenant default create tenants and see them all; keys only for tenants that exist', async () => {
    expect((await as('adminA')('mutation { createTenant(name: "sneaky") { id } }')).errors?.[0]?.extensions.code).toBe('FORBIDDEN');
    expect((await as('operatorA')('{ tenants { id } }')).errors?.[0]?.extensions.code).toBe('FORBIDDEN');
    expect((await as('adminA')('{ tenants { id } }')).data.tenants).toEqual([{ id: tenantIds.A }]);
    const all = (await api.gql('{ tenants { id name } }')).data.tenants.map((tenant: { name: string }) => tenant.name);
    expect(all).toEqual(['default', 'tenant A', 'tenant B', 'tenant C']);
    expect((await api.gql('mutation { createTenant(name: "tenant A") { id } }')).errors?.[0]?.extensions.code).toBe('BAD_USER_INPUT');
    const forNobody = await api.gql('mutation ($input: ApiKeyInput!) { createApiKey(input: $input) { secret } }', {
      input: { name: 'x', roles: ['VIEWER'], tenantId: randomUUID() },
    });
    expect(forNobody.errors?.[0]?.extensions.code).toBe('NOT_FOUND');
  });
});
