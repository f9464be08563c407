import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type Backend } from '../support/backends.js';
import { collect, startApi, type Api } from '../api/apiHarness.js';

const CREATE = 'mutation ($input: WorkflowInput!) { createWorkflow(input: $input) { id } }';
const START = 'mutation ($id: ID!) { startTrigger(workflowId: $id, triggerNodeId: "start", data: { secretish: 42 }) { id status } }';
const NODES = 'query ($id: ID!) { execution(id: $id) { status nodeStates { nodeId input output } } }';
const code = (answer: { errors?: Array<{ extensions: { code: string } }> }) => answer.errors?.[0]?.extensions.code;

const waiting = (queue: string, settings: Record<string, unknown> = {}) => ({
  name: `waits on ${queue}`,
  nodes: [
    { id: 'start', type: 'trigger.manual' },
    { id: 'shape', type: 'transform', parameters: { mapping: '{ "shaped": trigger.secretish }' } },
    { id: 'work', type: 'external', parameters: { queue } },
  ],
  connections: [
    { source: 'start', target: 'shape' },
    { source: 'shape', target: 'work' },
  ],
  settings,
});

/** Resolves with the close code of a raw graphql-ws socket after its connection_init. */
async function closeCodeAfterInit(url: string, payload: unknown): Promise<number> {
  const socket = new WebSocket(`${url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
  const closed = new Promise<number>((resolve) => socket.once('close', resolve));
  await new Promise((resolve) => socket.once('open', resolve));
  socket.send(JSON.stringify({ type: 'connection_init', ...(payload === undefined ? {} : { payload }) }));
  return closed;
}

describe('authentication and roles over HTTP and graphql-ws', () => {
  const postgres = BACKENDS.find((each) => each.name === 'postgres')!;
  let backend: Backend;
  let api: Api;
  let workflowId: string;

  beforeAll(async () => {
    backend = await postgres.create();
    api = await startApi(backend);
    workflowId = (await api.gql(CREATE, { input: waiting('q1') })).data.createWorkflow.id;
  });
  afterAll(async () => {
    await api.close();
    await backend.dispose();
  });

  it('answers 401 UNAUTHENTICATED without a key or with a bad one, and closes graphql-ws with 4401', async () => {
    for (const key of [null, 'csk_not-a-key', 'nonsense']) {
      const answer = await api.gql('{ workflows { id } }', {}, key);
      expect(answer.status).toBe(401);
      expect(code(answer)).toBe('UNAUTHENTICATED');
      expect(answer.data).toBeNull();
    }
    expect(await closeCodeAfterInit(api.url, undefined)).toBe(4401);
    expect(await closeCodeAfterInit(api.url, { authorization: 'Bearer csk_wrong' })).toBe(4401);
    expect((await fetch(`${api.url}/health`)).status).toBe(200);
    expect((await api.gql('{ me { tenantId roles subject keyId } }')).data.me).toMatchObject({ tenantId: 'default', roles: ['ADMIN'], subject: 'harness admin' });
  });

  it('lets a VIEWER read but not start or cancel (FORBIDDEN)', async () => {
    const viewer = await api.createKey({ name: 'viewer', roles: ['VIEWER'] });
    const started = (await api.gql(START, { id: workflowId })).data.startTrigger.id;
    expect(code(await api.gql(START, { id: workflowId }, viewer))).toBe('FORBIDDEN');
    expect(code(await api.gql('mutation ($id: ID!) { cancelExecution(id: $id) { id } }', { id: started }, viewer))).toBe('FORBIDDEN');
    expect(code(await api.gql(CREATE, { input: waiting('q1') }, viewer))).toBe('FORBIDDEN');
    expect((await api.gql('{ workflows { id } }', {}, viewer)).data.workflows.map((each: { id: string }) => each.id)).toContain(workflowId);
  });

  it('shows a VIEWER without canViewPayloads null inputs and outputs, in queries and subscription messages', async () => {
    const blind = await api.createKey({ name: 'blind', roles: ['VIEWER'] });
    const seeing = await api.createKey({ name: 'seeing', roles: ['VIEWER'], canViewPayloads: true });
    const id = (await api.gql(START, { id: workflowId })).data.startTrigger.id;
    const shapeOf = async (key: string) => {
      const answer = await api.gql(NODES, { id }, key);
      return answer.data.execution.nodeStates.find((node: { nodeId: string }) => node.nodeId === 'shape');
    };
    await expect.poll(async () => (await shapeOf(api.adminKey))?.output, { timeout: 20_000 }).toEqual({ shaped: 42 });
    // The read model has it too: every key below reads the same row.
    await api.caughtUp();
    expect(await shapeOf(seeing)).toMatchObject({ output: { shaped: 42 } });
    expect(await shapeOf(blind)).toMatchObject({ input: null, output: null });
    const events = async (key: string) => JSON.stringify((await api.gql('query ($id: ID!) { executionEvents(executionId: $id) { type data } }', { id }, key)).data.executionEvents);
    expect(await events(seeing)).toContain('"shaped":42');
    expect(await events(seeing)).toContain('"secretish":42');
    // Ids and times may hold the digits 42: the payloads are looked for as JSON.
    expect(await events(blind)).not.toMatch(/"(shaped|secretish)":42/);
    expect(await events(blind)).toContain('"triggerData":null');

    const subscription = 'subscription ($id: ID!) { executionUpdated(executionId: $id) { execution { nodeStates { nodeId output } } } }';
    const blindFeed = collect<any>(api.wsClient(blind), subscription, { id });
    const seeingFeed = collect<any>(api.wsClient(seeing), subscription, { id });
    await expect.poll(() => blindFeed.messages.length + seeingFeed.messages.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
    const outputs = (feed: typeof blindFeed) => feed.messages[0].executionUpdated.execution.nodeStates.map((node: { output: unknown }) => node.output);
    expect(outputs(blindFeed).every((output: unknown) => output === null)).toBe(true);
    expect(outputs(seeingFeed)).toContainEqual({ shaped: 42 });
    blindFeed.stop();
    seeingFeed.stop();
  });

  it('keeps a WORKER to its queues: no claim on q2, no reading of workflows, a job of q2 answered as unknown', async () => {
    const worker = await api.createKey({ name: 'worker', roles: ['WORKER'], queues: ['q1'] });
    const otherFlow = (await api.gql(CREATE, { input: waiting('q2') })).data.createWorkflow.id;
    const onQ2 = (await api.gql(START, { id: otherFlow })).data.startTrigger.id;
    const claim = (queue: string, key: string) => api.gql(`mutation { claimNodes(queue: "${queue}", workerId: "w", max: 1) { executionId nodeId } }`, {}, key);
    expect(code(await claim('q2', worker))).toBe('FORBIDDEN');
    expect(code(await api.gql('{ workflows { id } }', {}, worker))).toBe('FORBIDDEN');
    expect(code(await api.gql('mutation ($id: ID!) { cancelExecution(id: $id) { id } }', { id: onQ2 }, worker))).toBe('FORBIDDEN');
    await expect.poll(async () => (await backend.db.query('SELECT 1 FROM external_jobs WHERE execution_id = $1', [onQ2])).rows.length, { timeout: 20_000 }).toBe(1);
    const complete = await api.gql(`mutation ($e: ID!) { completeNode(executionId: $e, nodeId: "work", output: null) { status } }`, { e: onQ2 }, worker);
    expect(code(complete)).toBe('NOT_FOUND');
    expect(complete.errors![0]!.message).toBe(`execution ${onQ2} not found`);
    const claimed = await claim('q1', worker);
    expect(claimed.errors).toBeUndefined();
  });

  it('refuses a revoked key at once, and ends its open subscription with an error', async () => {
    const operator = await api.createKey({ name: 'soon revoked', roles: ['OPERATOR'] });
    const keyId = (await api.gql('{ me { keyId } }', {}, operator)).data.me.keyId;
    const id = (await api.gql(START, { id: workflowId }, operator)).data.startTrigger.id;
    const feed = collect<any>(api.wsClient(operator), 'subscription ($id: ID!) { executionUpdated(executionId: $id) { status } }', { id });
    // Caught at once: the socket closes while revokeApiKey is answered.
    const ended = feed.done.then(
      () => null,
      (error: { cause?: { code?: number } }) => error.cause?.code,
    );
    await expect.poll(() => feed.messages.length, { timeout: 20_000 }).toBeGreaterThan(0);
    const revoked = await api.gql('mutation ($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }', { id: keyId });
    expect(revoked.data.revokeApiKey.revokedAt).not.toBeNull();
    const answer = await api.gql('{ workflows { id } }', {}, operator);
    expect([answer.status, code(answer)]).toEqual([401, 'UNAUTHENTICATED']);
    expect(await ended).toBe(4401);
    const listed = (await api.gql('{ apiKeys { id name revokedAt } }')).data.apiKeys;
    expect(listed.find((key: { id: string }) => key.id === keyId).revokedAt).not.toBeNull();
  });

  it('ends a key revoked through another process at once there too, not after its 30 s cache', async () => {
    const other = await startApi(backend);
    try {
      const operator = await api.createKey({ name: 'revoked elsewhere', roles: ['OPERATOR'] });
      const keyId = (await api.gql('{ me { keyId } }', {}, operator)).data.me.keyId;
      // The other process has the key in its cache, and a subscription open with it.
      expect((await other.gql('{ workflows { id } }', {}, operator)).errors).toBeUndefined();
      const id = (await other.gql(START, { id: workflowId }, operator)).data.startTrigger.id;
      const feed = collect<any>(other.wsClient(operator), 'subscription ($id: ID!) { executionUpdated(executionId: $id) { status } }', { id });
      const ended = feed.done.then(
        () => null,
        (error: { cause?: { code?: number } }) => error.cause?.code,
      );
      await expect.poll(() => feed.messages.length, { timeout: 20_000 }).toBeGreaterThan(0);
      expect((await api.gql('mutation ($id: ID!) { revokeApiKey(id: $id) { id } }', { id: keyId })).errors).toBeUndefined();
      // Without the notification the socket would stay open for ever (only the cache would lapse).
      expect(await ended).toBe(4401);
      expect(code(await other.gql('{ workflows { id } }', {}, operator))).toBe('UNAUTHENTICATED');
    } finally {
      await other.close();
    }
  });

  it('refuses an expired key', async () => {
    const expired = await api.createKey({ name: 'expired', roles: ['ADMIN'], expiresAt: new Date(Date.now() - 1_000).toISOString() });
    expect(code(await api.gql('{ workflows { id } }', {}, expired))).toBe('UNAUTHENTICATED');
    const shortLived = await api.createKey({ name: 'short lived', roles: ['VIEWER'], expiresAt: new Date(Date.now() + 1_500).toISOString() });
    expect((await api.gql('{ workflows { id } }', {}, shortLived)).errors).toBeUndefined();
    const id = (await api.gql(START, { id: workflowId })).data.startTrigger.id;
    const feed = collect<any>(api.wsClient(shortLived), 'subscription ($id: ID!) { executionUpdated(executionId: $id) { status } }', { id });
    const ended = feed.done.then(
      () => null,
      (error: { cause?: { code?: number } }) => error.cause?.code,
    );
    expect(await ended).toBe(4401);
    await expect.poll(async () => code(await api.gql('{ workflows { id } }', {}, shortLived)), { timeout: 20_000 }).toBe('UNAUTHENTICATED');
  });

  it('makes keys of another tenant only as an ADMIN of the tenant default, and only for a tenant that exists', async () => {
    await backend.db.query("INSERT INTO tenants (id, name) VALUES ('acme', 'Acme') ON CONFLICT DO NOTHING");
    const acmeAdmin = await api.createKey({ name: 'acme admin', roles: ['ADMIN'], tenantId: 'acme' });
    expect((await api.gql('{ me { tenantId } }', {}, acmeAdmin)).data.me.tenantId).toBe('acme');
    const intoDefault = await api.gql('mutation { createApiKey(input: { name: "x", roles: [ADMIN], tenantId: "default" }) { secret } }', {}, acmeAdmin);
    expect(code(intoDefault)).toBe('FORBIDDEN');
    expect(code(await api.gql('mutation { createApiKey(input: { name: "x", roles: [ADMIN], tenantId: "nowhere" }) { secret } }'))).toBe('NOT_FOUND');
    expect(code(await api.gql(`mutation { createApiKey(input: { name: "${'n'.repeat(101)}", roles: [ADMIN] }) { secret } }`))).toBe('BAD_USER_INPUT');
    expect((await api.gql('{ apiKeys { name } }', {}, acmeAdmin)).data.apiKeys).toEqual([{ name: 'acme admin' }]);
  });

  it('shows a key secret once, in the csk_ form, and stores only its hash', async () => {
    const made = await api.gql('mutation { createApiKey(input: { name: "shown once", roles: [VIEWER] }) { secret apiKey { id name roles canViewPayloads revokedAt } } }');
    const { secret, apiKey } = made.data.createApiKey;
    expect(secret).toMatch(/^csk_[A-Za-z0-9_-]{43}$/);
    expect(apiKey).toMatchObject({ name: 'shown once', roles: ['VIEWER'], canViewPayloads: false, revokedAt: null });
    const { rows } = await backend.db.query('SELECT * FROM api_keys WHERE id = $1', [apiKey.id]);
    expect(JSON.stringify(rows)).not.toContain(secret);
  });
});
