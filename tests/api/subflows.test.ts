import { describe, expect, it } from 'vitest';
import { BACKENDS } from '../support/backends.js';
import { apiPerSuite } from './apiHarness.js';

const CREATE = `mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id } }`;
const UPDATE = `mutation($id: ID!, $input: WorkflowInput!) { updateWorkflow(id: $id, input: $input) { id version } }`;
const START = `mutation($workflowId: ID!, $data: JSON) { startTrigger(workflowId: $workflowId, triggerNodeId: "start", data: $data) { id } }`;
const NODE = 'nodeId status attempt progress message output error errorCode';
const EXECUTION = `query($id: ID!) { execution(id: $id) { id status errorCode parentExecutionId parentNodeId nodeStates { ${NODE} } } }`;
const CHILDREN = `query($id: ID!, $first: Int, $after: ID) { execution(id: $id) { children(first: $first, after: $after) { id status startedAt finishedAt parentExecutionId parentNodeId } } }`;

interface Child {
  id: string;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  parentExecutionId: string;
  parentNodeId: string;
}

/** Generous: these machines are shared; upper bounds only. */
const poll = <T>(fn: () => T | Promise<T>, timeout = 30_000) => expect.poll(fn, { timeout, interval: 100 });
const TERMINAL = ['COMPLETED', 'FAILED', 'CANCELLED', 'PARTIAL'];

const manual = { id: 'start', type: 'trigger.manual' };
const edges = (...pairs: Array<[string, string, string?]>) => pairs.map(([source, target, sourceOutput]) => ({ source, target, sourceOutput: sourceOutput ?? null }));

