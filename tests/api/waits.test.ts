import { describe, expect, it } from 'vitest';
import { BACKENDS } from '../support/backends.js';
import { apiPerSuite } from './apiHarness.js';

const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000 });

const CREATE = `mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id } }`;
const START = `mutation($workflowId: ID!, $data: JSON) { startTrigger(workflowId: $workflowId, triggerNodeId: "start", data: $data) { id } }`;
const EXECUTION = `query($id: ID!) { execution(id: $id) { status nodeStates { nodeId status input output outputName error errorCode skipReason } } }`;
const EMIT = `mutation($name: String!, $data: JSON) { emitEvent(name: $name, data: $data) { id } }`;
const SIGNAL = `mutation($executionId: ID!, $nodeId: ID!, $data: JSON, $outputName: String) {
  signalNode(executionId: $executionId, nodeId: $nodeId, data: $data, outputName: $outputName) { nodeId status output outputName } }`;

/** A node as EXECUTION selects it: input, output, outputName, error, errorCode, skipReason besides these. */
interface NodeView {
  nodeId: string;
  status: string;
  [field: string]: unknown;
}

let unique = 0;
/** Event names of one test: no other test's waits hear them. */
const eventName = (what: string) => `${what}.${Date.now()}.${(unique += 1)}`;

/** start -> the waiting node -> after (and, for an approval, its two branches). */
const waitFlow = (waitNode: Record<string, unknown>, downstream: Array<{ id: string; sourceOutput?: string }> = [{ id: 'after' }]) => ({
  name: 'waiting',
  nodes: [{ id: 'start', type: 'trigger.manual' }, { id: 'w', ...waitNode }, ...downstream.map(({ id }) => ({ id, type: 'noop' }))],
  connections: [{ source: 'start', target: 'w' }, ...downstream.map(({ id, sourceOutput }) => ({ source: 'w', target: id, ...(sourceOutput ? { sourceOutput } : {}) }))],
});

