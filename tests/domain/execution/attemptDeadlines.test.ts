import { describe, expect, it } from 'vitest';
import { MAX_LOST_LEASES } from '../../../src/domain/execution/decide.js';
import type { ExecutionEvent } from '../../../src/domain/execution/events.js';
import type { NodeDefinition } from '../../../src/domain/workflow/workflow.js';
import { domainErrorOf, iso, Sim, T0, wf } from './harness.js';

const types = (events: ExecutionEvent[]) => events.map((e) => e.type);

/** T>A with A as given, T completed and A queued at T0. */
function queued(a: Partial<NodeDefinition>): Sim {
  const sim = new Sim(wf('T>A', { A: a }));
  sim.startExecution();
  sim.queue();
  sim.runNode('T');
  sim.queue();
  return sim;
}

const leased = (sim: Sim, leaseMs: number, attempt = sim.node('A').attempt) => sim.send({ type: 'StartNode', data: { nodeId: 'A', attempt, workerId: 'worker-1', leaseMs } });
const timeout = (sim: Sim, attempt: number) => sim.send({ type: 'TimeoutNode', data: { nodeId: 'A', attempt } });
const expire = (sim: Sim, attempt: number) => sim.send({ type: 'ExpireLease', data: { nodeId: 'A', attempt } });
const heartbeat = (sim: Sim, extra: { attempt?: number; leaseMs?: number } = {}) =>
  sim.send({ type: 'ReportNodeProgress', data: { nodeId: 'A', progress: 50, message: 'half way', leaseMs: extra.leaseMs ?? null, ...extra } });

describe('node timeout (TimeoutNode, sent by the attempt timer)', () => {
  it('fails a running attempt past timeoutMs with EXECUTION_TIMEOUT, retried by policy, then fails the execution', () => {
    const sim = queued({ timeoutMs: 1000, retry: { maxAttempts: 2, initialDelayMs: 100 } });
    sim.startNode('A');
    sim.now = T0 + 1000;
    expect(timeout(sim, 1)).toEqual([
      {
        type: 'NodeRetryScheduled',
        data: {
          nodeId: 'A',
          attempt: 1,
          error: 'EXECUTION_TIMEOUT: node A timed out after 1000 ms',
          errorCode: 'EXECUTION_TIMEOUT',
          nextAttempt: 2,
          delayMs: 100,
          retryAt: iso(T0 + 1100),
          at: iso(T0 + 1000),
        },
      },
    ]);
    sim.now = T0 + 1100;
    sim.startNode('A', 2);
    sim.now = T0 + 2100;
    expect(types(timeout(sim, 2))).toEqual(['NodeFailed', 'ExecutionFailed']);
    expect(sim.node('A')).toMatchObject({ status: 'FAILED', error: 'EXECUTION_TIMEOUT: node A timed out after 1000 ms' });
  });

  it('does nothing before the deadline, for an attempt that is over, or when fired twice', () => {
    const sim = queued({ timeoutMs: 1000, retry: { maxAttempts: 3, initialDelayMs: 0 } });
    sim.startNode('A');
    sim.now = T0 + 999;
    expect(timeout(sim, 1)).toEqual([]);
    sim.now = T0 + 1000;
    expect(types(timeout(sim, 1))).toEqual(['NodeRetryScheduled']);
    expect(timeout(sim, 1)).toEqual([]);
    sim.startNode('A', 2);
    // the second attempt started at T0 + 1000: the first attempt's timer says nothing about it
    expect(timeout(sim, 1)).toEqual([]);
    expect(timeout(sim, 2)).toEqual([]);
    sim.complete('A');
    sim.now = T0 + 5000;
    expect(timeout(sim, 2)).toEqual([]);
  });

  it('a node without timeoutMs never times out', () => {
    const sim = queued({});
    sim.startNode('A');
    sim.now = T0 + 1e9;
    expect(timeout(sim, 1)).toEqual([]);
  });
});

