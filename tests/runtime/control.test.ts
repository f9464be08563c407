import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '../../src/domain/errors.js';
import { BACKENDS, type Backend } from '../support/backends.js';
import { createHarness, statuses, type Harness } from '../support/engineHarness.js';
import { begin, claimWhenOffered, eventsOf, flow, ms, sleep } from '../support/flows.js';
import { startHangingServer, type HangingServer } from '../support/hangingServer.js';

/**
 * Built-in nodes lease their attempts for this long here, so that a missing renewal would show;
 * long enough that a busy machine still renews in time (a third of it between renewals).
 */
const LEASE_MS = 1_000;

const external = (id: string, queue: string, extra = {}) => ({ id, type: 'external', parameters: { queue }, ...extra });

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error: unknown) => error as DomainError,
  );

describe.each(BACKENDS)('execution control on $name', ({ create }) => {
  let backend: Backend;
  let h: Harness;
  let server: HangingServer;
  beforeAll(async () => {
    backend = await create();
    h = await createHarness(backend, { leaseMs: LEASE_MS });
    server = await startHangingServer();
  });
  afterAll(async () => {
    await server.close();
    await h.close();
    await backend.dispose();
  });

  const timersOf = async (executionId: string) =>
    Number((await backend.db.query<{ n: string }>('SELECT count(*) AS n FROM timers WHERE execution_id = $1', [executionId])).rows[0]!.n);

  describe('pause and resume', () => {
    it('an external node completed while paused starts nothing downstream; resume runs the rest', async () => {
      const id = await begin(
        h,
        flow(
          [external('ext', 'pause-q'), { id: 'after', type: 'noop' }],
          [
            ['start', 'ext'],
            ['ext', 'after'],
          ],
        ),
      );
      await h.waitFor(id, (state) => state.nodes.get('ext')!.status === 'QUEUED');
      await h.engine.executions.handle(id, { type: 'PauseExecution' });
      await h.engine.executions.handle(id, { type: 'CompleteNode', data: { nodeId: 'ext', output: { done: true }, outputName: null } });
      await sleep(200);
      const paused = await h.waitFor(id, () => true);
      expect(paused.status).toBe('PAUSED');
      expect(statuses(paused)).toMatchObject({ ext: 'COMPLETED', after: 'IDLE' });
      expect(await eventsOf(h, id, 'NodeQueued', 'after')).toHaveLength(0);

      await h.engine.executions.handle(id, { type: 'ResumeExecution' });
      const done = await h.waitFor(id);
      expect(done.status).toBe('COMPLETED');
      expect(done.nodes.get('after')!.output).toEqual({ ext: { done: true } });
      const [resumed] = await eventsOf(h, id, 'ExecutionResumed');
      const [queued] = await eventsOf(h, id, 'NodeQueued', 'after');
      expect(queued!.streamVersion).toBeGreaterThan(resumed!.streamVersion);
    });

    it('a retry that comes due while paused waits, and runs on resume', async () => {
      const id = await begin(
        h,
        flow(
          [
            // A second between the retry's scheduling and its due time: room to pause before it comes due, on a busy machine too.
            { id: 'flaky', type: 'fail', parameters: { failTimes: 1 }, retry: { maxAttempts: 2, initialDelayMs: 1_000 } },
            { id: 'end', type: 'noop' },
          ],
          [
            ['start', 'flaky'],
            ['flaky', 'end'],
          ],
        ),
      );
      await h.waitFor(id, (state) => state.nodes.get('flaky')!.attempt === 2);
      await h.engine.executions.handle(id, { type: 'PauseExecution' });
      await sleep(1_300);
      const paused = await h.waitFor(id, () => true);
      expect(paused.status).toBe('PAUSED');
      expect(paused.nodes.get('flaky')).toMatchObject({ status: 'QUEUED', attempt: 2 });
      await h.engine.executions.handle(id, { type: 'ResumeExecution' });
      const done = await h.waitFor(id);
      expect(done.status).toBe('COMPLETED');
      expect(done.nodes.get('flaky')).toMatchObject({ status: 'COMPLETED', attempt: 2 });
    });

    it('pausing a finished execution is INVALID_FLOW_STATE', async () => {
      const done = await h.run(flow([{ id: 'a', type: 'noop' }], [['start', 'a']]));
      const error = await rejection(h.engine.executions.handle(done.id, { type: 'PauseExecution' }));
      expect(error).toBeInstanceOf(DomainError);
      expect(error!.code).toBe('INVALID_FLOW_STATE');
    });
  });

  describe('cancel', () => {
    it('cancels a long delay: the node ends CANCELLED at once and its timer is gone', async () => {
      const id = await begin(
        h,
        flow(
          [
            { id: 'wait', type: 'delay', parameters: { ms: 30_000 } },
            { id: 'after', type: 'noop' },
          ],
          [
            ['start', 'wait'],
            ['wait', 'after'],
          ],
        ),
      );
      await h.waitFor(id, (state) => state.nodes.get('wait')!.status === 'RUNNING');
      const begun = Date.now();
      await h.engine.executions.handle(id, { type: 'CancelExecution', data: { reason: 'user asked' } });
      const state = await h.waitFor(id);
      expect(state.status).toBe('CANCELLED');
      expect(statuses(state)).toMatchObject({ wait: 'CANCELLED', after: 'IDLE' });
      await h.engine.processManager.caughtUp();
      expect(await timersOf(id)).toBe(0);
      // Long before the delay's 30 s.
      expect(Date.now() - begun).toBeLessThan(10_000);
    });

    it('cancels an http call in flight: the request is aborted and the server sees the connection close', async () => {
      const before = server.requests.length;
      const id = await begin(h, flow([{ id: 'call', type: 'http', parameters: { url: server.url } }], [['start', 'call']]));
      await h.waitFor(id, (state) => state.nodes.get('call')!.status === 'RUNNING');
      while (server.requests.length === before) await sleep(5);
      const begun = Date.now();
      await h.engine.executions.handle(id, { type: 'CancelExecution', data: { reason: 'user asked' } });
      const state = await h.waitFor(id);
      expect(state.nodes.get('call')!.status).toBe('CANCELLED');
      // The server never answers: only the abort closes the connection, long before the request's 30 s timeout.
      await expect.poll(() => server.requests[before]!.closedAt, { timeout: 10_000 }).not.toBeNull();
      expect(server.requests[before]!.closedAt! - begun).toBeLessThan(10_000);
      await expect.poll(() => h.engine.runner.runningCount, { timeout: 10_000 }).toBe(0);
    });
  });

  describe('retries', () => {
    const flaky = (maxAttempts: number) =>
      flow([{ id: 'flaky', type: 'fail', parameters: { failTimes: 2, message: 'not yet' }, retry: { maxAttempts, initialDelayMs: 100, backoffFactor: 2 } }], [['start', 'flaky']]);

    it('retries a failing node from durable timers, each after its backoff, and completes on attempt 3', async () => {
      const state = await h.run(flaky(3));
      expect(state.status).toBe('COMPLETED');
      expect(state.nodes.get('flaky')).toMatchObject({ status: 'COMPLETED', attempt: 3, failures: 2 });
      const retries = await eventsOf(h, state.id, 'NodeRetryScheduled', 'flaky');
      const starts = await eventsOf(h, state.id, 'NodeStarted', 'flaky');
      expect(retries.map((event) => [event.data.attempt, event.data.delayMs, event.data.error])).toEqual([
        [1, 100, 'not yet'],
        [2, 200, 'not yet'],
      ]);
      expect(starts.map((event) => event.data.attempt)).toEqual([1, 2, 3]);
      for (const [i, retry] of retries.entries()) {
        const next = ms(starts[i + 1]!.data.at);
        expect(next).toBeGreaterThanOrEqual(ms(retry.data.retryAt));
        // Woken by its own due time, not by the scheduler's 5 s poll (a busy machine may add a second).
        expect(next - ms(retry.data.retryAt)).toBeLessThan(4000);
      }
    });

    it('fails the node and the execution once the attempts are spent', async () => {
      const state = await h.run(flaky(2));
      expect(state.status).toBe('FAILED');
      expect(state.nodes.get('flaky')).toMatchObject({ status: 'FAILED', attempt: 2, error: 'not yet' });
      expect((await eventsOf(h, state.id, 'NodeFailed')).map((event) => event.data.attempt)).toEqual([2]);
    });
  });

  describe('timeouts', () => {
    it('a built-in node attempt past timeoutMs fails with EXECUTION_TIMEOUT, is retried, and its request aborted', async () => {
      // Long enough for each attempt's request to reach the server first, on a busy machine too.
      const timeoutMs = 1_000;
      const before = server.requests.length;
      const state = await h.run(
        flow([{ id: 'call', type: 'http', parameters: { url: server.url }, timeoutMs, retry: { maxAttempts: 2, initialDelayMs: 50 } }], [['start', 'call']]),
      );
      expect(state.status).toBe('FAILED');
      expect(state.nodes.get('call')).toMatchObject({ status: 'FAILED', attempt: 2, error: `EXECUTION_TIMEOUT: node call timed out after ${timeoutMs} ms` });
      const starts = await eventsOf(h, state.id, 'NodeStarted', 'call');
      const [retry] = await eventsOf(h, state.id, 'NodeRetryScheduled', 'call');
      const [failed] = await eventsOf(h, state.id, 'NodeFailed', 'call');
      expect(ms(retry!.data.at) - ms(starts[0]!.data.at)).toBeGreaterThanOrEqual(timeoutMs);
      expect(ms(failed!.data.at) - ms(starts[1]!.data.at)).toBeGreaterThanOrEqual(timeoutMs);
      // Each request that reached the server is aborted (the server never answers, and hears the
      // close a little after the failure); on a very busy machine an attempt may time out before
      // its request arrives at all, so the count is one or two, never more.
      const requests = server.requests.slice(before);
      expect(requests.length).toBeGreaterThanOrEqual(1);
      expect(requests.length).toBeLessThanOrEqual(2);
      await expect.poll(() => requests.every((request) => request.closedAt !== null), { timeout: 10_000 }).toBe(true);
    });

    it('an external node claimed and never settled times out by its durable timer; the late worker is refused', async () => {
      const id = await begin(h, flow([external('ext', 'timeout-q', { timeoutMs: 200 })], [['start', 'ext']]));
      await h.waitFor(id, (state) => state.nodes.get('ext')!.status === 'QUEUED');
      await claimWhenOffered(h.engine.workQueue, 'timeout-q', 'slow-worker', { leaseMs: 10_000 });
      const state = await h.waitFor(id);
      expect(state.status).toBe('FAILED');
      expect(state.nodes.get('ext')!.error).toBe('EXECUTION_TIMEOUT: node ext timed out after 200 ms');
      const late = await rejection(h.engine.executions.handle(id, { type: 'CompleteNode', data: { nodeId: 'ext', attempt: 1, output: 'late', outputName: null } }));
      expect(late!.code).toBe('INVALID_FLOW_STATE');
    });

    it('settings.executionTimeoutMs fails the execution with EXECUTION_TIMEOUT and aborts what runs', async () => {
      const begun = Date.now();
      const state = await h.run(
        flow(
          [
            { id: 'wait', type: 'delay', parameters: { ms: 20_000 } },
            { id: 'call', type: 'http', parameters: { url: server.url } },
          ],
          [
            ['start', 'wait'],
            ['start', 'call'],
          ],
          {
            executionTimeoutMs: 300,
          },
        ),
      );
      // Long before the delay's 20 s (or the request's 30 s).
      expect(Date.now() - begun).toBeLessThan(10_000);
      expect(state).toMatchObject({ status: 'FAILED', errorCode: 'EXECUTION_TIMEOUT', error: 'execution timed out' });
      expect(statuses(state)).toMatchObject({ wait: 'CANCELLED', call: 'CANCELLED' });
      expect(ms(state.finishedAt!) - ms(state.startedAt)).toBeGreaterThanOrEqual(300);
      await h.engine.processManager.caughtUp();
      expect(await timersOf(state.id)).toBe(0);
      await expect.poll(() => h.engine.runner.runningCount, { timeout: 10_000 }).toBe(0);
    });

    it('a built-in node running longer than its lease keeps it by renewing it', async () => {
      const slow = await startHangingServer(LEASE_MS * 3);
      try {
        const state = await h.run(flow([{ id: 'call', type: 'http', parameters: { url: slow.url } }], [['start', 'call']]));
        expect(state.status).toBe('COMPLETED');
        expect(state.nodes.get('call')).toMatchObject({ attempt: 1, output: { status: 200, body: { ok: true } } });
        expect((await eventsOf(h, state.id, 'NodeProgressed', 'call')).length).toBeGreaterThanOrEqual(2);
      } finally {
        await slow.close();
      }
    });
  });

  describe('manual intervention', () => {
    it('retryNode on a failed execution runs the node again and the execution goes on to complete', async () => {
      const failed = await h.run(
        flow(
          [
            { id: 'once', type: 'fail', parameters: { failTimes: 1 } },
            { id: 'end', type: 'noop' },
          ],
          [
            ['start', 'once'],
            ['once', 'end'],
          ],
        ),
      );
      expect(failed.status).toBe('FAILED');
      await h.engine.executions.handle(failed.id, { type: 'RetryNode', data: { nodeId: 'once' } });
      const state = await h.waitFor(failed.id);
      expect(state.status).toBe('COMPLETED');
      expect(state.nodes.get('once')).toMatchObject({ status: 'COMPLETED', attempt: 2 });
      expect(state.nodes.get('end')!.status).toBe('COMPLETED');
    });

    it('skipNode with an output on a failed node completes it and runs its dependents with that output', async () => {
      const failed = await h.run(
        flow(
          [
            { id: 'broken', type: 'fail' },
            { id: 'end', type: 'noop' },
          ],
          [
            ['start', 'broken'],
            ['broken', 'end'],
          ],
        ),
      );
      expect(failed.status).toBe('FAILED');
      await h.engine.executions.handle(failed.id, { type: 'SkipNode', data: { nodeId: 'broken', output: { patched: true } } });
      const state = await h.waitFor(failed.id);
      expect(state.status).toBe('COMPLETED');
      expect(state.nodes.get('end')!.output).toEqual({ broken: { patched: true } });
    });

    it('skipNode of a waiting external node skips it and its branch, withdraws its job, and the execution ends', async () => {
      const id = await begin(
        h,
        flow(
          [external('ext', 'skip-q'), { id: 'after', type: 'noop' }, { id: 'other', type: 'noop' }],
          [
            ['start', 'ext'],
            ['ext', 'after'],
            ['start', 'other'],
          ],
        ),
      );
      await h.waitFor(id, (state) => state.nodes.get('ext')!.status === 'QUEUED');
      await h.engine.executions.handle(id, { type: 'SkipNode', data: { nodeId: 'ext' } });
      const state = await h.waitFor(id);
      expect(state.status).toBe('COMPLETED');
      expect(statuses(state)).toMatchObject({ ext: 'SKIPPED', after: 'SKIPPED', other: 'COMPLETED' });
      await h.engine.processManager.caughtUp();
      expect(await h.engine.workQueue.claim('skip-q', 'worker')).toEqual([]);
    });
  });
});
