import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookRoutes } from '../../src/api/webhookRoutes.js';
import type { SqlExecutor } from '../../src/db/sqlClient.js';
import { DomainError } from '../../src/domain/errors.js';
import type { ExecutionStarted } from '../../src/domain/execution/events.js';
import type { NodeDefinition, WorkflowDefinition } from '../../src/domain/workflow/workflow.js';
import { derivedId } from '../../src/runtime/triggers/derivedId.js';
import { signBody } from '../../src/runtime/triggers/webhookSignature.js';
import { BACKENDS, type Backend } from '../support/backends.js';
import { createHarness, type Harness } from '../support/engineHarness.js';

const chain = (triggers: NodeDefinition[], nodes: NodeDefinition[], settings = {}): WorkflowDefinition => ({
  name: 'trigger test',
  nodes: [...triggers, ...nodes],
  connections: [...triggers.map((trigger) => ({ source: trigger.id, target: nodes[0]!.id })), ...nodes.slice(1).map((node, i) => ({ source: nodes[i]!.id, target: node.id }))],
  settings,
});

const noop = (id = 'end'): NodeDefinition => ({ id, type: 'noop' });

/** Every execution a workflow started, oldest first, read straight from the event log. */
async function startsOf(db: SqlExecutor, workflowId: string): Promise<Array<ExecutionStarted['data']>> {
  const { rows } = await db.query<{ data: ExecutionStarted['data'] }>(
    `SELECT data FROM events WHERE type = 'ExecutionStarted' AND data->>'workflowId' = $1 ORDER BY global_position`,
    [workflowId],
  );
  return rows.map((row) => row.data);
}

