import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { SqlClient } from '../../src/db/sqlClient.js';
import { PAYLOAD_REFERENCE_KEY } from '../../src/domain/payloadReference.js';
import { defineNodeType } from '../../src/index.js';
import { Payloads } from '../../src/payloads/payloads.js';
import { PayloadStore } from '../../src/payloads/payloadStore.js';
import { BACKENDS } from '../support/backends.js';
import { apiPerTest, type Api } from '../api/apiHarness.js';

const KIB = 1024;
const MIB = 1024 * KIB;

/** Random hex (incompressible enough that the database stores about what it is given), one per size. */
const blobs = new Map<number, string>();
const blobOf = (bytes: number): string => {
  if (!blobs.has(bytes)) blobs.set(bytes, randomBytes(bytes / 2).toString('hex'));
  return blobs.get(bytes)!;
};

/** Outputs `{ blob }` of `bytes` characters: the large value at the head of a chain. */
const big = defineNodeType({
  type: 'test.big',
  parameters: { type: 'object', required: ['bytes'], properties: { bytes: { type: 'integer' } } },
  sideEffects: false,
  execute: async ({ parameters }) => ({ output: { blob: blobOf(Number(parameters.bytes)) } }),
});
/** Passes its input on under a lease: its attempt starts from the stored state (references), in a commit of its own. */
const relay = defineNodeType({
  type: 'test.relay',
  parameters: { type: 'object' },
  sideEffects: true,
  execute: async ({ input }) => ({ output: input }),
});
/** Reads an upstream's output through `nodes()`, under a lease (from the stored references): it must see the value. */
const peek = defineNodeType({
  type: 'test.peek',
  parameters: { type: 'object' },
  sideEffects: true,
  execute: async ({ nodes }) => ({ output: { length: ((await nodes()).big as { blob: string }).blob.length } }),
});

const CREATE = `mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id } }`;
const START = `mutation($id: ID!, $data: JSON) { startTrigger(workflowId: $id, triggerNodeId: "start", data: $data) { id } }`;
const STATUS = `query($id: ID!) { execution(id: $id) { status streamVersion nodeStates { nodeId status error } } }`;
const OUTPUTS = `query($id: ID!) { execution(id: $id) { nodeStates { nodeId input output } } }`;
const EVENTS = `query($id: ID!, $after: Int, $first: Int) { executionEvents(executionId: $id, after: $after, first: $first) { eventNumber type data } }`;
const EVENT_TYPES = `query($id: ID!) { executionEvents(executionId: $id, first: 1000) { eventNumber type } }`;
const AT = `query($id: ID!, $n: Int!) { executionAt(executionId: $id, eventNumber: $n) { nodeStates { nodeId output } } }`;

type Edge = [string, string];
const workflow = (nodes: Array<{ id: string; type: string; parameters?: object }>, edges: Edge[]) => ({
  name: 'large payloads',
  nodes: [{ id: 'start', type: 'trigger.manual' }, ...nodes],
  connections: edges.map(([source, target]) => ({ source, target })),
});

async function run(api: Api, definition: object, data: unknown = {}): Promise<string> {
  const created = await api.gql(CREATE, { input: definition });
  expect(created.errors).toBeUndefined();
  const started = await api.gql(START, { id: created.data.createWorkflow.id, data });
  expect(started.errors).toBeUndefined();
  const id = started.data.startTrigger.id as string;
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 50))) {
    const { data: answer } = await api.gql(STATUS, { id });
    if (answer?.execution?.status === 'COMPLETED') {
      await api.caughtUp();
      return id;
    }
    if (['FAILED', 'PARTIAL', 'CANCELLED'].includes(answer?.execution?.status)) throw new Error(`execution ended ${JSON.stringify(answer.execution)}`);
  }
  throw new Error('execution did not complete within a minute');
}

