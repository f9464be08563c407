import type { FastifyBaseLogger } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { DomainError } from '../../src/domain/errors.js';
import type { ExecutionStatus, NodeStatus } from '../../src/domain/execution/events.js';
import { ExecutionUpdates, type ExecutionUpdate } from '../../src/api/executionUpdates.js';
import type { ExecutionView } from '../../src/projections/executionView.js';

const log = { error: () => {} } as unknown as FastifyBaseLogger;

type Listener = (changes: Array<{ executionId: string; workflowId: string; nodeIds: string[]; streamVersion: number }>) => void;

/** A read model and projection runner in memory: `set` changes a row, `project` announces it. */
function fakeReadSide() {
  const rows = new Map<string, ExecutionView>();
  const listeners = new Set<Listener>();
  let caughtUpCalls = 0;
  const readSide = {
    readModel: {
      getExecution: async (id: string) => rows.get(id) ?? null,
      listExecutions: async ({ workflowId, status }: { workflowId?: string; status?: ExecutionStatus }) => {
        const nodes = [...rows.values()].filter((view) => view.workflowId === workflowId && view.status === status);
        return { nodes, totalCount: nodes.length, pageInfo: { endCursor: null, hasNextPage: false } };
      },
    },
    projections: {
      onChange(listener: Listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      caughtUp: async () => {
        caughtUpCalls++;
      },
    },
    get caughtUpCalls() {
      return caughtUpCalls;
    },
    set(id: string, streamVersion: number, status: ExecutionStatus, nodes: Record<string, NodeStatus>, workflowId = 'wf') {
      rows.set(id, {
        id,
        workflowId,
        status,
        streamVersion,
        progress: streamVersion,
        nodeStates: Object.entries(nodes).map(([nodeId, nodeStatus]) => ({ nodeId, status: nodeStatus })),
      } as unknown as ExecutionView);
    },
    project(id: string, nodeIds: string[], workflowId = 'wf') {
      const streamVersion = rows.get(id)!.streamVersion;
      for (const listener of listeners) listener([{ executionId: id, workflowId, nodeIds, streamVersion }]);
    },
    get listenerCount() {
      return listeners.size;
    },
  };
  return readSide;
}

const summary = (update: ExecutionUpdate) => ({
  v: update.execution.streamVersion,
  status: update.status,
  changed: Object.fromEntries(update.changedNodes.map((node) => [node.nodeId, node.status])),
});

async function take(iterator: AsyncIterator<ExecutionUpdate>, count: number) {
  const updates = [];
  for (let i = 0; i < count; i++) {
    const { value, done } = await iterator.next();
    if (done) break;
    updates.push(summary(value));
  }
  return updates;
}

describe('ExecutionUpdates', () => {
  let updates: ExecutionUpdates | undefined;
  afterEach(() => updates?.close());

  it('sends a snapshot, then messages with only what changed, and ends after a terminal status', async () => {
    const side = fakeReadSide();
    updates = new ExecutionUpdates({ ...side, coalesceMs: 20, log });
    side.set('e1', 2, 'RUNNING', { t: 'COMPLETED', a: 'QUEUED', b: 'QUEUED' });
    const feed = await updates.execution('e1');
    expect(await take(feed, 1)).toEqual([{ v: 2, status: 'RUNNING', changed: { t: 'COMPLETED', a: 'QUEUED', b: 'QUEUED' } }]);

    // Two batches projected before the read: one message, each node as it is now.
    side.set('e1', 3, 'RUNNING', { t: 'COMPLETED', a: 'RUNNING', b: 'QUEUED' });
    side.project('e1', ['a']);
    side.set('e1', 4, 'RUNNING', { t: 'COMPLETED', a: 'COMPLETED', b: 'RUNNING' });
    side.project('e1', ['a', 'b']);
    expect(await take(feed, 1)).toEqual([{ v: 4, status: 'RUNNING', changed: { a: 'COMPLETED', b: 'RUNNING' } }]);

    side.set('e1', 5, 'COMPLETED', { t: 'COMPLETED', a: 'COMPLETED', b: 'COMPLETED' });
    side.project('e1', ['b']);
    expect(await take(feed, 2)).toEqual([{ v: 5, status: 'COMPLETED', changed: { b: 'COMPLETED' } }]);
    expect(updates.subscriberCount).toBe(0);
  });

  it('never shows an older state, nor the same one twice', async () => {
    const side = fakeReadSide();
    updates = new ExecutionUpdates({ ...side, coalesceMs: 5, log });
    side.set('e1', 5, 'RUNNING', { a: 'RUNNING' });
    const feed = await updates.execution('e1');
    await take(feed, 1);
    side.set('e1', 4, 'RUNNING', { a: 'QUEUED' });
    side.project('e1', ['a']);
    side.set('e1', 5, 'RUNNING', { a: 'RUNNING' });
    side.project('e1', ['a']);
    await new Promise((resolve) => setTimeout(resolve, 30));
    side.set('e1', 6, 'COMPLETED', { a: 'COMPLETED' });
    side.project('e1', ['a']);
    expect(await take(feed, 2)).toEqual([{ v: 6, status: 'COMPLETED', changed: { a: 'COMPLETED' } }]);
  });

  it('waits for the projections before calling an execution unknown', async () => {
    const side = fakeReadSide();
    updates = new ExecutionUpdates({ ...side, log });
    const error = await updates.execution('nope').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('NOT_FOUND');
    expect(side.caughtUpCalls).toBe(1);
    expect(updates.subscriberCount).toBe(0);
  });

  it('lets go of a subscriber at once when it leaves while nothing happens', async () => {
    const side = fakeReadSide();
    updates = new ExecutionUpdates({ ...side, coalesceMs: 5, log });
    side.set('e1', 1, 'RUNNING', { a: 'QUEUED' });
    const feed = await updates.execution('e1');
    await take(feed, 1);
    const pending = feed.next();
    expect(updates.subscriberCount).toBe(1);
    await feed.return();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(updates.subscriberCount).toBe(0);
    updates.close();
    expect(side.listenerCount).toBe(0);
  });

  it('ends its subscribers with a coded error when the read model fails', async () => {
    const side = fakeReadSide();
    updates = new ExecutionUpdates({ ...side, coalesceMs: 5, log });
    side.set('e1', 1, 'RUNNING', { a: 'QUEUED' });
    const feed = await updates.execution('e1');
    await take(feed, 1);
    side.readModel.getExecution = async () => {
      throw new Error('connection refused');
    };
    side.project('e1', ['a']);
    await expect(feed.next()).rejects.toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(updates.subscriberCount).toBe(0);
  });

  it('follows every execution of a workflow: active ones first, then new ones, past their end', async () => {
    const side = fakeReadSide();
    updates = new ExecutionUpdates({ ...side, coalesceMs: 5, log });
    side.set('old', 9, 'COMPLETED', { a: 'COMPLETED' });
    side.set('running', 2, 'RUNNING', { a: 'RUNNING' });
    side.set('elsewhere', 2, 'RUNNING', { a: 'RUNNING' }, 'other');
    const feed = await updates.workflow('wf');
    expect(await take(feed, 1)).toEqual([{ v: 2, status: 'RUNNING', changed: { a: 'RUNNING' } }]);
    side.set('running', 3, 'COMPLETED', { a: 'COMPLETED' });
    side.project('running', ['a']);
    expect(await take(feed, 1)).toEqual([{ v: 3, status: 'COMPLETED', changed: { a: 'COMPLETED' } }]);
    side.project('elsewhere', ['a'], 'other');
    side.set('new', 1, 'RUNNING', { a: 'QUEUED', b: 'IDLE' });
    side.project('new', ['a', 'b']);
    const [next] = await take(feed, 1);
    expect(next).toEqual({ v: 1, status: 'RUNNING', changed: { a: 'QUEUED', b: 'IDLE' } });
  });
});