describe.each(BACKENDS)('sub-workflows and map over GraphQL on $name', ({ create }) => {
  const { api } = apiPerSuite(create);

  async function createWorkflow(input: Record<string, unknown>): Promise<string> {
    const created = await api.gql(CREATE, { input });
    expect(created.errors).toBeUndefined();
    return created.data.createWorkflow.id;
  }

  async function start(workflowId: string, data: unknown = {}): Promise<string> {
    const started = await api.gql(START, { workflowId, data });
    expect(started.errors).toBeUndefined();
    return started.data.startTrigger.id;
  }

  async function execution(id: string) {
    const answer = await api.gql(EXECUTION, { id });
    expect(answer.errors).toBeUndefined();
    return answer.data.execution;
  }

  async function finished(id: string, timeout?: number) {
    await poll(async () => (await execution(id))?.status, timeout).toSatisfy((status: string) => TERMINAL.includes(status));
    return execution(id);
  }

  /** Every child, page by page. */
  async function children(id: string): Promise<Child[]> {
    const all: Child[] = [];
    for (;;) {
      const answer = await api.gql(CHILDREN, { id, first: 100, after: all.at(-1)?.id ?? null });
      expect(answer.errors).toBeUndefined();
      const page: Child[] = answer.data.execution.children;
      all.push(...page);
      if (page.length < 100) return all;
    }
  }

  const nodeOf = (view: { nodeStates: Array<{ nodeId: string }> }, nodeId: string) => view.nodeStates.find((node) => node.nodeId === nodeId) as Record<string, any>;

  /** A child workflow: doubles trigger.item (or trigger.n) in two leaves. */
  const doubler = () =>
    createWorkflow({
      name: 'doubler',
      nodes: [manual, { id: 'double', type: 'transform', parameters: { mapping: '$exists(trigger.item) ? trigger.item * 2 : trigger.n * 2' } }, { id: 'echo', type: 'noop' }],
      connections: edges(['start', 'double'], ['start', 'echo']),
    });

  it("takes the child's leaf outputs; the child links to its parent and the parent lists it", async () => {
    const child = await doubler();
    const parent = await createWorkflow({
      name: 'calls doubler',
      nodes: [
        manual,
        { id: 'call', type: 'workflow', parameters: { workflowId: child, triggerNodeId: 'start', data: '{{ input.start }}' } },
        { id: 'plain', type: 'workflow', parameters: { workflowId: child, triggerNodeId: 'start' } },
      ],
      connections: edges(['start', 'call'], ['call', 'plain']),
    });
    const id = await start(parent, { n: 21 });
    const done = await finished(id);
    expect(done.status).toBe('COMPLETED');
    expect(nodeOf(done, 'call').output).toEqual({ double: 42, echo: { start: { n: 21 } } });
    // Without data, the child's trigger data is the node's input.
    expect(nodeOf(done, 'plain').output.echo).toEqual({ start: { call: { double: 42, echo: { start: { n: 21 } } } } });
    await api.caughtUp();
    const [only, other, ...more] = await children(id);
    expect(more).toEqual([]);
    expect(other).toMatchObject({ status: 'COMPLETED', parentExecutionId: id, parentNodeId: 'plain' });
    expect(only).toMatchObject({ status: 'COMPLETED', parentExecutionId: id, parentNodeId: 'call' });
    expect(await execution(only!.id)).toMatchObject({ parentExecutionId: id, parentNodeId: 'call' });
    expect((await execution(id)).parentExecutionId).toBeNull();
  });

  it('a failing child fails the node, and its retry starts a new child', async () => {
    const child = await createWorkflow({ name: 'fails', nodes: [manual, { id: 'boom', type: 'fail', parameters: { message: 'no luck' } }], connections: edges(['start', 'boom']) });
    const parent = await createWorkflow({
      name: 'calls a failing child',
      nodes: [manual, { id: 'call', type: 'workflow', parameters: { workflowId: child, triggerNodeId: 'start' }, retry: { maxAttempts: 2, initialDelayMs: 1 } }],
      connections: edges(['start', 'call']),
    });
    const id = await start(parent);
    const done = await finished(id);
    expect(done.status).toBe('FAILED');
    expect(nodeOf(done, 'call')).toMatchObject({ status: 'FAILED', attempt: 2, errorCode: 'CHILD_EXECUTION_FAILED' });
    expect(nodeOf(done, 'call').error).toContain('no luck');
    await api.caughtUp();
    const all = await children(id);
    expect(all.map((each) => each.status)).toEqual(['FAILED', 'FAILED']);
    expect(new Set(all.map((each) => each.id)).size).toBe(2);
  });

  /** A parent whose workflow node calls a child that waits (a delay of ten minutes), started, with its running child. */
  async function slowChildRunning(): Promise<{ id: string; running: Child }> {
    const child = await createWorkflow({
      name: 'slow, then more',
      nodes: [manual, { id: 'wait', type: 'delay', parameters: { ms: 600_000 } }, { id: 'after', type: 'noop' }],
      connections: edges(['start', 'wait'], ['wait', 'after']),
    });
    const parent = await createWorkflow({
      name: 'calls a slow child',
      nodes: [manual, { id: 'call', type: 'workflow', parameters: { workflowId: child, triggerNodeId: 'start' } }],
      connections: edges(['start', 'call']),
    });
    const id = await start(parent);
    await poll(async () => (await children(id)).map((each) => each.status)).toEqual(['RUNNING']);
    const [running] = await children(id);
    return { id, running: running! };
  }

  it('cancelling the parent cancels the child', async () => {
    const { id, running } = await slowChildRunning();
    const cancelled = await api.gql(`mutation($id: ID!) { cancelExecution(id: $id) { status } }`, { id });
    expect(cancelled.data.cancelExecution.status).toBe('CANCELLED');
    await poll(async () => (await execution(running.id)).status).toBe('CANCELLED');
  });

  it('pausing the parent pauses the child, and resuming resumes it', async () => {
    const { id, running } = await slowChildRunning();
    await api.gql(`mutation($id: ID!) { pauseExecution(id: $id) { status } }`, { id });
    await poll(async () => (await execution(running.id)).status).toBe('PAUSED');
    await api.gql(`mutation($id: ID!) { resumeExecution(id: $id) { status } }`, { id });
    await poll(async () => (await execution(running.id)).status).toBe('RUNNING');
    await api.gql(`mutation($id: ID!) { cancelExecution(id: $id) { status } }`, { id });
  });

  it('a workflow that calls itself stops at the nesting bound with SUBFLOW_DEPTH_EXCEEDED', async () => {
    const self = await createWorkflow({ name: 'recursive', nodes: [manual, { id: 'again', type: 'noop' }], connections: edges(['start', 'again']) });
    const updated = await api.gql(UPDATE, {
      id: self,
      input: {
        name: 'recursive',
        nodes: [manual, { id: 'again', type: 'workflow', parameters: { workflowId: self, triggerNodeId: 'start' }, retry: { maxAttempts: 3, initialDelayMs: 1 } }],
        connections: edges(['start', 'again']),
      },
    });
    expect(updated.errors).toBeUndefined();
    const id = await start(self);
    const done = await finished(id, 60_000);
    expect(done.status).toBe('FAILED');
    // No level retries the bound: each failed once.
    expect(nodeOf(done, 'again')).toMatchObject({ status: 'FAILED', attempt: 1, errorCode: 'SUBFLOW_DEPTH_EXCEEDED' });
    let depth = 0;
    for (let current = id; ; depth++) {
      const [next, ...more] = await children(current);
      expect(more).toEqual([]);
      if (!next) break;
      current = next.id;
    }
    expect(depth).toBe(10);
  });

  it('maps 1,000 items with concurrency 10: never more than 10 children at once, results in item order', async () => {
    const child = await doubler();
    const parent = await createWorkflow({
      name: 'maps',
      nodes: [manual, { id: 'each', type: 'map', parameters: { items: '{{ trigger.list }}', workflowId: child, triggerNodeId: 'start', concurrency: 10 } }],
      connections: edges(['start', 'each']),
    });
    const list = Array.from({ length: 1000 }, (_, i) => i + 1);
    const id = await start(parent, { list });
    const done = await finished(id, 300_000);
    // On failure, say why: the map's error names the child and its node that failed.
    expect(done.status, JSON.stringify(nodeOf(done, 'each'))).toBe('COMPLETED');
    const each = nodeOf(done, 'each');
    expect(each.output).toHaveLength(1000);
    expect(each.output.map((result: { double: number }) => result.double)).toEqual(list.map((n) => n * 2));
    expect(each.output[5].echo).toEqual({ start: { item: 6, index: 5 } });
    await api.caughtUp();
    const all = await children(id);
    expect(all).toHaveLength(1000);
    expect(all.every((each) => each.status === 'COMPLETED' && each.parentNodeId === 'each')).toBe(true);
    // From the recorded times: an end at the same instant as a start counts first (the slot was freed by it).
    const moments = all.flatMap((each) => [
      { at: Date.parse(each.startedAt), step: 1 },
      { at: Date.parse(each.finishedAt!), step: -1 },
    ]);
    moments.sort((a, b) => a.at - b.at || a.step - b.step);
    let running = 0;
    let peak = 0;
    for (const { step } of moments) peak = Math.max(peak, (running += step));
    expect(peak).toBeLessThanOrEqual(10);
    expect(peak).toBeGreaterThan(1);
  }, 360_000);

  /** A child failing item 3 only. */
  const failsOnThree = () =>
    createWorkflow({
      name: 'fails on 3',
      nodes: [
        manual,
        { id: 'check', type: 'if', parameters: { condition: 'trigger.item = 3' } },
        { id: 'boom', type: 'fail', parameters: { message: 'three' } },
        { id: 'ok', type: 'noop' },
      ],
      connections: edges(['start', 'check'], ['check', 'boom', 'true'], ['check', 'ok', 'false']),
    });

  it('one failing item fails the map node and cancels the rest', async () => {
    const child = await failsOnThree();
    const parent = await createWorkflow({
      name: 'maps, one fails',
      nodes: [
        manual,
        {
          id: 'each',
          type: 'map',
          parameters: { items: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20], workflowId: child, triggerNodeId: 'start', concurrency: 2 },
        },
      ],
      connections: edges(['start', 'each']),
    });
    const id = await start(parent);
    const done = await finished(id);
    expect(done.status).toBe('FAILED');
    expect(nodeOf(done, 'each')).toMatchObject({ status: 'FAILED', errorCode: 'CHILD_EXECUTION_FAILED' });
    await api.caughtUp();
    await poll(async () => (await children(id)).filter((each) => !TERMINAL.includes(each.status))).toEqual([]);
    const all = await children(id);
    // Items after the failure never started.
    expect(all.length).toBeLessThan(20);
  });

  it('with continueOnNodeFailure a failed item holds { error } and the map completes', async () => {
    const child = await failsOnThree();
    const parent = await createWorkflow({
      name: 'maps, keeps failures',
      nodes: [manual, { id: 'each', type: 'map', parameters: { items: [1, 2, 3, 4, 5], workflowId: child, triggerNodeId: 'start', concurrency: 2 } }],
      connections: edges(['start', 'each']),
      settings: { recovery: { continueOnNodeFailure: true } },
    });
    const id = await start(parent);
    const done = await finished(id);
    expect(done.status).toBe('COMPLETED');
    const each = nodeOf(done, 'each');
    expect(each).toMatchObject({ status: 'COMPLETED', progress: 100, message: '5/5' });
    expect(each.output).toHaveLength(5);
    expect(each.output[2].error).toContain('CHILD_EXECUTION_FAILED');
    expect(each.output[3]).toEqual({ ok: { check: { start: { item: 4, index: 3 } } } });
  });

  it('refuses more items than the bound, and an unknown workflow, with coded errors', async () => {
    const parent = await createWorkflow({
      name: 'too many',
      nodes: [
        manual,
        { id: 'each', type: 'map', parameters: { items: '{{ [1..10001] }}', workflowId: 'nope', triggerNodeId: 'start' } },
        { id: 'call', type: 'workflow', parameters: { workflowId: 'no-such-workflow', triggerNodeId: 'start' } },
      ],
      connections: edges(['start', 'each'], ['start', 'call']),
      settings: { recovery: { continueOnNodeFailure: true } },
    });
    const done = await finished(await start(parent));
    expect(nodeOf(done, 'each')).toMatchObject({ status: 'FAILED', errorCode: 'MAP_TOO_MANY_ITEMS' });
    expect(nodeOf(done, 'call')).toMatchObject({ status: 'FAILED', errorCode: 'CHILD_WORKFLOW_NOT_FOUND' });
  });
});
