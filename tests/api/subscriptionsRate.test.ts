import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_BURST } from '../../src/api/executionUpdates.js';
import { BACKENDS, type Backend } from '../support/backends.js';
import { startApi, type Api } from './apiHarness.js';

interface Update {
  status: string;
  changedNodes: Array<{ nodeId: string; status: string }>;
}

const CREATE = `mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id } }`;
const START = `mutation($workflowId: ID!) { startTrigger(workflowId: $workflowId, triggerNodeId: "start") { id } }`;
const WATCH = `subscription($id: ID!) { executionUpdated(executionId: $id) { status changedNodes { nodeId status } } }`;

/** `start`, then the given delays one after the other. */
const delays = (name: string, ms: number[]) => {
  const nodes = [{ id: 'start', type: 'trigger.manual', parameters: {} }, ...ms.map((each, i) => ({ id: `d${i}`, type: 'delay', parameters: { ms: each } }))];
  return { name, nodes, connections: nodes.slice(1).map((node, i) => ({ source: nodes[i]!.id, target: node.id })) };
};

const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 10_000 });

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
  let backend: Backend | undefined;
  let api: Api | undefined;
  afterEach(async () => {
    await api?.close();
    await backend?.dispose();
  });

  async function startDelays(coalesceMs: number, ms: number[]): Promise<string> {
    backend = await create();
    api = await startApi(backend, { coalesceMs });
    const created = await api.gql(CREATE, { input: delays('rate', ms) });
    return (await api.gql(START, { workflowId: created.data.createWorkflow.id })).data.startTrigger.id;
  }

  it('sends each of a few changes at once, even right after a message, without waiting for the window', async () => {
    // A window far longer than the test: only the burst can let these changes through in time.
    const id = await startDelays(60_000, [1_000, 300]);
    const status = async (nodeId: string) => (await api!.gql(`query($id: ID!) { execution(id: $id) { nodeStates { nodeId status } } }`, { id })).data.execution.nodeStates.find((node: { nodeId: string }) => node.nodeId === nodeId)?.status;
    await poll(() => status('d0')).toBe('RUNNING');
    const feed = watch(api!, id);
    // d0 completes, d1 is queued and starts (a few commits ms apart), then d1 runs alone for 300 ms.
    await poll(() => feed.showing('d1', 'COMPLETED')).toBeGreaterThan(0);
    // Its start and its completion each went out on its own, after the snapshot.
    expect(feed.showing('d1', 'RUNNING')).toBeGreaterThan(0);
    expect(feed.showing('d1', 'RUNNING')).toBeLessThan(feed.showing('d1', 'COMPLETED'));
    expect(feed.errors).toEqual([]);
    feed.stop();
  });

  it('coalesces a busy execution: a burst of messages at once, then at most one per window', async () => {
    const coalesceMs = 1_000;
    // The first delay gives the subscription time to attach; then some 40 commits in quick succession.
    const chain = [500, ...Array.from({ length: 12 }, () => 10)];
    const id = await startDelays(coalesceMs, chain);
    const feed = watch(api!, id);
    await poll(() => feed.messages.at(-1)?.update.status).toBe('COMPLETED');
    const [, ...changes] = feed.messages;
    const spanMs = feed.messages.at(-1)!.at - changes[0]!.at;
    // A token bucket lets burst + span / window messages through; one more for delivery jitter.
    expect(changes.length).toBeLessThanOrEqual(DEFAULT_BURST + Math.floor(spanMs / coalesceMs) + 1);
    // Nothing is lost by coalescing: every node was shown completing.
    chain.forEach((_, i) => expect(feed.showing(`d${i}`, 'COMPLETED'), `d${i}`).toBeGreaterThanOrEqual(0));
    expect(feed.errors).toEqual([]);
    feed.stop();
  });
});