describe('leases (StartNode with leaseMs, ReportNodeProgress, ExpireLease)', () => {
  it('a heartbeat renews the lease by the length it was first granted for, unless it says otherwise', () => {
    const sim = queued({ type: 'external', parameters: { queue: 'q' } });
    leased(sim, 10_000);
    expect(sim.node('A')).toMatchObject({ status: 'RUNNING', workerId: 'worker-1', leaseExpiresAt: iso(T0 + 10_000), leaseMs: 10_000 });
    sim.now = T0 + 4000;
    heartbeat(sim);
    expect(sim.node('A')).toMatchObject({ progress: 50, message: 'half way', leaseExpiresAt: iso(T0 + 14_000) });
    heartbeat(sim, { leaseMs: 60_000, attempt: 1 });
    expect(sim.node('A').leaseExpiresAt).toBe(iso(T0 + 64_000));
  });

  it('an external attempt whose lease ran out counts as a failed attempt, retried by policy', () => {
    const sim = queued({ type: 'external', parameters: { queue: 'q' }, retry: { maxAttempts: 2, initialDelayMs: 0 } });
    leased(sim, 10_000);
    sim.now = T0 + 5000;
    heartbeat(sim);
    sim.now = T0 + 10_000;
    // the renewed lease has not run out: the first timer is stale
    expect(expire(sim, 1)).toEqual([]);
    sim.now = T0 + 15_000;
    const [retry] = expire(sim, 1);
    expect(retry).toMatchObject({ type: 'NodeRetryScheduled', data: { nodeId: 'A', attempt: 1, nextAttempt: 2 } });
    expect((retry!.data as { error: string }).error).toBe(`the lease of worker worker-1 expired at ${iso(T0 + 15_000)}`);
    expect(expire(sim, 1)).toEqual([]);
    expect(sim.node('A')).toMatchObject({ status: 'QUEUED', attempt: 2, workerId: null, leaseExpiresAt: null });
    leased(sim, 10_000);
    sim.now = T0 + 25_000;
    expect(types(expire(sim, 2))).toEqual(['NodeFailed', 'ExecutionFailed']);
  });

  it('the worker whose lease ran out learns it on its next call, and changes nothing', () => {
    const sim = queued({ type: 'external', parameters: { queue: 'q' }, retry: { maxAttempts: 3, initialDelayMs: 0 } });
    leased(sim, 1000);
    sim.now = T0 + 1000;
    expire(sim, 1);
    leased(sim, 1000, 2);
    const before = sim.events.length;
    for (const late of [
      () => heartbeat(sim, { attempt: 1 }),
      () => sim.send({ type: 'CompleteNode', data: { nodeId: 'A', attempt: 1, output: 'late', outputName: null } }),
      () => sim.send({ type: 'FailNode', data: { nodeId: 'A', attempt: 1, error: 'late', retryable: true } }),
    ]) {
      const error = domainErrorOf(late);
      expect(error.code).toBe('INVALID_FLOW_STATE');
      expect(error.message).toMatch(/attempt 1 of node A is over \(the node is RUNNING at attempt 2\): its lease expired/);
    }
    expect(sim.events).toHaveLength(before);
    expect(sim.node('A')).toMatchObject({ status: 'RUNNING', attempt: 2 });
  });

  it('a built-in attempt whose runtime stopped renewing goes back to the queue as a new attempt, not a failure', () => {
    const sim = queued({ type: 'http', parameters: { url: 'http://localhost' } });
    leased(sim, 1000);
    sim.now = T0 + 1000;
    expect(expire(sim, 1)).toEqual([
      {
        type: 'NodeReleased',
        data: { nodeId: 'A', attempt: 1, nextAttempt: 2, reason: `the lease of worker worker-1 expired at ${iso(T0 + 1000)}`, leaseLost: true, at: iso(T0 + 1000) },
      },
    ]);
    expect(sim.node('A')).toMatchObject({ status: 'QUEUED', attempt: 2, failures: 0, lostLeases: 1 });
  });

  it(`a built-in node whose runtime is lost ${MAX_LOST_LEASES} times fails for good, retry policy or not`, () => {
    const sim = queued({ type: 'http', parameters: { url: 'http://localhost' }, retry: { maxAttempts: 10, initialDelayMs: 0 } });
    for (let attempt = 1; attempt < MAX_LOST_LEASES; attempt++) {
      leased(sim, 1000, attempt);
      sim.now += 1000;
      expect(types(expire(sim, attempt))).toEqual(['NodeReleased']);
    }
    leased(sim, 1000, MAX_LOST_LEASES);
    sim.now += 1000;
    const events = expire(sim, MAX_LOST_LEASES);
    expect(types(events)).toEqual(['NodeFailed', 'ExecutionFailed']);
    expect((events[0]!.data as { error: string }).error).toMatch(/its runtime was lost 3 times running this node/);
  });

  it('an attempt without a lease never expires', () => {
    const sim = queued({ type: 'external', parameters: { queue: 'q' } });
    sim.startNode('A');
    sim.now = T0 + 1e9;
    expect(expire(sim, 1)).toEqual([]);
  });

  it('after a cancel, heartbeats are refused and expiry timers do nothing', () => {
    const sim = queued({ type: 'external', parameters: { queue: 'q' }, timeoutMs: 10 });
    leased(sim, 1000);
    sim.send({ type: 'CancelExecution', data: { reason: 'user asked' } });
    expect(domainErrorOf(() => heartbeat(sim)).message).toBe('cannot report progress to a CANCELLED execution');
    sim.now = T0 + 5000;
    expect(expire(sim, 1)).toEqual([]);
    expect(timeout(sim, 1)).toEqual([]);
  });

  it('while paused, a running attempt still expires and times out (results and failures are kept)', () => {
    const sim = queued({ type: 'external', parameters: { queue: 'q' }, retry: { maxAttempts: 2, initialDelayMs: 0 } });
    leased(sim, 1000);
    sim.send({ type: 'PauseExecution' });
    sim.now = T0 + 1000;
    expect(types(expire(sim, 1))).toEqual(['NodeRetryScheduled']);
    expect(domainErrorOf(() => leased(sim, 1000, 2)).message).toBe('cannot start a node of a PAUSED execution');
  });
});