async function payloadRows(db: SqlClient): Promise<{ rows: number; bytes: number }> {
  const { rows } = await db.query<{ rows: string; bytes: string | null }>('SELECT count(*) AS rows, sum(octet_length(data)) AS bytes FROM payloads');
  return { rows: Number(rows[0]!.rows), bytes: Number(rows[0]!.bytes ?? 0) };
}

const eventBytes = async (db: SqlClient, id: string): Promise<number> => {
  const { rows } = await db.query<{ bytes: string }>('SELECT sum(octet_length(data::text)) AS bytes FROM events WHERE stream_id = $1', [`execution-${id}`]);
  return Number(rows[0]!.bytes);
};

/** A chain of `noops` noops after `big`, by id: start -> big -> n0 -> ... */
const noopChain = (bytes: number, noops: number) => {
  const ids = Array.from({ length: noops }, (_, i) => `n${i}`);
  const edges: Edge[] = [['start', 'big'], ...ids.map((id, i): Edge => [i === 0 ? 'big' : ids[i - 1]!, id])];
  return { definition: workflow([{ id: 'big', type: 'test.big', parameters: { bytes } }, ...ids.map((id) => ({ id, type: 'noop' }))], edges), last: ids.at(-1)! };
};

/** What a noop chain's node holds: each noop wraps its upstream's output in `{ <upstream>: ... }`. */
const wrapped = (blob: string, upstreams: string[]): unknown => upstreams.reduce<unknown>((value, id) => ({ [id]: value }), { blob });

describe('large payloads on postgres: 20 MB through a chain of 10 nodes', () => {
  const start = apiPerTest(120_000);

  it('writes the output to the database once, keeps the events small, and answers the value over GraphQL', async () => {
    const api = await start(BACKENDS[0]!.create, { engine: { nodeTypes: [big, relay] } });
    const { db } = api;
    const bytes = 20 * MIB;
    const { definition, last } = noopChain(bytes, 9);
    const id = await run(api, definition);
    // The blob is the one payload (its JSON string: 2 quotes more); every wrapper around it stays inline.
    expect(await payloadRows(db)).toEqual({ rows: 1, bytes: bytes + 2 });
    expect(await eventBytes(db, id)).toBeLessThan(100 * KIB);
    const types = (await api.gql(EVENT_TYPES, { id })).data.executionEvents as Array<{ eventNumber: number; type: string }>;
    const lastCompleted = types.filter((event) => event.type === 'NodeCompleted').at(-1)!;
    const { data, errors } = await api.gql(EVENTS, { id, after: lastCompleted.eventNumber - 1, first: 1 });
    expect(errors).toBeUndefined();
    expect(data.executionEvents[0].data.nodeId).toBe(last);
    const upstreams = ['big', ...Array.from({ length: 8 }, (_, i) => `n${i}`)];
    expect(data.executionEvents[0].data.output).toEqual(wrapped(blobOf(bytes), upstreams));
  }, 120_000);
});