describe.each(BACKENDS)('wait nodes over GraphQL on $name', ({ create }) => {
  const { api, backend } = apiPerSuite(create);

  const execution = async (id: string) => (await api.gql(EXECUTION, { id })).data.execution as { status: string; nodeStates: NodeView[] };
  const node = async (id: string, nodeId: string) => (await execution(id)).nodeStates.find((each) => each.nodeId === nodeId)!;
  /** Starts one execution and resolves once its node `w` waits. */
  const startWaiting = async (workflow: Record<string, unknown>, data: unknown = {}) => {
    const created = await api.gql(CREATE, { input: workflow });
    expect(created.errors).toBeUndefined();
    const id: string = (await api.gql(START, { workflowId: created.data.createWorkflow.id, data })).data.startTrigger.id;
    await poll(async () => (await node(id, 'w')).status).toBe('RUNNING');
    return id;
  };
  const waitRows = async (executionId: string) => (await backend.db.query<{ n: number }>('SELECT count(*)::int AS n FROM waits WHERE execution_id = $1', [executionId])).rows[0]!.n;

  it('completes on a matching emitEvent with the event data as its output; a non-matching event leaves it waiting', async () => {
    const name = eventName('order.paid');
    const id = await startWaiting(waitFlow({ type: 'wait', parameters: { event: name, match: 'event.orderId = trigger.orderId' } }), { orderId: 7 });
    // emitEvent answers once every wait of its name has been offered the event: what it left is final.
    expect((await api.gql(EMIT, { name, data: { orderId: 8 } })).errors).toBeUndefined();
    await api.caughtUp();
    expect(await node(id, 'w')).toMatchObject({ status: 'RUNNING' });
    expect((await api.gql(EMIT, { name: eventName('other'), data: { orderId: 7 } })).errors).toBeUndefined();
    expect(await node(id, 'w')).toMatchObject({ status: 'RUNNING' });

    expect((await api.gql(EMIT, { name, data: { orderId: 7, amount: 12 } })).errors).toBeUndefined();
    await poll(async () => (await execution(id)).status).toBe('COMPLETED');
    expect(await node(id, 'w')).toMatchObject({ status: 'COMPLETED', output: { orderId: 7, amount: 12 } });
    expect((await node(id, 'after')).input).toEqual({ w: { orderId: 7, amount: 12 } });
    await poll(() => waitRows(id)).toBe(0);
  });

  it('listens to the event its {{ }} parameter names once resolved', async () => {
    const prefix = eventName('order');
    const id = await startWaiting(waitFlow({ type: 'wait', parameters: { event: `{{ '${prefix}.' & trigger.id }}` } }), { id: 'a1' });
    expect((await api.gql(EMIT, { name: `${prefix}.a1`, data: { got: true } })).errors).toBeUndefined();
    await poll(async () => (await execution(id)).status).toBe('COMPLETED');
    expect((await node(id, 'w')).output).toEqual({ got: true });
  });

  it('completes on signalNode, and answers unknown ids, nodes that do not wait and roles with codes', async () => {
    const id = await startWaiting(waitFlow({ type: 'wait', parameters: {} }));
    const signal = (variables: Record<string, unknown>) => api.gql(SIGNAL, { executionId: id, nodeId: 'w', ...variables });
    expect((await signal({ executionId: 'no-such-execution' })).errors![0]!.extensions.code).toBe('NOT_FOUND');
    expect((await signal({ nodeId: 'no-such-node' })).errors![0]!.extensions.code).toBe('NOT_FOUND');
    expect((await signal({ nodeId: 'start' })).errors![0]!.extensions.code).toBe('INVALID_FLOW_STATE');
    expect((await signal({ outputName: 'approved' })).errors![0]!.extensions.code).toBe('BAD_USER_INPUT');
    const viewer = await api.createKey({ name: 'viewer', roles: ['VIEWER'] });
    expect((await api.gql(SIGNAL, { executionId: id, nodeId: 'w' }, viewer)).errors![0]!.extensions.code).toBe('FORBIDDEN');

    const signalled = await signal({ data: { by: 'ops' } });
    expect(signalled.data.signalNode).toEqual({ nodeId: 'w', status: 'COMPLETED', output: { by: 'ops' }, outputName: null });
    expect((await signal({})).errors![0]!.extensions.code).toBe('INVALID_FLOW_STATE');
    await poll(async () => (await execution(id)).status).toBe('COMPLETED');
    expect((await node(id, 'after')).input).toEqual({ w: { by: 'ops' } });
  });

  it('routes an approval to the branch signalNode names and skips the other one', async () => {
    const approval = waitFlow({ type: 'approval', parameters: {} }, [
      { id: 'ship', sourceOutput: 'approved' },
      { id: 'refund', sourceOutput: 'rejected' },
    ]);
    const approved = await startWaiting(approval);
    const rejected = await startWaiting(approval);
    expect((await api.gql(SIGNAL, { executionId: approved, nodeId: 'w', outputName: 'maybe' })).errors![0]!.extensions.code).toBe('BAD_USER_INPUT');
    expect((await api.gql(SIGNAL, { executionId: approved, nodeId: 'w', data: { by: 'ann' }, outputName: 'approved' })).data.signalNode).toMatchObject({
      status: 'COMPLETED',
      outputName: 'approved',
    });
    expect((await api.gql(SIGNAL, { executionId: rejected, nodeId: 'w', data: { why: 'late' }, outputName: 'rejected' })).data.signalNode.outputName).toBe('rejected');
    for (const id of [approved, rejected]) await poll(async () => (await execution(id)).status).toBe('COMPLETED');
    expect(await node(approved, 'ship')).toMatchObject({ status: 'COMPLETED', input: { w: { by: 'ann' } } });
    expect((await node(approved, 'refund')).status).toBe('SKIPPED');
    expect(await node(rejected, 'refund')).toMatchObject({ status: 'COMPLETED', input: { w: { why: 'late' } } });
    expect((await node(rejected, 'ship')).status).toBe('SKIPPED');
  });

  it('takes the approval branch an emitted decision names, and fails on one it has not', async () => {
    const name = eventName('review');
    const approval = waitFlow({ type: 'approval', parameters: { event: name, match: 'event.orderId = trigger.orderId ? event.decision : false' } }, [
      { id: 'ship', sourceOutput: 'approved' },
      { id: 'refund', sourceOutput: 'rejected' },
    ]);
    const [rejected, approved, typo] = [await startWaiting(approval, { orderId: 1 }), await startWaiting(approval, { orderId: 2 }), await startWaiting(approval, { orderId: 3 })];
    for (const [orderId, decision] of [
      [1, 'rejected'],
      [2, 'approved'],
      [3, 'rejectd'],
    ] as const)
      expect((await api.gql(EMIT, { name, data: { orderId, decision } })).errors).toBeUndefined();
    for (const id of [rejected, approved]) await poll(async () => (await execution(id)).status).toBe('COMPLETED');
    expect(await node(rejected, 'w')).toMatchObject({ outputName: 'rejected', output: { orderId: 1, decision: 'rejected' } });
    expect([(await node(rejected, 'refund')).status, (await node(rejected, 'ship')).status]).toEqual(['COMPLETED', 'SKIPPED']);
    expect([(await node(approved, 'ship')).status, (await node(approved, 'refund')).status]).toEqual(['COMPLETED', 'SKIPPED']);
    await poll(async () => (await execution(typo)).status).toBe('FAILED');
    expect(await node(typo, 'w')).toMatchObject({ status: 'FAILED', errorCode: 'WAIT_MATCH_FAILED' });
    expect((await node(typo, 'w')).error).toContain("'rejectd'");
  });

  it("hears the engine's own execution.completed, so a flow can wait for another execution to end", async () => {
    const job = {
      name: 'job',
      nodes: [
        { id: 'start', type: 'trigger.manual' },
        { id: 'work', type: 'external', parameters: { queue: 'outcome-waits' } },
      ],
      connections: [{ source: 'start', target: 'work' }],
    };
    const jobId: string = (await api.gql(START, { workflowId: (await api.gql(CREATE, { input: job })).data.createWorkflow.id })).data.startTrigger.id;
    const watcher = await startWaiting(waitFlow({ type: 'wait', parameters: { event: 'execution.completed', match: 'event.executionId = trigger.watch' } }), { watch: jobId });
    const other: string = (await api.gql(START, { workflowId: (await api.gql(CREATE, { input: waitFlow({ type: 'noop' }) })).data.createWorkflow.id })).data.startTrigger.id;
    await poll(async () => (await execution(other)).status).toBe('COMPLETED');
    await api.caughtUp();
    expect((await node(watcher, 'w')).status).toBe('RUNNING');

    const done = await api.gql(`mutation($id: ID!) { completeNode(executionId: $id, nodeId: "work", output: { total: 3 }) { status } }`, { id: jobId });
    expect(done.errors).toBeUndefined();
    await poll(async () => (await execution(watcher)).status).toBe('COMPLETED');
    expect((await node(watcher, 'w')).output).toMatchObject({ executionId: jobId, status: 'COMPLETED', outputs: { work: { total: 3 } } });
  });

  it('fails with WAIT_TIMEOUT when its timeoutMs passes first', async () => {
    const name = eventName('never');
    const created = await api.gql(CREATE, { input: waitFlow({ type: 'wait', parameters: { event: name, timeoutMs: 200 } }) });
    const id: string = (await api.gql(START, { workflowId: created.data.createWorkflow.id })).data.startTrigger.id;
    await poll(async () => (await execution(id)).status).toBe('FAILED');
    expect(await node(id, 'w')).toMatchObject({ status: 'FAILED', errorCode: 'WAIT_TIMEOUT' });
    expect((await node(id, 'w')).error).toMatch(/^WAIT_TIMEOUT: /);
    await poll(() => waitRows(id)).toBe(0);
  });

  it('refuses a timeoutMs above its maximum when the workflow is saved', async () => {
    const created = await api.gql(CREATE, { input: waitFlow({ type: 'wait', parameters: { timeoutMs: 1e13 } }) });
    expect(created.errors![0]!.extensions.code).toBe('VALIDATION_FAILED');
  });

  it('cancelling the execution removes its wait: a later event changes nothing', async () => {
    const name = eventName('cancelled');
    const id = await startWaiting(waitFlow({ type: 'wait', parameters: { event: name } }));
    await poll(() => waitRows(id)).toBe(1);
    const cancelled = await api.gql(`mutation($id: ID!) { cancelExecution(id: $id) { status } }`, { id });
    expect(cancelled.data.cancelExecution.status).toBe('CANCELLED');
    await poll(() => waitRows(id)).toBe(0);
    expect((await api.gql(EMIT, { name, data: {} })).errors).toBeUndefined();
    await api.caughtUp();
    expect(await node(id, 'w')).toMatchObject({ status: 'CANCELLED' });
    expect((await api.gql(SIGNAL, { executionId: id, nodeId: 'w' })).errors![0]!.extensions.code).toBe('INVALID_FLOW_STATE');
  });

  it('keeps a signal that comes while the execution is paused, and goes on when resumed', async () => {
    const id = await startWaiting(waitFlow({ type: 'wait', parameters: {} }));
    expect((await api.gql(`mutation($id: ID!) { pauseExecution(id: $id) { status } }`, { id })).data.pauseExecution.status).toBe('PAUSED');
    expect((await api.gql(SIGNAL, { executionId: id, nodeId: 'w', data: 1 })).data.signalNode.status).toBe('COMPLETED');
    await api.caughtUp();
    expect((await execution(id)).status).toBe('PAUSED');
    expect((await api.gql(`mutation($id: ID!) { resumeExecution(id: $id) { status } }`, { id })).data.resumeExecution.status).toBe('RUNNING');
    await poll(async () => (await execution(id)).status).toBe('COMPLETED');
  });

  it('a match that throws fails that wait with WAIT_MATCH_FAILED; the other waits of the event and the emitEvent go on', async () => {
    const name = eventName('shared');
    const broken = await startWaiting(waitFlow({ type: 'wait', parameters: { event: name, match: '$error("no match for you")' } }));
    const sound = await startWaiting(waitFlow({ type: 'wait', parameters: { event: name, match: 'event.ok' } }));
    const emitted = await api.gql(EMIT, { name, data: { ok: true } });
    expect(emitted.errors).toBeUndefined();
    await poll(async () => (await execution(broken)).status).toBe('FAILED');
    expect(await node(broken, 'w')).toMatchObject({ status: 'FAILED', errorCode: 'WAIT_MATCH_FAILED' });
    expect((await node(broken, 'w')).error).toMatch(/^WAIT_MATCH_FAILED: .*no match for you/);
    await poll(async () => (await execution(sound)).status).toBe('COMPLETED');
  });
});
