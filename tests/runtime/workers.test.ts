import { describe, expect, it } from 'vitest';
import type { DomainError } from '../../src/domain/errors.js';
import type { ExecutionCommand } from '../../src/domain/execution/commands.js';
import type { NodeDefinition } from '../../src/domain/workflow/workflow.js';
import type { Engine } from '../../src/runtime/engine.js';
import { BACKENDS } from '../support/backends.js';
import { useHarness } from '../support/engineHarness.js';
import { begin, claimWhenOffered, eventsOf, flow, ms, sleep } from '../support/flows.js';

const external = (id: string, queue: string, extra: Partial<NodeDefinition> = {}): NodeDefinition => ({ id, type: 'external', parameters: { queue }, ...extra });

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error: unknown) => error as DomainError,
  );

describe.each(BACKENDS)('external workers on $name', ({ create }) => {
  const h = useHarness(create);

  const send = (executionId: string, command: ExecutionCommand) => h.engine.executions.handle(executionId, command);
  const complete = (executionId: string, nodeId: string, attempt: number, output: unknown, engine: Engine = h.engine) =>
    engine.workQueue.complete({ executionId, nodeId, attempt }, { output });
  const heartbeat = (executionId: string, nodeId: string, attempt: number) =>
    h.engine.workQueue.reportProgress({ executionId, nodeId, attempt }, { progress: 10, message: 'working' });

  it('four workers in two processes claim 100 queued nodes at once: each node goes to exactly one of them', async () => {
    const nodes = Array.from({ length: 100 }, (_, i) => external(`e${i}`, 'bulk'));
    const edges = nodes.flatMap((node): Array<[string, string]> => [
      ['start', node.id],
      [node.id, 'join'],
    ]);
    const id = await begin(h, flow([...nodes, { id: 'join', type: 'merge' }], edges));
    const second = h.newEngine();
    await second.start();
    const claimedBy = new Map<string, string[]>();
    const worker = async (engine: Engine, workerId: string) => {
      const deadline = Date.now() + 20_000;
      while (claimedBy.size < 100 && Date.now() < deadline) {
        const jobs = await engine.workQueue.claim('bulk', workerId, { max: 7, leaseMs: 30_000 });
        for (const job of jobs) claimedBy.set(job.nodeId, [...(claimedBy.get(job.nodeId) ?? []), workerId]);
        await Promise.all(jobs.map((job) => complete(job.executionId, job.nodeId, job.attempt, { by: workerId }, engine)));
        if (jobs.length === 0) await sleep(5);
      }
    };
    await Promise.all([worker(h.engine, 'w1'), worker(h.engine, 'w2'), worker(second, 'w3'), worker(second, 'w4')]);
    expect(claimedBy.size).toBe(100);
    expect([...claimedBy.values()].filter((workers) => workers.length !== 1)).toEqual([]);
    const state = await h.waitFor(id);
    expect(state.status).toBe('COMPLETED');
    expect(Object.keys(state.nodes.get('join')!.input!)).toHaveLength(100);
    const starts = (await eventsOf(h, id, 'NodeStarted')).filter((event) => event.data.nodeId.startsWith('e'));
    expect(starts).toHaveLength(100);
    expect(new Set(starts.map((event) => event.data.nodeId)).size).toBe(100);
  });

  it('hands out the input and parameters with a lease, and validates what it is asked', async () => {
    const id = await begin(h, flow([external('ext', 'info-q', { parameters: { queue: 'info-q', task: 'resize' } })], [['start', 'ext']]), { image: 42 });
    const before = Date.now();
    const [job] = await claimWhenOffered(h.engine.workQueue, 'info-q', 'worker', { max: 5, leaseMs: 5_000 });
    expect(job).toMatchObject({ executionId: id, nodeId: 'ext', attempt: 1, input: { start: { image: 42 } }, parameters: { queue: 'info-q', task: 'resize' } });
    expect(ms(job!.leaseExpiresAt) - before).toBeGreaterThanOrEqual(5_000);
    expect((await h.waitFor(id, () => true)).nodes.get('ext')).toMatchObject({ status: 'RUNNING', workerId: 'worker' });
    expect((await rejection(h.engine.workQueue.claim('info-q', 'worker', { max: 0 })))!.code).toBe('BAD_USER_INPUT');
    expect((await rejection(h.engine.workQueue.claim('info-q', 'worker', { leaseMs: -1 })))!.code).toBe('BAD_USER_INPUT');
    await complete(id, 'ext', 1, 'done');
    expect((await h.waitFor(id)).status).toBe('COMPLETED');
  });

  it('a worker that stops renewing its lease loses the node to a new attempt, and its late calls are refused', async () => {
    const id = await begin(h, flow([external('ext', 'lease-q', { retry: { maxAttempts: 2, initialDelayMs: 0 } })], [['start', 'ext']]));
    // Long enough that a loaded machine still heartbeats in time, short enough to wait out.
    const [first] = await claimWhenOffered(h.engine.workQueue, 'lease-q', 'silent-worker', { leaseMs: 1_000 });
    expect(first!.attempt).toBe(1);
    await sleep(200);
    await heartbeat(id, 'ext', 1);
    const [second] = await claimWhenOffered(h.engine.workQueue, 'lease-q', 'other-worker', { leaseMs: 10_000 });
    expect(second).toMatchObject({ executionId: id, nodeId: 'ext', attempt: 2 });

    const [renewed] = await eventsOf(h, id, 'NodeProgressed', 'ext');
    const [retry] = await eventsOf(h, id, 'NodeRetryScheduled', 'ext');
    expect(ms(renewed!.data.leaseExpiresAt!) - ms(renewed!.data.at)).toBe(1_000);
    expect(ms(retry!.data.at)).toBeGreaterThanOrEqual(ms(renewed!.data.leaseExpiresAt!));
    expect(retry!.data.error).toMatch(/^the lease of worker silent-worker expired/);

    const eventCount = (await h.events(id)).length;
    for (const late of [complete(id, 'ext', 1, 'late'), heartbeat(id, 'ext', 1)]) {
      const error = await rejection(late);
      expect(error!.code).toBe('INVALID_FLOW_STATE');
      expect(error!.message).toMatch(/attempt 1 of node ext is over .*its lease expired/);
    }
    expect(await h.events(id)).toHaveLength(eventCount);

    await complete(id, 'ext', 2, 'on time');
    const state = await h.waitFor(id);
    expect(state.status).toBe('COMPLETED');
    expect(state.nodes.get('ext')).toMatchObject({ output: 'on time', attempt: 2 });
  });

  it('failNode retries by policy after the backoff, but not when the worker says it is not retryable', async () => {
    const id = await begin(h, flow([external('ext', 'fail-q', { retry: { maxAttempts: 3, initialDelayMs: 200 } })], [['start', 'ext']]));
    const [first] = await claimWhenOffered(h.engine.workQueue, 'fail-q', 'worker');
    await h.engine.workQueue.fail({ executionId: id, nodeId: 'ext', attempt: first!.attempt }, { error: 'flaky' });
    const [second] = await claimWhenOffered(h.engine.workQueue, 'fail-q', 'worker');
    const [retry] = await eventsOf(h, id, 'NodeRetryScheduled', 'ext');
    const [, started] = await eventsOf(h, id, 'NodeStarted', 'ext');
    expect(second!.attempt).toBe(2);
    expect(ms(started!.data.at)).toBeGreaterThanOrEqual(ms(retry!.data.retryAt));

    await h.engine.workQueue.fail({ executionId: id, nodeId: 'ext', attempt: 2 }, { error: 'bad input', retryable: false });
    const state = await h.waitFor(id);
    expect(state.status).toBe('FAILED');
    expect(state.nodes.get('ext')).toMatchObject({ status: 'FAILED', attempt: 2, error: 'bad input' });
    expect(await eventsOf(h, id, 'NodeRetryScheduled', 'ext')).toHaveLength(1);
  });

  it('hands out nothing of a paused execution, and offers its nodes again on resume', async () => {
    const id = await begin(h, flow([external('ext', 'paused-q')], [['start', 'ext']]));
    await h.waitFor(id, (state) => state.nodes.get('ext')!.status === 'QUEUED');
    await h.engine.processManager.caughtUp();
    await send(id, { type: 'PauseExecution' });
    expect(await h.engine.workQueue.claim('paused-q', 'worker')).toEqual([]);
    await h.engine.processManager.caughtUp();
    expect(await h.engine.workQueue.claim('paused-q', 'worker')).toEqual([]);
    await send(id, { type: 'ResumeExecution' });
    const [job] = await claimWhenOffered(h.engine.workQueue, 'paused-q', 'worker');
    expect(job).toMatchObject({ executionId: id, nodeId: 'ext', attempt: 1 });
    await complete(id, 'ext', 1, 'done');
    expect((await h.waitFor(id)).status).toBe('COMPLETED');
  });

  it('a worker of a cancelled execution is refused on its next call, and changes nothing', async () => {
    const id = await begin(h, flow([external('ext', 'cancel-q')], [['start', 'ext']]));
    await claimWhenOffered(h.engine.workQueue, 'cancel-q', 'worker');
    await send(id, { type: 'CancelExecution', data: { reason: 'user asked' } });
    const eventCount = (await h.events(id)).length;
    const refusedHeartbeat = await rejection(heartbeat(id, 'ext', 1));
    expect(refusedHeartbeat).toMatchObject({ code: 'INVALID_FLOW_STATE', message: 'cannot report progress to a CANCELLED execution' });
    const refusedCompletion = await rejection(complete(id, 'ext', 1, 'too late'));
    expect(refusedCompletion).toMatchObject({ code: 'INVALID_FLOW_STATE', message: 'cannot complete a node of a CANCELLED execution' });
    expect(await h.events(id)).toHaveLength(eventCount);
    expect((await h.waitFor(id)).nodes.get('ext')!.status).toBe('CANCELLED');
  });
});
