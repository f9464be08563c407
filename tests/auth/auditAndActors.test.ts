import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type Backend } from '../support/backends.js';
import { collect, startApi, type Api } from '../api/apiHarness.js';

const code = (answer: { errors?: Array<{ extensions: { code: string } }> }) => answer.errors?.[0]?.extensions.code;
const SECRET_VALUE = 'audit-must-never-see-7c41e2';
const JWT_SECRET = 'a-test-only-hmac-secret-of-32-chars!!';
const AUDIT = `query ($first: Int, $after: String, $actor: ID, $action: String) {
  auditLog(first: $first, after: $after, actor: $actor, action: $action) { totalCount nodes { at actor tenantId action targetIds outcome requestId } pageInfo { endCursor hasNextPage } }
}`;

const held = {
  name: 'held by a worker',
  nodes: [
    { id: 'start', type: 'trigger.manual' },
    { id: 'work', type: 'external', parameters: { queue: 'held' } },
  ],
  connections: [{ source: 'start', target: 'work' }],
  settings: { maxConcurrentExecutionsPerUser: 1 },
};

describe('the audit log, the actor of events, and JWTs', () => {
  const postgres = BACKENDS.find((each) => each.name === 'postgres')!;
  let backend: Backend;
  let api: Api;

  beforeAll(async () => {
    backend = await postgres.create();
    api = await startApi(backend, { jwt: { jwksUrl: null, secret: JWT_SECRET, issuer: 'https://issuer.test', audience: 'cascade' } });
  });
  afterAll(async () => {
    await api.close();
    await backend.dispose();
  });

  it('records accepted and refused mutations and refused requests, pages them, and never holds a secret value or a key secret', async () => {
    const viewer = await api.createKey({ name: 'audited viewer', roles: ['VIEWER'] });
    expect((await api.gql('mutation ($v: String!) { setSecret(name: "TOKEN", value: $v) { name } }', { v: SECRET_VALUE })).errors).toBeUndefined();
    expect(code(await api.gql('mutation { deleteSecret(name: "TOKEN") { name } }', {}, viewer))).toBe('FORBIDDEN');
    expect(code(await api.gql('{ secrets { name } }', {}, viewer))).toBe('FORBIDDEN');
    expect(code(await api.gql('{ workflows { id } }', {}, 'csk_unknown'))).toBe('UNAUTHENTICATED');
    await api.auth.audit.flushed();

    const all = (await api.gql(AUDIT, { first: 100 })).data.auditLog;
    const seen = all.nodes.map(({ actor, action, outcome }: Record<string, string>) => [actor, action, outcome]);
    expect(seen).toEqual([
      ['harness admin', 'createApiKey', 'OK'],
      ['harness admin', 'setSecret', 'OK'],
      ['audited viewer', 'deleteSecret', 'FORBIDDEN'],
      ['audited viewer', 'secrets', 'FORBIDDEN'],
      ['anonymous', 'POST /graphql', 'UNAUTHENTICATED'],
    ]);
    expect(all.nodes[1]).toMatchObject({ tenantId: 'default', targetIds: ['TOKEN'] });
    expect(all.nodes[1].requestId).toEqual(expect.any(String));

    const first = (await api.gql(AUDIT, { first: 2 })).data.auditLog;
    expect(first.totalCount).toBe(5);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = (await api.gql(AUDIT, { first: 2, after: first.pageInfo.endCursor })).data.auditLog;
    expect(second.nodes.map((entry: { action: string }) => entry.action)).toEqual(['deleteSecret', 'secrets']);
    expect((await api.gql(AUDIT, { actor: 'audited viewer' })).data.auditLog.totalCount).toBe(2);
    expect(code(await api.gql(AUDIT, {}, viewer))).toBe('FORBIDDEN');

    const table = JSON.stringify((await backend.db.query('SELECT * FROM audit_log')).rows);
    expect(table).not.toContain(SECRET_VALUE);
    expect(table).not.toContain(viewer);
    expect(table).not.toContain(api.adminKey);
  });

  it('makes the key the user of the executions it starts: one running per user, the rest QUEUED in order', async () => {
    const { id } = (await api.gql('mutation ($input: WorkflowInput!) { createWorkflow(input: $input) { id } }', { input: held })).data.createWorkflow;
    const users = { alice: await api.createKey({ name: 'alice', roles: ['OPERATOR'] }), bob: await api.createKey({ name: 'bob', roles: ['OPERATOR'] }) };
    const started: Record<string, string[]> = { alice: [], bob: [] };
    for (let round = 0; round < 3; round++) {
      for (const [user, key] of Object.entries(users)) {
        const answer = await api.gql('mutation ($id: ID!) { startTrigger(workflowId: $id, triggerNodeId: "start") { id } }', { id }, key);
        started[user]!.push(answer.data.startTrigger.id);
      }
    }
    const statuses = async (ids: string[]) =>
      Promise.all(ids.map(async (each) => (await api.gql('query ($id: ID!) { execution(id: $id) { status } }', { id: each })).data.execution.status));
    for (const user of ['alice', 'bob']) await expect.poll(() => statuses(started[user]!), { timeout: 20_000 }).toEqual(['RUNNING', 'QUEUED', 'QUEUED']);
    const events = await api.gql('query ($id: ID!) { executionEvents(executionId: $id) { userId } }', { id: started.bob![0] });
    expect(events.data.executionEvents[0].userId).toBe('bob');

    // The first of alice's finishes: her second runs, not her third, and bob's stay as they were.
    // Their jobs are written by the process manager after the start: claimed as they come.
    const claimed: string[] = [];
    const claim = async () => {
      const answer = await api.gql('mutation { claimNodes(queue: "held", workerId: "w", max: 10) { executionId } }');
      claimed.push(...answer.data.claimNodes.map((job: { executionId: string }) => job.executionId));
      return [...claimed].sort();
    };
    await expect.poll(claim, { timeout: 20_000 }).toEqual([started.alice![0], started.bob![0]].sort());
    await api.gql('mutation ($e: ID!) { completeNode(executionId: $e, nodeId: "work", output: null) { status } }', { e: started.alice![0] });
    await expect.poll(() => statuses(started.alice!), { timeout: 20_000 }).toEqual(['COMPLETED', 'RUNNING', 'QUEUED']);
    expect(await statuses(started.bob!)).toEqual(['RUNNING', 'QUEUED', 'QUEUED']);
  });

  it('accepts a JWT with the right secret, issuer and audience, and refuses any other', async () => {
    const sign = (claims: Record<string, unknown>, { secret = JWT_SECRET, issuer = 'https://issuer.test', audience = 'cascade' } = {}) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer(issuer).setAudience(audience).setExpirationTime('5m').sign(new TextEncoder().encode(secret));
    const good = await sign({ sub: 'jwt-user', tenant: 'default', roles: ['VIEWER'] });
    expect((await api.gql('{ me { subject roles tenantId keyId } }', {}, good)).data.me).toEqual({ subject: 'jwt-user', roles: ['VIEWER'], tenantId: 'default', keyId: null });
    expect(code(await api.gql('mutation { emitEvent(name: "x") { id } }', {}, good))).toBe('FORBIDDEN');
    const bad = [
      await sign({ sub: 'jwt-user', roles: ['ADMIN'] }, { secret: 'another-secret-of-thirty-two-chars!!' }),
      await sign({ sub: 'jwt-user', roles: ['ADMIN'] }, { issuer: 'https://elsewhere.test' }),
      await sign({ sub: 'jwt-user', roles: ['ADMIN'] }, { audience: 'someone-else' }),
      await sign({ roles: ['ADMIN'] }),
      await sign({ sub: 'jwt-user', roles: ['KING'] }),
      await sign({ sub: 'jwt-user', tenant: 'no-such-tenant', roles: ['ADMIN'] }),
    ];
    for (const token of bad) expect((await api.gql('{ me { subject } }', {}, token)).status).toBe(401);
  });

  it('ends a subscription opened with a JWT when the JWT expires, with 4401', async () => {
    const expiresAt = Math.floor(Date.now() / 1000) + 3;
    const token = await new SignJWT({ sub: 'jwt-watcher', tenant: 'default', roles: ['VIEWER'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('https://issuer.test')
      .setAudience('cascade')
      .setExpirationTime(expiresAt)
      .sign(new TextEncoder().encode(JWT_SECRET));
    const waiting = {
      name: 'watched',
      nodes: [
        { id: 'start', type: 'trigger.manual' },
        { id: 'work', type: 'external', parameters: { queue: 'jwt-expiry' } },
      ],
      connections: [{ source: 'start', target: 'work' }],
    };
    const workflowId = (await api.gql('mutation ($input: WorkflowInput!) { createWorkflow(input: $input) { id } }', { input: waiting })).data.createWorkflow.id;
    const id = (await api.gql('mutation ($id: ID!) { startTrigger(workflowId: $id, triggerNodeId: "start") { id } }', { id: workflowId })).data.startTrigger.id;
    const feed = collect<unknown>(api.wsClient(token), 'subscription ($id: ID!) { executionUpdated(executionId: $id) { status } }', { id });
    const ended = feed.done.then(
      () => null,
      (error: { cause?: { code?: number } }) => error.cause?.code,
    );
    expect(await ended).toBe(4401);
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt * 1000);
  });
});
