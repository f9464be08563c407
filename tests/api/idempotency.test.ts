import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type Backend } from '../support/backends.js';
import { startApi, type Api } from './apiHarness.js';

const CREATE = `mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id } }`;
const START = `mutation($workflowId: ID!, $key: String, $data: JSON) { startTrigger(workflowId: $workflowId, triggerNodeId: "start", data: $data, idempotencyKey: $key) { id } }`;
const manual = {
  name: 'keyed',
  nodes: [
    { id: 'start', type: 'trigger.manual' },
    { id: 'done', type: 'noop' },
  ],
  connections: [{ source: 'start', target: 'done' }],
};
const WINDOW_MS = 24 * 60 * 60 * 1000;

describe.each(BACKENDS)('idempotent starts on $name', ({ create }) => {
  let backend: Backend;
  let api: Api;
  // The engine's clock, moved forward instead of waiting out the window.
  let clockOffsetMs = 0;
  beforeAll(async () => {
    backend = await create();
    api = await startApi(backend, { engine: { clock: () => new Date(Date.now() + clockOffsetMs) } });
    // PGlite's start-up alone can take most of the default on a busy machine.
  }, 120_000);
  afterAll(async () => {
    await api?.close();
    await backend?.dispose();
  });

  const newWorkflow = async (definition: object = manual): Promise<string> => (await api.gql(CREATE, { input: definition })).data.createWorkflow.id;
  const start = async (workflowId: string, key: string | null, data: unknown = null): Promise<string> => {
    const response = await api.gql(START, { workflowId, key, data });
    expect(response.errors).toBeUndefined();
    return response.data.startTrigger.id;
  };
  /** What the event log holds, not what a read model shows. */
  const startedExecutions = async (workflowId: string): Promise<string[]> =>
    (await backend.db.query<{ id: string }>(`SELECT data->>'executionId' AS id FROM events WHERE type = 'ExecutionStarted' AND data->>'workflowId' = $1`, [workflowId])).rows.map(
      (row) => row.id,
    );

  it('starts one execution for concurrent startTrigger calls with one key, and answers each of them with it', async () => {
    const workflowId = await newWorkflow();
    const ids = await Promise.all(Array.from({ length: 8 }, (_, i) => start(workflowId, 'order-1', { call: i })));
    expect(new Set(ids).size).toBe(1);
    expect(await startedExecutions(workflowId)).toEqual([ids[0]]);
    // A later retry gets the same execution, with the data of the call that started it.
    expect(await start(workflowId, 'order-1', { call: 'retry' })).toBe(ids[0]);
    const { rows } = await backend.db.query<{ data: { triggerData: { call: unknown } } }>(`SELECT data FROM events WHERE type = 'ExecutionStarted' AND data->>'workflowId' = $1`, [
      workflowId,
    ]);
    expect(rows).toHaveLength(1);
    expect(typeof rows[0]!.data.triggerData.call).toBe('number');
  });

  it('starts another execution for another key, another workflow, or no key', async () => {
    const [first, second] = [await newWorkflow(), await newWorkflow()];
    const a = await start(first, 'same');
    expect(await start(first, 'other')).not.toBe(a);
    const elsewhere = await start(second, 'same');
    expect(elsewhere).not.toBe(a);
    expect(await start(second, 'same')).toBe(elsewhere);
    const [x, y] = [await start(first, null), await start(first, null)];
    expect(x).not.toBe(y);
    expect(await startedExecutions(first)).toHaveLength(4);
  });

  it('starts a new execution once the window is over, and answers that one afterwards', async () => {
    const workflowId = await newWorkflow();
    const first = await start(workflowId, 'nightly');
    clockOffsetMs += WINDOW_MS - 60_000;
    expect(await start(workflowId, 'nightly')).toBe(first);
    clockOffsetMs += 2 * 60_000;
    const second = await start(workflowId, 'nightly');
    expect(second).not.toBe(first);
    expect(await start(workflowId, 'nightly')).toBe(second);
    expect((await startedExecutions(workflowId)).sort()).toEqual([first, second].sort());
  });

  it('refuses a key longer than 255 characters, empty or not printable ASCII with BAD_USER_INPUT, and starts nothing', async () => {
    const workflowId = await newWorkflow();
    for (const key of ['k'.repeat(256), '', 'tab\there', 'caf\u00e9']) {
      const response = await api.gql(START, { workflowId, key });
      expect(response.errors?.[0]?.extensions.code, JSON.stringify(key)).toBe('BAD_USER_INPUT');
      expect(response.errors?.[0]?.message).toMatch(/idempotency key/);
    }
    expect(await startedExecutions(workflowId)).toEqual([]);
    expect(await start(workflowId, 'k'.repeat(255))).toBe(await start(workflowId, 'k'.repeat(255)));
  });

  it('answers concurrent webhook calls with one Idempotency-Key with 202 and the one execution they started', async () => {
    const path = `keyed-${randomUUID()}`;
    const workflowId = await newWorkflow({
      name: 'keyed hook',
      nodes: [
        { id: 'hook', type: 'trigger.webhook', parameters: { path } },
        { id: 'done', type: 'noop' },
      ],
      connections: [{ source: 'hook', target: 'done' }],
    });
    const post = async (key?: string) => {
      const headers: Record<string, string> = { 'content-type': 'application/json', ...(key === undefined ? {} : { 'idempotency-key': key }) };
      const response = await fetch(`${api.url}/webhooks/${path}`, { method: 'POST', headers, body: JSON.stringify({ n: 1 }) });
      return { status: response.status, body: (await response.json()) as { executionId?: string; error?: { code: string } } };
    };
    // The webhook registry learns of the new path from the log.
    const deadline = Date.now() + 30_000;
    let warmUp = await post();
    while (warmUp.status === 404 && Date.now() < deadline) warmUp = await post();
    expect(warmUp.status).toBe(202);

    const answers = await Promise.all(Array.from({ length: 8 }, () => post('delivery-7')));
    expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(202));
    const id = answers[0]!.body.executionId;
    expect(answers.every((answer) => answer.body.executionId === id)).toBe(true);
    // The quoted form of the header (draft-ietf-httpapi-idempotency-key-header) is the same key.
    expect((await post('"delivery-7"')).body.executionId).toBe(id);
    expect((await post('delivery-8')).body.executionId).not.toBe(id);
    expect(await post('k'.repeat(256))).toEqual({ status: 400, body: { error: { code: 'BAD_USER_INPUT', message: expect.stringMatching(/idempotency key/) } } });
    expect(await startedExecutions(workflowId)).toHaveLength(3);
  });
});
