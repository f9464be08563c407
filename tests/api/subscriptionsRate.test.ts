import { describe, expect, it } from 'vitest';
import { DEFAULT_BURST } from '../../src/api/live/executionUpdates.js';
import { BACKENDS } from '../support/backends.js';
import { apiPerTest, type Api } from './apiHarness.js';

interface Update {
  status: string;
  changedNodes: Array<{ nodeId: string; status: string }>;
}

const CREATE = `mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id } }`;
const START = `mutation($workflowId: ID!) { startTrigger(workflowId: $workflowId, triggerNodeId: "start") { id } }`;
const WATCH = `subscription($id: ID!) { executionUpdated(executionId: $id) { status changedNodes { nodeId status } } }`;
const STATES = `query($id: ID!) { execution(id: $id) { nodeStates { nodeId status } } }`;
const CLAIM = `mutation { claimNodes(queue: "rate", workerId: "w", max: 1, leaseMs: 60000) { nodeId attempt } }`;
const COMPLETE = `mutation($id: ID!, $nodeId: ID!) { completeNode(executionId: $id, nodeId: $nodeId, output: {}) { status } }`;

/**
 * `start`, a `gate` that waits for this test (an external node: it changes only when the test
 * says so, however fast or slow the machine), then the given delays one after the other.
 */
const gated = (ms: number[]) => {
  const nodes = [
    { id: 'start', type: 'trigger.manual', parameters: {} },
    { id: 'gate', type: 'external', parameters: { queue: 'rate' } },
    ...ms.map((each, i) => ({ id: `d${i}`, type: 'delay', parameters: { ms: each } })),
  ];
  return { name: 'rate', nodes, connections: nodes.slice(1).map((node, i) => ({ source: nodes[i]!.id, target: node.id })) };
};

// Deadlines for conditions that hold on any healthy machine, however busy: generous on purpose.
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 60_000, interval: 50 });
const TEST_TIMEOUT_MS = 180_000;

/** Every message of an executionUpdated subscription with the time it arrived. */
function watch(api: Api, executionId: string) {
  const messages: Array<{ at: number; update: Update }> = [];
  const errors: unknown[] = [];
  const stop = api.wsClient().subscribe<{ executionUpdated: Update }>(
    { query: WATCH, variables: { id: executionId } },
    {
      next: (message) => (message.errors ? errors.push(message.errors) : messages.push({ at: Date.now(), update: message.data!.executionUpdated })),
      error: (error) => errors.push(error),
      complete: () => {},
    },
  );
  /** Index of the first message showing the node in that status. */
  const showing = (nodeId: string, status: string) => messages.findIndex(({ update }) => update.changedNodes.some((node) => node.nodeId === nodeId && node.status === status));
  return { messages, errors, stop, showing };
}

describe.each(BACKENDS)('subscription message rate on $name', ({ create }) => {
  const startServer = apiPerTest(TEST_TIMEOUT_MS);
  let api: Api | undefined;

  /**
   * Starts the gated workflow; resolves once the read model shows the gate QUEUED: from then on
   * nothing changes until the test moves the gate, so a subscription that starts now has its
   * whole burst for the changes the test makes.
   */
  async function startGated(coalesceMs: number, ms: number[]): Promise<string> {
    api = await startServer(create, { coalesceMs });
    const created = await api.gql(CREATE, { input: gated(ms) });
    const id: string = (await api.gql(START, { workflowId: created.data.createWorkflow.id })).data.startTrigger.id;
    const gate = async () => (await api!.gql(STATES, { id })).data.execution.nodeStates.find((node: { nodeId: string }) => node.nodeId === 'gate').status;
    await poll(gate).toBe('QUEUED');
    return id;
  }

  /** Claims the gate (it may take a moment to be queued for workers): it goes RUNNING. */
  const claimGate = () => poll(async () => (await api!.gql(CLAIM)).data.claimNodes.length).toBe(1);
  const completeGate = async (id: string) => expect((await api!.gql(COMPLETE, { id, nodeId: 'gate' })).data.completeNode.status).toBe('COMPLETED');

  it(
    'sends each of a few changes at once, even right after a message, without waiting for the window',
    async () => {
      // A window far longer than any deadline here: only the burst can let these changes through.
      const id = await startGated(3_600_000, []);
      const feed = watch(api!, id);
      await poll(() => feed.messages.length).toBeGreaterThan(0);
      // Each step happens only after the previous message arrived: each is a change right after a message.
      await claimGate();
      await poll(() => feed.showing('gate', 'RUNNING')).toBeGreaterThan(0);
      await completeGate(id);
      await poll(() => feed.showing('gate', 'COMPLETED')).toBeGreaterThan(feed.showing('gate', 'RUNNING'));
      expect(feed.errors).toEqual([]);
      feed.stop();
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'coalesces a busy execution: a burst of messages at once, then at most one per window',
    async () => {
      const coalesceMs = 1_000;
      const chain = Array.from({ length: 12 }, () => 10);
      const id = await startGated(coalesceMs, chain);
      // Every message but the snapshot is booked with the execution's token bucket, and none
      // before this instant: nobody followed the execution before.
      const since = Date.now();
      const feed = watch(api!, id);
      await poll(() => feed.messages.length).toBeGreaterThan(0);
      await claimGate();
      await completeGate(id);
      // Some 40 commits in quick succession.
      await poll(() => feed.messages.at(-1)?.update.status).toBe('COMPLETED');
      const [, ...changes] = feed.messages;
      // The bucket sends the n-th message no sooner than (n - burst) windows after the first; the
      // first was booked after `since`, and the last was sent before it arrived. Both ends are
      // measured outward, so a slow machine or a late delivery only loosens the bound.
      const elapsedMs = feed.messages.at(-1)!.at - since;
      expect(changes.length).toBeLessThanOrEqual(DEFAULT_BURST + Math.floor(elapsedMs / coalesceMs));
      // Nothing is lost by coalescing: every node was shown completing.
      chain.forEach((_, i) => expect(feed.showing(`d${i}`, 'COMPLETED'), `d${i}`).toBeGreaterThanOrEqual(0));
      expect(feed.errors).toEqual([]);
      feed.stop();
    },
    TEST_TIMEOUT_MS,
  );
});