for (const backend of BACKENDS) {
  describe(`large payloads on ${backend.name}`, () => {
    const start = apiPerTest(60_000);
    const inline = 64 * KIB;
    const bytes = 256 * KIB;

    it('shows the values in node states, executionEvents and executionAt, and stores references in events and read-model rows', async () => {
      const api = await start(backend.create, { engine: { nodeTypes: [big, relay, peek], payloadInlineBytes: inline } });
      const { db } = api;
      const definition = workflow(
        [
          { id: 'big', type: 'test.big', parameters: { bytes } },
          { id: 'relay', type: 'test.relay' },
          { id: 'peek', type: 'test.peek' },
          { id: 'count', type: 'transform', parameters: { mapping: '$length(input.relay.big.blob)' } },
          { id: 'echo', type: 'noop' },
        ],
        [
          ['start', 'big'],
          ['big', 'relay'],
          ['relay', 'count'],
          ['relay', 'echo'],
          ['relay', 'peek'],
        ],
      );
      const id = await run(api, definition);
      expect((await payloadRows(db)).rows).toBe(1);
      const blob = blobOf(bytes);

      const states = new Map(
        ((await api.gql(OUTPUTS, { id })).data.execution.nodeStates as Array<{ nodeId: string; input: unknown; output: unknown }>).map((node) => [node.nodeId, node]),
      );
      expect(states.get('big')!.output).toEqual({ blob });
      expect(states.get('relay')!.input).toEqual({ big: { blob } });
      expect(states.get('count')!.output).toBe(bytes);
      expect(states.get('peek')!.output).toEqual({ length: bytes });
      expect(states.get('echo')!.output).toEqual({ relay: { big: { blob } } });

      const { rows } = await db.query<{ output: unknown }>("SELECT output FROM node_execution_state WHERE execution_id = $1 AND node_id = 'big'", [id]);
      expect(rows[0]!.output).toEqual({ blob: { [PAYLOAD_REFERENCE_KEY]: expect.stringMatching(/^[0-9a-f]{64}$/), bytes: bytes + 2 } });
      const reference = (rows[0]!.output as { blob: unknown }).blob;

      const events = (await api.gql(EVENTS, { id, first: 1000 })).data.executionEvents as Array<{ eventNumber: number; type: string; data: { nodeId?: string; output?: unknown } }>;
      const completed = events.find((event) => event.type === 'NodeCompleted' && event.data.nodeId === 'big')!;
      expect(completed.data.output).toEqual({ blob });
      const at = (await api.gql(AT, { id, n: completed.eventNumber })).data.executionAt.nodeStates as Array<{ nodeId: string; output: unknown }>;
      expect(at.find((node) => node.nodeId === 'big')!.output).toEqual({ blob });

      // Another process (nothing cached) loads it from the table.
      expect(await new Payloads(new PayloadStore(db), inline).resolve('default', reference)).toBe(blob);
    }, 60_000);

    it('keeps small values inline, hides large ones from a VIEWER without canViewPayloads, and refuses the reserved key', async () => {
      const api = await start(backend.create, { engine: { nodeTypes: [big], payloadInlineBytes: inline } });
      const { db } = api;
      await run(api, noopChain(KIB, 3).definition, { small: true });
      expect((await payloadRows(db)).rows).toBe(0);

      const id = await run(api, noopChain(bytes, 2).definition);
      const blind = await api.createKey({ name: 'blind', roles: ['VIEWER'], canViewPayloads: false });
      const hidden = await api.gql(OUTPUTS, { id }, blind);
      expect(hidden.errors).toBeUndefined();
      for (const node of hidden.data.execution.nodeStates) expect([node.input, node.output]).toEqual([null, null]);
      const events = await api.gql(EVENTS, { id, first: 1000 }, blind);
      expect(JSON.stringify(events.data.executionEvents)).not.toContain(PAYLOAD_REFERENCE_KEY);

      const refused = await api.gql(START, { id: 'any', data: { nested: { [PAYLOAD_REFERENCE_KEY]: 'f'.repeat(64), bytes: 1 } } });
      expect(refused.errors![0]!.extensions.code).toBe('BAD_USER_INPUT');
      expect(refused.errors![0]!.message).toContain('reserved');
    }, 60_000);

    it('stores large trigger data once, shown as the trigger node output', async () => {
      const api = await start(backend.create, { engine: { payloadInlineBytes: inline } });
      const { db } = api;
      const data = { text: blobOf(128 * KIB) };
      const id = await run(api, workflow([{ id: 'a', type: 'noop' }], [['start', 'a']]), data);
      expect((await payloadRows(db)).rows).toBe(1);
      const states = new Map(((await api.gql(OUTPUTS, { id })).data.execution.nodeStates as Array<{ nodeId: string; output: unknown }>).map((node) => [node.nodeId, node.output]));
      expect(states.get('start')).toEqual(data);
      expect(states.get('a')).toEqual({ start: data });
      const started = (await api.gql(EVENTS, { id, first: 1 })).data.executionEvents[0];
      expect(started.data.triggerData).toEqual(data);
    }, 60_000);
  });
}