/** An upper bound only: on a busy machine a firing or a start can take seconds. */
async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not reached: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(BACKENDS)('triggers on $name', ({ create }) => {
  let backend: Backend;
  let h: Harness;
  const errors: unknown[] = [];
  beforeAll(async () => {
    backend = await create();
    h = await createHarness(backend, { maxEventChainDepth: 3, onError: (error) => errors.push(error) });
  });
  afterAll(async () => {
    await h.close();
    await backend.dispose();
  });

  it('startTrigger refuses a node that is missing or not a trigger, and an unknown workflow', async () => {
    const workflow = await h.engine.workflows.create(chain([{ id: 'start', type: 'trigger.manual' }], [noop()]));
    const codeOf = (promise: Promise<unknown>) =>
      promise.then(
        () => null,
        (error: unknown) => (error as DomainError).code,
      );
    expect(await codeOf(h.engine.startTrigger(workflow.id, 'nope', {}))).toBe('NOT_FOUND');
    expect(await codeOf(h.engine.startTrigger(workflow.id, 'end', {}))).toBe('BAD_USER_INPUT');
    expect(await codeOf(h.engine.startTrigger('no-such-workflow', 'start', {}))).toBe('NOT_FOUND');
    expect(await startsOf(backend.db, workflow.id)).toEqual([]);
  });

  // An upper bound only: a hundred executions on embedded PGlite, which shares the test's process and a busy machine's cores, took 4 s to over 30 s.
  it('runs 50 + 50 concurrent executions of two triggers sharing a chain, each on its own trigger data', { timeout: 180_000 }, async () => {
    const workflow = await h.engine.workflows.create(
      chain(
        [
          { id: 'left', type: 'trigger.manual' },
          { id: 'right', type: 'trigger.manual' },
        ],
        [
          { id: 'tag', type: 'transform', parameters: { mapping: '{ "n": trigger.n * 10, "via": trigger.via }' } },
          { id: 'inc', type: 'transform', parameters: { mapping: '{ "n": input.tag.n + 1, "via": input.tag.via }' } },
          noop('end'),
        ],
      ),
    );
    const starts = Array.from({ length: 100 }, (_, n) => {
      const via = n % 2 === 0 ? 'left' : 'right';
      return h.engine.startTrigger(workflow.id, via, { n, via });
    });
    const finished = await Promise.all((await Promise.all(starts)).map((started) => h.waitFor(started.id)));
    for (const state of finished) {
      const { n, via } = state.triggerData as { n: number; via: string };
      expect(state.status).toBe('COMPLETED');
      expect(state.triggerNodeId).toBe(via);
      expect([...state.nodes.keys()].sort()).toEqual(['end', 'inc', 'tag', via].sort());
      expect(state.nodes.get('tag')!.input).toEqual({ [via]: { n, via } });
      expect(state.nodes.get('end')!.output).toEqual({ inc: { n: n * 10 + 1, via } });
    }
    expect(new Set(finished.map((state) => state.id)).size).toBe(100);
  });

  it('keeps running executions on the version they started with when the workflow is updated', async () => {
    const version = (label: string) =>
      chain(
        [{ id: 'start', type: 'trigger.manual' }],
        [
          { id: 'wait', type: 'delay', parameters: { ms: 300 } },
          { id: 'label', type: 'transform', parameters: { mapping: `"${label}"` } },
        ],
      );
    const workflow = await h.engine.workflows.create(version('v1'));
    const first = await h.engine.startTrigger(workflow.id, 'start', {});
    await h.waitFor(first.id, (state) => state.nodes.get('wait')!.status === 'RUNNING');
    await h.engine.workflows.update(workflow.id, version('v2'));
    const second = await h.waitFor((await h.engine.startTrigger(workflow.id, 'start', {})).id);
    const done = await h.waitFor(first.id);
    expect([done.workflowVersion, done.nodes.get('label')!.output]).toEqual([1, 'v1']);
    expect([second.workflowVersion, second.nodes.get('label')!.output]).toEqual([2, 'v2']);
  });

  describe('webhooks', () => {
    let app: FastifyInstance;
    let url: string;
    const secret = 'shh-it-is-a-secret';
    let signed: string;
    let open: string;
    const post = (path: string, body: string, headers: Record<string, string> = {}) =>
      fetch(`${url}/webhooks/${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

    beforeAll(async () => {
      const webhook = (path: string, extra = {}): NodeDefinition => ({ id: 'hook', type: 'trigger.webhook', parameters: { path, ...extra } });
      signed = (await h.engine.workflows.create(chain([webhook(`orders/${backend.db.kind}/new`, { secret })], [noop()]))).id;
      open = (await h.engine.workflows.create(chain([webhook(`ping-${backend.db.kind}`)], [noop()]))).id;
      app = Fastify();
      await app.register(webhookRoutes, { engine: h.engine });
      await app.listen({ port: 0, host: '127.0.0.1' });
      url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    });
    afterAll(() => app.close());

    it('starts a signed webhook with its JSON body as trigger data, with or without the sha256= prefix', async () => {
      const body = JSON.stringify({ order: 42 });
      const signature = signBody(secret, Buffer.from(body));
      for (const header of [`sha256=${signature}`, signature]) {
        const response = await post(`orders/${backend.db.kind}/new`, body, { 'x-cascade-signature': header });
        expect(response.status).toBe(202);
        const { executionId } = (await response.json()) as { executionId: string };
        const state = await h.waitFor(executionId);
        expect([state.status, state.triggerNodeId, state.triggerData]).toEqual(['COMPLETED', 'hook', { order: 42 }]);
      }
    });

    it('refuses a missing or wrong signature with 401 and starts nothing', async () => {
      const before = (await startsOf(backend.db, signed)).length;
      const body = JSON.stringify({ order: 43 });
      for (const headers of [{} as Record<string, string>, { 'x-cascade-signature': signBody('wrong secret', Buffer.from(body)) }, { 'x-cascade-signature': 'sha256=zz' }]) {
        const response = await post(`orders/${backend.db.kind}/new`, body, headers);
        expect(response.status).toBe(401);
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
      }
      // The signature covers the exact bytes: the same JSON spaced differently is another body.
      const resigned = signBody(secret, Buffer.from(body));
      expect((await post(`orders/${backend.db.kind}/new`, JSON.stringify({ order: 43 }, null, 2), { 'x-cascade-signature': resigned })).status).toBe(401);
      expect(await startsOf(backend.db, signed)).toHaveLength(before);
    });

    it('starts an unsigned webhook, also without a body (trigger data null)', async () => {
      const response = await post(`ping-${backend.db.kind}`, '[1,2]');
      expect(response.status).toBe(202);
      const empty = await fetch(`${url}/webhooks/ping-${backend.db.kind}`, { method: 'POST' });
      expect(empty.status).toBe(202);
      const states = await Promise.all([response, empty].map(async (each) => h.waitFor(((await each.json()) as { executionId: string }).executionId)));
      expect(states.map((state) => state.triggerData)).toEqual([[1, 2], null]);
    });

    it('answers 404, 413, 415 and 400 with a JSON error, starting nothing', async () => {
      const before = (await startsOf(backend.db, open)).length;
      const cases: Array<[Promise<Response>, number, string]> = [
        [post('no/such/path', '{}'), 404, 'NOT_FOUND'],
        [post(`ping-${backend.db.kind}`, ' '.repeat(1024 * 1024 + 1)), 413, 'PAYLOAD_TOO_LARGE'],
        [post(`ping-${backend.db.kind}`, 'hello', { 'content-type': 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
        [post(`ping-${backend.db.kind}`, '{"broken": '), 400, 'BAD_USER_INPUT'],
      ];
      for (const [request, status, code] of cases) {
        const response = await request;
        expect([response.status, ((await response.json()) as { error: { code: string } }).error.code]).toEqual([status, code]);
      }
      expect(await startsOf(backend.db, open)).toHaveLength(before);
    });

    it('refuses a webhook path another workflow owns, and frees it when that workflow drops it', async () => {
      const taken = chain([{ id: 'hook', type: 'trigger.webhook', parameters: { path: `ping-${backend.db.kind}` } }], [noop()]);
      const error = await h.engine.workflows.create(taken).catch((caught: unknown) => caught);
      expect((error as DomainError).code).toBe('VALIDATION_FAILED');
      expect((error as DomainError).message).toMatch(/already used by workflow/);
      await h.engine.workflows.update(open, chain([{ id: 'hook', type: 'trigger.webhook', parameters: { path: `pong-${backend.db.kind}` } }], [noop()]));
      const claimed = await h.engine.workflows.create(taken);
      const response = await post(`ping-${backend.db.kind}`, '{}');
      const { executionId } = (await response.json()) as { executionId: string };
      expect((await h.waitFor(executionId)).workflowId).toBe(claimed.id);
    });
  });

  describe('events', () => {
    it('emitEvent starts every workflow listening to the name, and nothing for an unknown name', async () => {
      const name = `order.created.${backend.db.kind}`;
      const listener = (id: string) =>
        chain([{ id, type: 'trigger.event', parameters: { event: name } }], [{ id: 'total', type: 'transform', parameters: { mapping: 'trigger.qty * 2' } }]);
      const a = await h.engine.workflows.create(listener('on-order'));
      const b = await h.engine.workflows.create(listener('also-on-order'));
      const started = await h.engine.emitEvent(name, { qty: 21 });
      expect(started.map((state) => state.workflowId).sort()).toEqual([a.id, b.id].sort());
      const done = await Promise.all(started.map((state) => h.waitFor(state.id)));
      expect(done.map((state) => state.nodes.get('total')!.output)).toEqual([42, 42]);
      expect(await h.engine.emitEvent(`nobody.listens.${backend.db.kind}`, {})).toEqual([]);
    });

    it('chains workflows: a completion starts the workflow listening to it, with the leaf outputs', async () => {
      const upstream = await h.engine.workflows.create(
        chain([{ id: 'start', type: 'trigger.manual' }], [{ id: 'price', type: 'transform', parameters: { mapping: 'trigger.amount * 3' } }]),
      );
      const downstream = await h.engine.workflows.create(
        chain(
          [{ id: 'after', type: 'trigger.event', parameters: { event: 'execution.completed', workflowId: upstream.id } }],
          [{ id: 'report', type: 'transform', parameters: { mapping: '"total " & trigger.outputs.price' } }],
        ),
      );
      const first = await h.waitFor((await h.engine.startTrigger(upstream.id, 'start', { amount: 5 })).id);
      const ending = (await h.events(first.id)).at(-1)!;
      const chained = await h.waitFor(derivedId('event', ending.id, downstream.id, 'after'));
      expect(chained.triggerData).toEqual({ workflowId: upstream.id, executionId: first.id, status: 'COMPLETED', outputs: { price: 15 }, chainDepth: 1 });
      expect(chained.nodes.get('report')!.output).toBe('total 15');
      // The downstream's own completion names the downstream workflow: it starts nothing.
      await sleep(300);
      expect(await startsOf(backend.db, downstream.id)).toHaveLength(1);
    });

    it('emits execution.failed for a failed execution', async () => {
      const failing = await h.engine.workflows.create(chain([{ id: 'start', type: 'trigger.manual' }], [{ id: 'boom', type: 'fail', parameters: { message: 'nope' } }]));
      const onFailure = await h.engine.workflows.create(
        chain([{ id: 'alarm', type: 'trigger.event', parameters: { event: 'execution.failed', workflowId: failing.id } }], [noop()]),
      );
      const failed = await h.waitFor((await h.engine.startTrigger(failing.id, 'start', {})).id);
      const [alarm] = await until(
        () => startsOf(backend.db, onFailure.id),
        (starts) => starts.length > 0,
      );
      expect(alarm!.triggerData).toMatchObject({ executionId: failed.id, status: 'FAILED', outputs: {} });
    });
  });

  describe('event chains', () => {
    it('runs a workflow triggered by its own completion once per completion, until the chain depth limit', async () => {
      const id = `loop-${backend.db.kind}`;
      await h.engine.workflows.create(
        chain(
          [
            { id: 'start', type: 'trigger.manual' },
            { id: 'again', type: 'trigger.event', parameters: { event: 'execution.completed', workflowId: id } },
          ],
          [noop()],
        ),
        {},
        id,
      );
      await h.engine.startTrigger(id, 'start', {});
      const starts = await until(
        () => startsOf(backend.db, id),
        (each) => each.length === 4,
      );
      await until(
        async () => errors,
        (each) => each.some((error) => /event chain is 3 executions long/.test(String(error))),
      );
      expect(await startsOf(backend.db, id)).toHaveLength(4);
      expect(starts.map((start) => (start.triggerData as { chainDepth?: number } | null)?.chainDepth ?? 0)).toEqual([0, 1, 2, 3]);
    });

    it('starts nothing twice when the completion feed replays from the beginning', async () => {
      const source = await h.engine.workflows.create(chain([{ id: 'start', type: 'trigger.manual' }], [noop()]));
      const sink = await h.engine.workflows.create(chain([{ id: 'on', type: 'trigger.event', parameters: { event: 'execution.completed', workflowId: source.id } }], [noop()]));
      await h.engine.startTrigger(source.id, 'start', {});
      await until(
        () => startsOf(backend.db, sink.id),
        (each) => each.length === 1,
      );
      const allStarts = async () => (await backend.db.query(`SELECT 1 FROM events WHERE type = 'ExecutionStarted'`)).rows.length;
      const before = await allStarts();
      // Every completion so far (chains of the tests above included) is handled again.
      await backend.db.query(`DELETE FROM runtime_checkpoints WHERE name = 'execution-outcomes'`);
      const replaying = h.newEngine();
      await replaying.start();
      await until(
        () => backend.db.query(`SELECT 1 FROM runtime_checkpoints WHERE name = 'execution-outcomes'`),
        ({ rows }) => rows.length > 0,
      );
      await replaying.stop();
      expect(await allStarts()).toBe(before);
    });
  });

  // Last: it stops the harness engine (downtime), later tests start their own.
  describe('schedules', () => {
    it('fires every second, never twice per occurrence across restarts and processes, and once for what it missed', async () => {
      const workflow = await h.engine.workflows.create(chain([{ id: 'tick', type: 'trigger.schedule', parameters: { cron: '* * * * * *' } }], [noop()]));
      const firings = () => startsOf(backend.db, workflow.id);
      await until(firings, (each) => each.length >= 1);
      await h.engine.stop();
      await sleep(2_200);
      const lastBeforeRestart = Math.max(...(await firings()).map((start) => Date.parse((start.triggerData as { scheduledAt: string }).scheduledAt)));
      const restartedAt = Date.now();
      // Two processes from now on: each occurrence is claimed by one of them.
      const [a, b] = [h.newEngine(), h.newEngine()];
      await Promise.all([a.start(), b.start()]);
      await until(firings, (each) => each.some((start) => Date.parse((start.triggerData as { scheduledAt: string }).scheduledAt) > restartedAt));
      await Promise.all([a.stop(), b.stop()]);

      const data = (await firings()).map((start) => start.triggerData as { scheduledAt: string; firedAt: string });
      const scheduledAt = data.map((each) => Date.parse(each.scheduledAt));
      expect(new Set(scheduledAt).size).toBe(scheduledAt.length);
      expect(scheduledAt.every((at) => at % 1000 === 0)).toBe(true);
      // The occurrences missed while down fire once, at restart; then every second again.
      const missed = data.filter((each) => Date.parse(each.scheduledAt) > lastBeforeRestart && Date.parse(each.scheduledAt) < restartedAt);
      expect(missed).toHaveLength(1);
      expect(Date.parse(missed[0]!.firedAt)).toBeGreaterThanOrEqual(restartedAt);
      const ids = (await firings()).map((start) => start.executionId);
      expect(ids).toEqual(data.map((each) => derivedId('schedule', workflow.id, 'tick', each.scheduledAt)));
    });

    it('keeps schedules in line with workflow updates, in the node time zone', async () => {
      const engine = h.newEngine();
      await engine.start();
      const workflow = await engine.workflows.create(chain([{ id: 'daily', type: 'trigger.schedule', parameters: { cron: '0 9 * * *', timezone: 'Asia/Tokyo' } }], [noop()]));
      const { rows } = await until(
        () => backend.db.query<{ timezone: string; next_fire_at: Date | string }>('SELECT timezone, next_fire_at FROM schedules WHERE workflow_id = $1', [workflow.id]),
        (result) => result.rows.length > 0,
      );
      expect(rows[0]!.timezone).toBe('Asia/Tokyo');
      expect(new Date(rows[0]!.next_fire_at).getUTCHours()).toBe(0);
      await engine.workflows.update(workflow.id, chain([{ id: 'start', type: 'trigger.manual' }], [noop()]));
      await until(
        () => backend.db.query('SELECT 1 FROM schedules WHERE workflow_id = $1', [workflow.id]),
        ({ rows: left }) => left.length === 0,
      );
      await engine.stop();
    });
  });
});
