import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SLOW_SUBSCRIBER_CLOSE_CODE } from '../../src/api/live/socketSink.js';
import { BACKENDS } from '../support/backends.js';
import { apiPerTest, collect, type Api, type ApiOptions } from './apiHarness.js';
import { MAX_PAYLOAD_INLINE_BYTES } from '../../src/payloads/payloads.js';

const CREATE = `mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id } }`;
const START = `mutation($workflowId: ID!) { startTrigger(workflowId: $workflowId, triggerNodeId: "start") { id } }`;
const CLAIM = `mutation { claimNodes(queue: "live", workerId: "w", max: 1, leaseMs: 60000) { nodeId } }`;
const COMPLETE = `mutation($id: ID!, $output: JSON) { completeNode(executionId: $id, nodeId: "gate", output: $output) { status } }`;
const STATUS_ONLY = `subscription($id: ID!) { executionUpdated(executionId: $id) { status } }`;
const NODES = `subscription($id: ID!) { executionUpdated(executionId: $id) { status progress changedNodes { nodeId status } } }`;

interface Update {
  status: string;
  changedNodes?: Array<{ nodeId: string; status: string }>;
}

/**
 * `start`, a `gate` that waits for the test (an external node), then `length` noops one after the
 * other, each with a timeoutMs so that none runs ahead: every step is a commit and a message of its own.
 */
const gated = (length: number) => {
  const nodes = [
    { id: 'start', type: 'trigger.manual' },
    { id: 'gate', type: 'external', parameters: { queue: 'live' } },
    ...Array.from({ length }, (_, i) => ({ id: `n${i}`, type: 'noop', timeoutMs: 600_000 })),
  ];
  return { name: 'live', nodes, connections: nodes.slice(1).map((node, i) => ({ source: nodes[i]!.id, target: node.id })) };
};

// Deadlines for conditions that hold on any healthy machine, however busy: generous on purpose.
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 60_000, interval: 50 });
const TEST_TIMEOUT_MS = 180_000;

const [postgres] = BACKENDS;

describe(`live updates through the server on ${postgres!.name}`, () => {
  const startServer = apiPerTest(TEST_TIMEOUT_MS);
  let api: Api | undefined;

  /** A server and a started gated execution, at rest until the test opens the gate. */
  async function startGated(length: number, options: ApiOptions = {}): Promise<{ api: Api; id: string }> {
    api = await startServer(() => postgres!.create(), options);
    const created = await api.gql(CREATE, { input: gated(length) });
    const id: string = (await api.gql(START, { workflowId: created.data.createWorkflow.id })).data.startTrigger.id;
    return { api, id };
  }

  /** Claims the gate once it is queued for workers (the work queue, not the read model) and completes it. */
  async function openGate(id: string, output: unknown = {}): Promise<void> {
    await poll(async () => (await api!.gql(CLAIM)).data.claimNodes.length).toBe(1);
    const completed = await api!.gql(COMPLETE, { id, output });
    expect(completed.errors).toBeUndefined();
    expect(completed.data.completeNode.status).toBe('COMPLETED');
  }

  it(
    'serves a subscriber that selects only status from the execution row: no read of its nodes, however long it runs',
    async () => {
      const { api, id } = await startGated(20);
      const since = api.readModelQueries.length;
      const feed = collect<{ executionUpdated: Update }>(api.wsClient(), STATUS_ONLY, { id });
      await poll(() => feed.messages.length).toBeGreaterThan(0);
      await openGate(id);
      const updates = (await feed.done).map((message) => message.executionUpdated);
      expect(updates.at(-1)!.status).toBe('COMPLETED');
      const queries = api.readModelQueries.slice(since);
      // The snapshot read the execution's row (maybe twice: once more after waiting for the projections), and nothing else.
      expect(queries.length).toBeGreaterThan(0);
      expect(queries.every((text) => /FROM flow_execution WHERE id = \$1$/.test(text.trim()))).toBe(true);
      expect(queries.join('\n')).not.toMatch(/node_execution_state|execution_dependency/);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'executes a document once per version for every subscriber that sent it, and sends each the same messages',
    async () => {
      const { api, id } = await startGated(10);
      // The gate is claimed first, so the execution is at rest before anyone subscribes.
      await poll(async () => (await api.gql(CLAIM)).data.claimNodes.length).toBe(1);
      const [first, second] = [api.wsClient(), api.wsClient()].map((client) => collect<{ executionUpdated: Update }>(client, NODES, { id }));
      // Each has seen the gate running (in its snapshot, or in a message after it, if the snapshot was read before the claim's projection).
      const seesGateRunning = (messages: Array<{ executionUpdated: Update }>) =>
        messages.some((message) => message.executionUpdated.changedNodes!.some((node) => node.nodeId === 'gate' && node.status === 'RUNNING'));
      await poll(() => seesGateRunning(first!.messages) && seesGateRunning(second!.messages)).toBe(true);
      const seen = [first!.messages.length, second!.messages.length];
      const before = api.app.liveSinks.frames.executed;
      const completed = await api.gql(COMPLETE, { id, output: {} });
      expect(completed.errors).toBeUndefined();
      const [all, allOfSecond] = await Promise.all([first!.done, second!.done]);
      const [a, b] = [all.slice(seen[0]), allOfSecond.slice(seen[1])];
      expect(a.at(-1)!.executionUpdated.status).toBe('COMPLETED');
      expect(b).toEqual(a);
      // Every message after the gate opened came from one execution shared by both (executed
      // once per subscriber, it would count twice as many as the messages each received).
      const executed = api.app.liveSinks.frames.executed - before;
      expect(executed).toBeGreaterThanOrEqual(a.length);
      expect(executed).toBeLessThan(2 * a.length);
      for (let i = 0; i < 10; i++)
        expect(a.some((message) => message.executionUpdated.changedNodes!.some((node) => node.nodeId === `n${i}` && node.status === 'COMPLETED'))).toBe(true);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'drops a subscriber whose socket stops reading, with close code 1013 and a log line, while another gets every message',
    async () => {
      const logged: string[] = [];
      const logger = pino({ level: 'warn' }, new Writable({ write: (chunk: Buffer, _, done) => (logged.push(chunk.toString()), done()) }));
      const length = 24;
      // Payloads inline (at the bound's maximum): stored apart, the half-megabyte output would reach subscribers as a small reference.
      const engine = { payloadInlineBytes: MAX_PAYLOAD_INLINE_BYTES };
      const { api, id } = await startGated(length, { slowSubscribers: { maxBufferedBytes: 64 * 1024, maxBehindMs: 1_000 }, logger, engine });

      // The slow one selects every node's input and output: each step sends about a megabyte,
      // far more than the kernel's socket buffers hold.
      const slow = new WebSocket(`${api.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
      const slowMessages: string[] = [];
      slow.on('message', (data: Buffer) => slowMessages.push(data.toString()));
      const closed = new Promise<number>((resolve) => slow.on('close', resolve));
      await new Promise((resolve) => slow.once('open', resolve));
      slow.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${api.adminKey}` } }));
      await poll(() => slowMessages.some((message) => message.includes('connection_ack'))).toBe(true);
      const everything = `subscription($id: ID!) { executionUpdated(executionId: $id) { status changedNodes { nodeId input output } } }`;
      slow.send(JSON.stringify({ id: 'slow', type: 'subscribe', payload: { query: everything, variables: { id } } }));
      await poll(() => slowMessages.some((message) => message.includes('"next"'))).toBe(true);
      // Stops reading: the TCP socket under the WebSocket is paused, as a stuck client's would be.
      (slow as unknown as { _socket: { pause(): void } })._socket.pause();

      const fast = collect<{ executionUpdated: Update }>(api.wsClient(), NODES, { id });
      await poll(() => fast.messages.length).toBeGreaterThan(0);
      await openGate(id, { parts: Array.from({ length: 2_000 }, () => 'x'.repeat(250)) });
      const updates = (await fast.done).map((message) => message.executionUpdated);
      expect(updates.at(-1)!.status).toBe('COMPLETED');
      for (let i = 0; i < length; i++)
        expect(
          updates.some((update) => update.changedNodes!.some((node) => node.nodeId === `n${i}` && node.status === 'COMPLETED')),
          `n${i}`,
        ).toBe(true);

      await poll(() => logged.some((line) => line.includes('the client did not read its messages'))).toBe(true);
      await poll(() => api.app.executionUpdates.subscriberCount).toBe(0);
      // Reading again, the client finds what was sent before the bound, then the close.
      (slow as unknown as { _socket: { resume(): void } })._socket.resume();
      expect(await closed).toBe(SLOW_SUBSCRIBER_CLOSE_CODE);
      expect(slowMessages.some((message) => message.includes('"status":"COMPLETED"'))).toBe(false);
    },
    TEST_TIMEOUT_MS,
  );
});
