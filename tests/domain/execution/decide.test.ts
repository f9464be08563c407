import { describe, expect, it } from 'vitest';
import { decide } from '../../../src/domain/execution/decide.js';
import type { ExecutionEvent } from '../../../src/domain/execution/events.js';
import { retryDelayMs, retryPolicyOf } from '../../../src/domain/execution/retryPolicy.js';
import { domainErrorOf, iso, run, Sim, T0, wf } from './harness.js';
import { BUILTIN_TYPES } from '../../support/nodeTypes.js';

const types = (events: ExecutionEvent[]) => events.map((e) => e.type);
const nodeIds = (events: ExecutionEvent[], type: ExecutionEvent['type']) => events.flatMap((e) => (e.type === type && 'nodeId' in e.data ? [e.data.nodeId] : []));

describe('run harness: happy paths', () => {
  it('linear flow: runs in order, each node gets { upstreamId: output }, the execution completes', () => {
    const result = run(wf('T>A A>B B>C'), 'T', {}, { triggerData: { order: 42 } });
    expect(result.started).toEqual(['T', 'A', 'B', 'C']);
    expect(result.inputs).toEqual({ T: {}, A: { T: { order: 42 } }, B: { A: 'out:A' }, C: { B: 'out:B' } });
    expect(result.state.status).toBe('COMPLETED');
    expect(result.state.executionPath).toEqual(['T', 'A', 'B', 'C']);
    expect(result.events.at(-1)).toEqual({ type: 'ExecutionCompleted', data: { status: 'COMPLETED', at: iso(T0) } });
    expect(result.ofType('ExecutionCompleted')).toHaveLength(1);
    expect(result.ofType('NodeQueued').map((e) => [e.data.nodeId, e.data.attempt])).toEqual([
      ['T', 1],
      ['A', 1],
      ['B', 1],
      ['C', 1],
    ]);
    expect(result.state.settledCount).toBe(4);
    expect(result.state.finishedAt).toBe(iso(T0));
  });

  it('parallel fan-out: one QueueReadyNodes queues every branch with the trigger output', () => {
    const sim = new Sim(wf('T>A T>B T>C'));
    sim.startExecution('T', 'payload');
    expect(sim.queue()).toEqual([{ type: 'NodeQueued', data: { nodeId: 'T', attempt: 1, input: {}, at: iso(T0) } }]);
    sim.runNode('T', 'payload');
    const queued = sim.queue();
    expect(types(queued)).toEqual(['NodeQueued', 'NodeQueued', 'NodeQueued']);
    expect(nodeIds(queued, 'NodeQueued').sort()).toEqual(['A', 'B', 'C']);
    for (const event of queued) expect(event.type === 'NodeQueued' && event.data.input).toEqual({ T: 'payload' });
    // the branches run independently, in any order
    sim.runNode('C');
    expect(sim.queue()).toEqual([]);
    sim.runNode('A');
    sim.runNode('B');
    expect(sim.queue()).toEqual([{ type: 'ExecutionCompleted', data: { status: 'COMPLETED', at: iso(T0) } }]);
  });

  it('merge/join runs once, after all inputs, with all their outputs', () => {
    const sim = new Sim(wf('T>A T>B T>C A>M B>M C>M', { M: { type: 'merge' } }));
    sim.startExecution();
    sim.queue();
    sim.runNode('T');
    sim.queue();
    for (const id of ['B', 'A']) {
      sim.runNode(id, { value: id });
      expect(sim.queue()).toEqual([]);
      expect(sim.statusOf('M')).toBe('IDLE');
    }
    sim.runNode('C', { value: 'C' });
    expect(sim.queue()).toEqual([{ type: 'NodeQueued', data: { nodeId: 'M', attempt: 1, input: { A: { value: 'A' }, B: { value: 'B' }, C: { value: 'C' } }, at: iso(T0) } }]);
    expect(sim.queue()).toEqual([]);
    sim.runNode('M');
    expect(types(sim.queue())).toEqual(['ExecutionCompleted']);
    expect(nodeIds(sim.events, 'NodeQueued').filter((id) => id === 'M')).toHaveLength(1);
  });

  it('through the harness a diamond join sees both outputs', () => {
    const result = run(wf('T>A T>B A>J B>J'), 'T', { A: { output: 1 }, B: { output: 2 } });
    expect(result.started.filter((id) => id === 'J')).toEqual(['J']);
    expect(result.inputs.J).toEqual({ A: 1, B: 2 });
    expect(result.state.status).toBe('COMPLETED');
  });
});

describe('conditional flow', () => {
  // T -> I(if); I -true-> Y1 -> Y2; I -false-> N1 -> N2 -> N3; Y2 and N3 join in E (default rule).
  const conditional = () => wf('T>I I>Y1:true Y1>Y2 I>N1:false N1>N2 N2>N3 Y2>E N3>E', { I: { type: 'if', parameters: { condition: 'x > 1' } } });

  it.each([
    { taken: 'true', ran: ['Y1', 'Y2'], skipped: ['N1', 'N2', 'N3'], last: 'Y2' },
    { taken: 'false', ran: ['N1', 'N2', 'N3'], skipped: ['Y1', 'Y2'], last: 'N3' },
  ])('outputName $taken: the untaken branch is SKIPPED end to end, the join runs on the taken one', ({ taken, ran, skipped, last }) => {
    const result = run(conditional(), 'T', { I: { output: { x: 2 }, outputName: taken } });
    expect(result.state.status).toBe('COMPLETED');
    expect(result.started).toEqual(['T', 'I', ...ran, 'E']);
    expect(result.inputs[ran[0]!]).toEqual({ I: { x: 2 } });
    expect(result.inputs.E).toEqual({ [last]: `out:${last}` });
    for (const id of skipped) {
      const node = result.sim.node(id);
      expect(node.status).toBe('SKIPPED');
      expect(node.skipReason).toMatch(/NONE_FAILED_MIN_ONE_SUCCESS/);
    }
    expect(nodeIds(result.events, 'NodeSkipped').sort()).toEqual([...skipped].sort());
    expect(result.state.failedCount).toBe(0);
    expect(result.state.settledCount).toBe(8);
  });

  it('the whole untaken chain is skipped in the same decision that queues the taken branch', () => {
    const sim = new Sim(conditional());
    sim.startExecution();
    sim.queue();
    sim.runNode('T');
    sim.queue();
    sim.runNode('I', true, 'true');
    const events = sim.queue();
    expect(nodeIds(events, 'NodeSkipped').sort()).toEqual(['N1', 'N2', 'N3']);
    expect(nodeIds(events, 'NodeQueued')).toEqual(['Y1']);
    expect(events).toHaveLength(4);
    // E is still waiting on Y2
    expect(sim.statusOf('E')).toBe('IDLE');
  });

  it('an if node that completes without an outputName activates no named edge: everything behind it is skipped', () => {
    const result = run(conditional(), 'T', { I: { output: 1, outputName: null } });
    expect(result.started).toEqual(['T', 'I']);
    expect(result.sim.statuses()).toEqual({
      T: 'COMPLETED',
      I: 'COMPLETED',
      Y1: 'SKIPPED',
      Y2: 'SKIPPED',
      N1: 'SKIPPED',
      N2: 'SKIPPED',
      N3: 'SKIPPED',
      E: 'SKIPPED',
    });
    expect(result.state.status).toBe('COMPLETED');
  });
});

describe('ONE_SUCCESS join', () => {
  it('runs on the first active edge without waiting for the others, and only once', () => {
    const sim = new Sim(wf('T>A T>B A>J B>J', { J: { triggerRule: 'ONE_SUCCESS' } }));
    sim.startExecution();
    sim.queue();
    sim.runNode('T');
    sim.queue();
    sim.startNode('A');
    sim.startNode('B');
    sim.complete('B', 'fast');
    expect(sim.queue()).toEqual([{ type: 'NodeQueued', data: { nodeId: 'J', attempt: 1, input: { B: 'fast' }, at: iso(T0) } }]);
    expect(sim.statusOf('A')).toBe('RUNNING');
    sim.runNode('J');
    expect(sim.queue()).toEqual([]);
    sim.complete('A', 'slow');
    expect(sim.queue()).toEqual([{ type: 'ExecutionCompleted', data: { status: 'COMPLETED', at: iso(T0) } }]);
    expect(nodeIds(sim.events, 'NodeQueued').filter((id) => id === 'J')).toHaveLength(1);
    expect(sim.node('J').input).toEqual({ B: 'fast' });
  });

  it('waits while the only settled upstream is inactive, then runs on the next active one', () => {
    const sim = new Sim(wf('T>I T>B I>J:true B>J', { I: { type: 'if' }, J: { triggerRule: 'ONE_SUCCESS' } }));
    sim.startExecution();
    sim.queue();
    sim.runNode('T');
    sim.queue();
    sim.runNode('I', 1, 'false');
    expect(sim.queue()).toEqual([]);
    sim.runNode('B');
    expect(nodeIds(sim.queue(), 'NodeQueued')).toEqual(['J']);
    expect(sim.node('J').input).toEqual({ B: 'out:B' });
  });
});

describe('node failure handling', () => {
  it('by default the execution FAILS; queued and running nodes are CANCELLED; idle ones stay idle', () => {
    const sim = new Sim(wf('T>A T>B T>C A>D'));
    sim.startExecution();
    sim.queue();
    sim.runNode('T');
    sim.queue();
    sim.startNode('A');
    sim.startNode('B');
    const events = sim.fail('A', 'kaput');
    expect(events[0]).toEqual({ type: 'NodeFailed', data: { nodeId: 'A', attempt: 1, error: 'kaput', errorCode: null, at: iso(T0) } });
    expect(nodeIds(events, 'NodeCancelled').sort()).toEqual(['B', 'C']);
    expect(events.at(-1)).toEqual({ type: 'ExecutionFailed', data: { error: 'node A failed: kaput', code: 'NODE_FAILED', at: iso(T0) } });
    expect(events).toHaveLength(4);
    expect(sim.statuses()).toEqual({ T: 'COMPLETED', A: 'FAILED', B: 'CANCELLED', C: 'CANCELLED', D: 'IDLE' });
    expect(sim.st.status).toBe('FAILED');
    expect(sim.st.errorCode).toBe('NODE_FAILED');
    expect(sim.node('A').error).toBe('kaput');
    // the aborted runner's late result is refused, and nothing more is queued
    expect(domainErrorOf(() => sim.complete('B')).code).toBe('INVALID_FLOW_STATE');
    expect(sim.queue()).toEqual([]);
  });

  it('skipFailedBranches: default-rule dependents are SKIPPED (propagating); ALL_DONE and ALWAYS dependents run; PARTIAL', () => {
    const workflow = wf(
      'T>A A>B B>C A>Cleanup A>Always T>Other',
      { Cleanup: { triggerRule: 'ALL_DONE' }, Always: { triggerRule: 'ALWAYS' } },
      { recovery: { skipFailedBranches: true } },
    );
    const result = run(workflow, 'T', { A: { error: 'bad' } });
    expect(result.sim.statuses()).toEqual({
      T: 'COMPLETED',
      A: 'FAILED',
      B: 'SKIPPED',
      C: 'SKIPPED',
      Cleanup: 'COMPLETED',
      Always: 'COMPLETED',
      Other: 'COMPLETED',
    });
    expect(result.ofType('ExecutionFailed')).toEqual([]);
    expect(result.ofType('NodeCancelled')).toEqual([]);
    expect(result.state.status).toBe('PARTIAL');
    expect(result.events.at(-1)).toEqual({ type: 'ExecutionCompleted', data: { status: 'PARTIAL', at: iso(T0) } });
    // the failed node's edge is not active: clean-up steps run with no input from it
    expect(result.inputs.Cleanup).toEqual({});
    expect(result.inputs.Always).toEqual({});
    expect(result.sim.node('B').skipReason).toMatch(/1 failed or cancelled/);
    expect(result.sim.node('C').skipReason).toMatch(/0 of 1 incoming dependencies active/);
    expect(result.state.failedCount).toBe(1);
  });

  it('skipFailedBranches: FailNode alone neither cancels nor ends anything', () => {
    const sim = new Sim(wf('T>A T>B', {}, { recovery: { skipFailedBranches: true } }));
    sim.startExecution();
    sim.queue();
    sim.runNode('T');
    sim.queue();
    sim.startNode('A');
    sim.startNode('B');
    expect(types(sim.fail('A'))).toEqual(['NodeFailed']);
    expect(sim.statusOf('B')).toBe('RUNNING');
    expect(sim.queue()).toEqual([]);
    sim.complete('B');
    expect(sim.queue()).toEqual([{ type: 'ExecutionCompleted', data: { status: 'PARTIAL', at: iso(T0) } }]);
  });

  it('continueOnNodeFailure: dependents run with { error } as the failed node output; PARTIAL', () => {
    const workflow = wf('T>A A>B T>C B>J C>J', {}, { recovery: { continueOnNodeFailure: true } });
    const result = run(workflow, 'T', { A: { error: 'no route' } });
    expect(result.inputs.B).toEqual({ A: { error: 'no route' } });
    expect(result.inputs.J).toEqual({ B: 'out:B', C: 'out:C' });
    expect(result.sim.statuses()).toEqual({ T: 'COMPLETED', A: 'FAILED', B: 'COMPLETED', C: 'COMPLETED', J: 'COMPLETED' });
    expect(result.state.status).toBe('PARTIAL');
    expect(result.ofType('ExecutionCompleted')).toEqual([{ type: 'ExecutionCompleted', data: { status: 'PARTIAL', at: iso(T0) } }]);
  });

  it('continueOnNodeFailure: a failed node activates no named-output edge', () => {
    const workflow = wf('T>I I>Y:true I>N:false', { I: { type: 'if' } }, { recovery: { continueOnNodeFailure: true } });
    const result = run(workflow, 'T', { I: { error: 'bad expression' } });
    expect(result.sim.statuses()).toEqual({ T: 'COMPLETED', I: 'FAILED', Y: 'SKIPPED', N: 'SKIPPED' });
    expect(result.state.status).toBe('PARTIAL');
  });
});

describe('retry policy', () => {
  it.each([
    { failures: 1, delay: 100 },
    { failures: 2, delay: 300 },
    { failures: 3, delay: 900 },
    { failures: 4, delay: 1000 },
    { failures: 5, delay: 1000 },
  ])('retryDelayMs: failure $failures waits $delay ms (100 * 3^(n-1), capped at 1000)', ({ failures, delay }) => {
    expect(retryDelayMs({ maxAttempts: 9, initialDelayMs: 100, backoffFactor: 3, maxDelayMs: 1000 }, failures)).toBe(delay);
  });

  it('retryDelayMs defaults: 1000 ms doubling, capped at one hour without maxDelayMs', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs({ maxAttempts: 5 }, n))).toEqual([1000, 2000, 4000, 8000]);
    expect(retryDelayMs({ maxAttempts: 100 }, 99)).toBe(3_600_000);
    expect(retryDelayMs({ maxAttempts: 100, initialDelayMs: 86_400_000, backoffFactor: 10 }, 99)).toBe(86_400_000);
  });

  it('the largest valid policy gives a valid retry date on every attempt (the computed delay is capped)', () => {
    const workflow = wf('T>A', { A: { retry: { maxAttempts: 100, initialDelayMs: 1000, backoffFactor: 10 } } });
    const result = run(workflow, 'T', { A: { error: 'down' } });
    const retries = result.ofType('NodeRetryScheduled').map((e) => e.data);
    expect(retries).toHaveLength(99);
    expect(Math.max(...retries.map((r) => r.delayMs))).toBe(3_600_000);
    expect(retries.every((r) => Number.isFinite(Date.parse(r.retryAt)))).toBe(true);
    expect(result.state.status).toBe('FAILED');
  });

  it.each([
    { name: 'no policy', retry: undefined, recovery: {}, maxAttempts: 1 },
    { name: 'workflow retries, default count', retry: undefined, recovery: { retryFailedNodes: true }, maxAttempts: 4 },
    { name: 'workflow retries, maxRetryAttempts 2', retry: undefined, recovery: { retryFailedNodes: true, maxRetryAttempts: 2 }, maxAttempts: 3 },
    { name: 'node policy wins', retry: { maxAttempts: 2 }, recovery: { retryFailedNodes: true, maxRetryAttempts: 7 }, maxAttempts: 2 },
  ])('retryPolicyOf: $name -> $maxAttempts attempts', ({ retry, recovery, maxAttempts }) => {
    expect(retryPolicyOf({ id: 'A', type: 'noop', ...(retry ? { retry } : {}) }, recovery).maxAttempts).toBe(maxAttempts);
  });

  it('schedules retries with exponential backoff and fails only when the attempts are spent', () => {
    const workflow = wf('T>A A>B', { A: { retry: { maxAttempts: 4, initialDelayMs: 100, backoffFactor: 3, maxDelayMs: 500 } } });
    const result = run(workflow, 'T', { A: [{ error: 'e1' }, { error: 'e2' }, { error: 'e3' }, { error: 'e4' }] });
    const retries = result.ofType('NodeRetryScheduled').map((e) => e.data);
    expect(retries.map((r) => [r.attempt, r.nextAttempt, r.delayMs, r.error])).toEqual([
      [1, 2, 100, 'e1'],
      [2, 3, 300, 'e2'],
      [3, 4, 500, 'e3'],
    ]);
    // each retryAt is the failure time plus the delay (the harness waits until retryAt)
    expect(retries.map((r) => Date.parse(r.retryAt) - Date.parse(r.at))).toEqual([100, 300, 500]);
    expect(retries.map((r) => r.retryAt)).toEqual([iso(T0 + 100), iso(T0 + 400), iso(T0 + 900)]);
    expect(result.ofType('NodeFailed')).toEqual([{ type: 'NodeFailed', data: { nodeId: 'A', attempt: 4, error: 'e4', errorCode: null, at: iso(T0 + 900) } }]);
    expect(result.started).toEqual(['T', 'A', 'A', 'A', 'A']);
    expect(result.state.status).toBe('FAILED');
    expect(result.sim.node('A').failures).toBe(4);
    expect(result.sim.statusOf('B')).toBe('IDLE');
  });

  it('a retried node that then succeeds completes the execution normally', () => {
    const workflow = wf('T>A A>B', { A: { retry: { maxAttempts: 3, initialDelayMs: 50 } } });
    const result = run(workflow, 'T', { A: [{ error: 'flaky' }, { output: 'ok' }] });
    expect(result.ofType('NodeRetryScheduled')).toHaveLength(1);
    expect(result.ofType('NodeFailed')).toEqual([]);
    expect(result.sim.node('A')).toMatchObject({ status: 'COMPLETED', attempt: 2, output: 'ok', failures: 1 });
    expect(result.inputs.B).toEqual({ A: 'ok' });
    expect(result.state.status).toBe('COMPLETED');
  });

  it('retryable:false is not retried', () => {
    const workflow = wf('T>A', { A: { retry: { maxAttempts: 5 } } });
    const result = run(workflow, 'T', { A: { error: 'bad request', retryable: false } });
    expect(result.ofType('NodeRetryScheduled')).toEqual([]);
    expect(result.ofType('NodeFailed').map((e) => e.data.attempt)).toEqual([1]);
    expect(result.state.status).toBe('FAILED');
  });

  it('recovery.retryFailedNodes with maxRetryAttempts gives every node that many retries, default delays', () => {
    const workflow = wf('T>A', {}, { recovery: { retryFailedNodes: true, maxRetryAttempts: 2 } });
    const result = run(workflow, 'T', { A: { error: 'down' } });
    expect(result.ofType('NodeRetryScheduled').map((e) => e.data.delayMs)).toEqual([1000, 2000]);
    expect(result.started).toEqual(['T', 'A', 'A', 'A']);
    expect(result.ofType('NodeFailed')).toHaveLength(1);
    expect(result.state.status).toBe('FAILED');
  });

  it('recovery.retryFailedNodes without maxRetryAttempts retries 3 times', () => {
    const workflow = wf('T>A', {}, { recovery: { retryFailedNodes: true } });
    const result = run(workflow, 'T', { A: { error: 'down' } });
    expect(result.ofType('NodeRetryScheduled').map((e) => e.data.delayMs)).toEqual([1000, 2000, 4000]);
    expect(result.ofType('NodeFailed').map((e) => e.data.attempt)).toEqual([4]);
  });

  it('StartNode before retryAt is rejected; at retryAt it is accepted', () => {
    const sim = new Sim(wf('T>A', { A: { retry: { maxAttempts: 2, initialDelayMs: 5000 } } }));
    sim.startExecution();
    sim.queue();
    sim.runNode('T');
    sim.queue();
    sim.startNode('A');
    sim.fail('A', 'timeout');
    expect(sim.node('A')).toMatchObject({ status: 'QUEUED', attempt: 2, retryAt: iso(T0 + 5000), error: 'timeout' });
    sim.now = T0 + 4999;
    expect(domainErrorOf(() => sim.startNode('A', 2)).code).toBe('INVALID_FLOW_STATE');
    // the old attempt cannot start either
    expect(domainErrorOf(() => sim.startNode('A', 1)).code).toBe('INVALID_FLOW_STATE');
    // QueueReadyNodes does not queue it a second time while it waits
    expect(sim.queue()).toEqual([]);
    sim.now = T0 + 5000;
    expect(types(sim.startNode('A', 2))).toEqual(['NodeStarted']);
    expect(sim.node('A').retryAt).toBeNull();
  });

  it('a stale attempt cannot complete or fail the node', () => {
    const sim = new Sim(wf('T>A', { A: { retry: { maxAttempts: 2, initialDelayMs: 0 } } }));
    sim.startExecution();
    sim.queue();
    sim.runNode('T');
    sim.queue();
    sim.startNode('A');
    sim.fail('A');
    sim.now += 1000;
    sim.startNode('A', 2);
    expect(domainErrorOf(() => sim.send({ type: 'CompleteNode', data: { nodeId: 'A', attempt: 1, output: 1, outputName: null } })).code).toBe('INVALID_FLOW_STATE');
    expect(domainErrorOf(() => sim.send({ type: 'FailNode', data: { nodeId: 'A', attempt: 1, error: 'x', retryable: true } })).code).toBe('INVALID_FLOW_STATE');
    expect(types(sim.send({ type: 'CompleteNode', data: { nodeId: 'A', attempt: 2, output: 1, outputName: null } }))).toEqual(['NodeCompleted']);
  });
});

describe('pause and resume', () => {
  it('no node starts while paused, running results are kept, resume queues what became ready', () => {
    const sim = new Sim(wf('T>A A>C T>B'));
    sim.startExecution();
    sim.queue();
    sim.runNode('T');
    sim.queue();
    sim.startNode('A');
    expect(sim.send({ type: 'PauseExecution' })).toEqual([{ type: 'ExecutionPaused', data: { at: iso(T0) } }]);
    expect(sim.st.status).toBe('PAUSED');
    expect(domainErrorOf(() => sim.startNode('B')).code).toBe('INVALID_FLOW_STATE');
    expect(types(sim.complete('A', 'kept'))).toEqual(['NodeCompleted']);
    expect(sim.node('A')).toMatchObject({ status: 'COMPLETED', output: 'kept' });
    expect(sim.queue()).toEqual([]);
    expect(sim.statusOf('C')).toBe('IDLE');
    expect(domainErrorOf(() => sim.send({ type: 'PauseExecution' })).code).toBe('INVALID_FLOW_STATE');
    expect(sim.send({ type: 'ResumeExecution' })).toEqual([{ type: 'ExecutionResumed', data: { at: iso(T0) } }]);
    expect(domainErrorOf(() => sim.send({ type: 'ResumeExecution' })).code).toBe('INVALID_FLOW_STATE');
    expect(sim.queue()).toEqual([{ type: 'NodeQueued', data: { nodeId: 'C', attempt: 1, input: { A: 'kept' }, at: iso(T0) } }]);
    sim.runNode('B');
    sim.runNode('C');
    expect(types(sim.queue())).toEqual(['ExecutionCompleted']);
    expect(sim.st.status).toBe('COMPLETED');
  });

  it('a node failing while paused still fails the execution by default', () => {
    const sim = new Sim(wf('T>A T>B'));
    sim.startExecution();
    sim.queue();
    sim.runNode('T');
    sim.queue();
    sim.startNode('A');
    sim.send({ type: 'PauseExecution' });
    expect(types(sim.fail('A'))).toEqual(['NodeFailed', 'NodeCancelled', 'ExecutionFailed']);
    expect(sim.statusOf('B')).toBe('CANCELLED');
  });
});

describe('cancel', () => {
  it('queued and running nodes are CANCELLED; later commands are rejected', () => {
    const sim = new Sim(wf('T>A T>B T>C C>D'));
    sim.startExecution();
    sim.queue();
    sim.runNode('T');
    sim.queue();
    sim.startNode('A');
    sim.startNode('B');
    const events = sim.send({ type: 'CancelExecution', data: { reason: 'user asked' } });
    expect(nodeIds(events, 'NodeCancelled').sort()).toEqual(['A', 'B', 'C']);
    expect(events.at(-1)).toEqual({ type: 'ExecutionCancelled', data: { reason: 'user asked', at: iso(T0) } });
    expect(events).toHaveLength(4);
    expect(sim.statuses()).toEqual({ T: 'COMPLETED', A: 'CANCELLED', B: 'CANCELLED', C: 'CANCELLED', D: 'IDLE' });
    expect(sim.st.status).toBe('CANCELLED');
    expect(sim.st.error).toBe('user asked');
    expect(domainErrorOf(() => sim.complete('A')).code).toBe('INVALID_FLOW_STATE');
    expect(domainErrorOf(() => sim.fail('B')).code).toBe('INVALID_FLOW_STATE');
    expect(domainErrorOf(() => sim.startNode('C')).code).toBe('INVALID_FLOW_STATE');
    expect(domainErrorOf(() => sim.send({ type: 'CancelExecution', data: { reason: 'again' } })).code).toBe('INVALID_FLOW_STATE');
    expect(sim.queue()).toEqual([]);
  });

  it('a paused execution can be cancelled', () => {
    const sim = new Sim(wf('T>A'));
    sim.startExecution();
    sim.queue();
    sim.send({ type: 'PauseExecution' });
    expect(types(sim.send({ type: 'CancelExecution', data: { reason: 'r' } }))).toEqual(['NodeCancelled', 'ExecutionCancelled']);
    expect(sim.statuses()).toEqual({ T: 'CANCELLED', A: 'IDLE' });
  });
});

describe('execution timeout', () => {
  it('fails the execution with EXECUTION_TIMEOUT and cancels queued and running nodes', () => {
    const sim = new Sim(wf('T>A T>B'));
    sim.startExecution();
    sim.queue();
    sim.runNode('T');
    sim.queue();
    sim.startNode('A');
    sim.now = T0 + 60_000;
    const events = sim.send({ type: 'TimeoutExecution' });
    expect(nodeIds(events, 'NodeCancelled').sort()).toEqual(['A', 'B']);
    expect(events.at(-1)).toEqual({
      type: 'ExecutionFailed',
      data: { error: 'execution timed out', code: 'EXECUTION_TIMEOUT', at: iso(T0 + 60_000) },
    });
    expect(sim.st).toMatchObject({ status: 'FAILED', errorCode: 'EXECUTION_TIMEOUT', finishedAt: iso(T0 + 60_000) });
    // a late timer on a finished execution does nothing
    expect(sim.send({ type: 'TimeoutExecution' })).toEqual([]);
  });

  it('does nothing to a completed execution', () => {
    const result = run(wf('T>A'), 'T');
    expect(result.state.status).toBe('COMPLETED');
    expect(decide({ type: 'TimeoutExecution' }, result.state, new Date(T0), BUILTIN_TYPES)).toEqual([]);
  });
});

describe('manual retry and skip', () => {
  it('retryNode on a FAILED execution reopens it, resets the node, and runs to completion', () => {
    const workflow = wf('T>A A>B');
    const first = run(workflow, 'T', { A: { error: 'down' } });
    expect(first.state.status).toBe('FAILED');
    const events = first.sim.send({ type: 'RetryNode', data: { nodeId: 'A' } });
    expect(events).toEqual([
      { type: 'ExecutionReopened', data: { at: iso(T0) } },
      { type: 'NodeReset', data: { nodeId: 'A', at: iso(T0) } },
    ]);
    expect(first.sim.st).toMatchObject({ status: 'RUNNING', error: null, errorCode: null, finishedAt: null });
    expect(first.sim.node('A')).toMatchObject({ status: 'IDLE', error: null, failures: 0 });
    const second = run(workflow, 'T', { A: { output: 'up' } }, { sim: first.sim });
    expect(second.ofType('NodeQueued').map((e) => [e.data.nodeId, e.data.attempt])).toEqual([
      ['A', 2],
      ['B', 1],
    ]);
    expect(second.inputs.B).toEqual({ A: 'up' });
    expect(second.state.status).toBe('COMPLETED');
    expect(second.state.executionPath).toEqual(['T', 'A', 'B']);
  });

  it('retryNode also puts back nodes that were cancelled with the failure', () => {
    const workflow = wf('T>A T>X X>Y');
    const sim = new Sim(workflow);
    sim.startExecution();
    sim.queue();
    sim.runNode('T');
    sim.queue();
    sim.startNode('A');
    sim.startNode('X');
    sim.fail('A');
    expect(sim.statusOf('X')).toBe('CANCELLED');
    const events = sim.send({ type: 'RetryNode', data: { nodeId: 'A' } });
    expect(types(events)).toEqual(['ExecutionReopened', 'NodeReset', 'NodeReset']);
    expect(nodeIds(events, 'NodeReset').sort()).toEqual(['A', 'X']);
    const rest = run(workflow, 'T', {}, { sim });
    expect(rest.started.sort()).toEqual(['A', 'X', 'Y']);
    expect(rest.state.status).toBe('COMPLETED');
  });

  it('retryNode under skipFailedBranches resets the skipped branch too and ends COMPLETED', () => {
    const workflow = wf('T>A A>B B>C', {}, { recovery: { skipFailedBranches: true } });
    const first = run(workflow, 'T', { A: { error: 'down' } });
    expect(first.state.status).toBe('PARTIAL');
    const events = first.sim.send({ type: 'RetryNode', data: { nodeId: 'A' } });
    expect(nodeIds(events, 'NodeReset').sort()).toEqual(['A', 'B', 'C']);
    const second = run(workflow, 'T', {}, { sim: first.sim });
    expect(second.started).toEqual(['A', 'B', 'C']);
    expect(second.state.status).toBe('COMPLETED');
    expect(second.state.failedCount).toBe(0);
  });

  it.each([
    { name: 'a COMPLETED node', setup: 'failed', nodeId: 'T', code: 'INVALID_FLOW_STATE' },
    { name: 'a node of a RUNNING execution', setup: 'running', nodeId: 'A', code: 'INVALID_FLOW_STATE' },
    { name: 'an unknown node', setup: 'failed', nodeId: 'nope', code: 'NOT_FOUND' },
  ])('retryNode is rejected for $name', ({ setup, nodeId, code }) => {
    const workflow = wf('T>A');
    const result = setup === 'failed' ? run(workflow, 'T', { A: { error: 'x' } }) : null;
    const sim = result?.sim ?? new Sim(workflow);
    if (!result) {
      sim.startExecution();
      sim.queue();
    }
    expect(domainErrorOf(() => sim.send({ type: 'RetryNode', data: { nodeId } })).code).toBe(code);
  });

  it('skipNode without output SKIPS the node and its default-rule dependents', () => {
    const sim = new Sim(wf('T>A A>B T>C'));
    sim.startExecution();
    sim.queue();
    sim.runNode('T');
    sim.queue();
    expect(sim.send({ type: 'SkipNode', data: { nodeId: 'A' } })).toEqual([{ type: 'NodeSkipped', data: { nodeId: 'A', reason: 'skipped by user', at: iso(T0) } }]);
    expect(nodeIds(sim.queue(), 'NodeSkipped')).toEqual(['B']);
    expect(domainErrorOf(() => sim.startNode('A', 1)).code).toBe('INVALID_FLOW_STATE');
    sim.runNode('C');
    expect(sim.queue()).toEqual([{ type: 'ExecutionCompleted', data: { status: 'COMPLETED', at: iso(T0) } }]);
    expect(sim.statuses()).toEqual({ T: 'COMPLETED', A: 'SKIPPED', B: 'SKIPPED', C: 'COMPLETED' });
  });

  it('skipNode with output completes the node; dependents run with that output', () => {
    const sim = new Sim(wf('T>A A>B'));
    sim.startExecution();
    sim.queue();
    sim.runNode('T');
    sim.queue();
    expect(sim.send({ type: 'SkipNode', data: { nodeId: 'A', output: { stub: true } } })).toEqual([
      { type: 'NodeCompleted', data: { nodeId: 'A', attempt: 1, output: { stub: true }, outputName: null, at: iso(T0) } },
    ]);
    expect(sim.queue()).toEqual([{ type: 'NodeQueued', data: { nodeId: 'B', attempt: 1, input: { A: { stub: true } }, at: iso(T0) } }]);
  });

  it('skipNode of an idle node ahead of time: it never runs, its dependents may run at once, its upstream still runs', () => {
    const sim = new Sim(wf('T>A A>B B>C'));
    sim.startExecution();
    sim.queue();
    expect(types(sim.send({ type: 'SkipNode', data: { nodeId: 'B', output: 'stub' } }))).toEqual(['NodeCompleted']);
    // B counts as completed, so C is ready although A has not run yet
    expect(sim.queue()).toEqual([{ type: 'NodeQueued', data: { nodeId: 'C', attempt: 1, input: { B: 'stub' }, at: iso(T0) } }]);
    const rest = run(sim.workflow, 'T', {}, { sim });
    expect(rest.started).toEqual(['T', 'C', 'A']);
    expect(rest.ofType('NodeQueued').map((e) => e.data.nodeId)).toEqual(['A']);
    expect(rest.inputs.C).toEqual({ B: 'stub' });
    expect(rest.state.status).toBe('COMPLETED');
  });

  it('skipNode with output on the failed node of a FAILED execution reopens it and goes on', () => {
    const workflow = wf('T>A A>B');
    const first = run(workflow, 'T', { A: { error: 'down' } });
    const events = first.sim.send({ type: 'SkipNode', data: { nodeId: 'A', output: 'manual' } });
    expect(types(events)).toEqual(['ExecutionReopened', 'NodeReset', 'NodeCompleted']);
    const second = run(workflow, 'T', {}, { sim: first.sim });
    expect(second.started).toEqual(['B']);
    expect(second.inputs.B).toEqual({ A: 'manual' });
    expect(second.state.status).toBe('COMPLETED');
    expect(second.state.failedCount).toBe(0);
  });

  it.each([
    { name: 'COMPLETED', nodeId: 'T' },
    { name: 'RUNNING', nodeId: 'A' },
  ])('skipNode of a $name node is rejected', ({ nodeId }) => {
    const sim = new Sim(wf('T>A'));
    sim.startExecution();
    sim.queue();
    sim.runNode('T');
    sim.queue();
    sim.startNode('A');
    expect(domainErrorOf(() => sim.send({ type: 'SkipNode', data: { nodeId } })).code).toBe('INVALID_FLOW_STATE');
  });
});

describe('StartExecution', () => {
  it('records the affected part of the workflow, and its tenant (default for a workflow from before tenants)', () => {
    const workflow = wf('T>A A>B', {}, { executionTimeoutMs: 1000 });
    const sim = new Sim(workflow);
    expect(sim.startExecution('T', { x: 1 })).toEqual([
      {
        type: 'ExecutionStarted',
        data: {
          executionId: 'ex-1',
          workflowId: 'wf-1',
          workflowVersion: 1,
          triggerNodeId: 'T',
          triggerType: 'trigger.manual',
          triggerData: { x: 1 },
          nodes: workflow.nodes,
          connections: workflow.connections,
          settings: { executionTimeoutMs: 1000 },
          waitsForSlot: false,
          rerunOf: null,
          userId: null,
          tenantId: 'default',
          at: iso(T0),
        },
      },
    ]);
    expect(sim.st.status).toBe('RUNNING');
    expect(sim.st.tenantId).toBe('default');
  });

  it.each([
    { name: 'a non-trigger node', nodeId: 'A', code: 'BAD_USER_INPUT' },
    { name: 'an unknown node', nodeId: 'ghost', code: 'NOT_FOUND' },
  ])('is rejected for $name', ({ nodeId, code }) => {
    const sim = new Sim(wf('T>A'));
    expect(domainErrorOf(() => sim.startExecution(nodeId)).code).toBe(code);
    expect(sim.state).toBeNull();
  });

  it('is rejected when the execution already exists', () => {
    const sim = new Sim(wf('T>A'));
    sim.startExecution();
    expect(domainErrorOf(() => sim.startExecution()).code).toBe('INVALID_FLOW_STATE');
  });

  it('any other command on a missing execution is NOT_FOUND', () => {
    expect(domainErrorOf(() => decide({ type: 'QueueReadyNodes' }, null, new Date(T0), BUILTIN_TYPES)).code).toBe('NOT_FOUND');
  });

  it('an execution waiting for a slot queues nothing until admitted', () => {
    const sim = new Sim(wf('T>A'));
    sim.startExecution('T', null, true);
    expect(sim.st.status).toBe('QUEUED');
    expect(sim.queue()).toEqual([]);
    expect(sim.send({ type: 'AdmitExecution' })).toEqual([{ type: 'ExecutionAdmitted', data: { at: iso(T0) } }]);
    expect(sim.send({ type: 'AdmitExecution' })).toEqual([]);
    expect(nodeIds(sim.queue(), 'NodeQueued')).toEqual(['T']);
  });

  it('a second trigger of the same workflow only affects its own downstream closure', () => {
    // T1 -> A -> J <- B <- T2; J -> K
    const workflow = wf('T1>A A>J T2>B B>J J>K');
    const viaT2 = run(workflow, 'T2', {}, { triggerData: 'second' });
    expect([...viaT2.state.nodes.keys()].sort()).toEqual(['B', 'J', 'K', 'T2']);
    expect(viaT2.started).toEqual(['T2', 'B', 'J', 'K']);
    expect(viaT2.inputs.B).toEqual({ T2: 'second' });
    expect(viaT2.inputs.J).toEqual({ B: 'out:B' });
    expect(viaT2.state.status).toBe('COMPLETED');
    const started = viaT2.ofType('ExecutionStarted')[0]!.data;
    expect(started.triggerNodeId).toBe('T2');
    expect(started.nodes.map((n) => n.id)).toEqual(['J', 'T2', 'B', 'K']);
    expect(started.connections).toEqual([
      { source: 'T2', target: 'B' },
      { source: 'B', target: 'J' },
      { source: 'J', target: 'K' },
    ]);

    const viaT1 = run(workflow, 'T1', {}, { triggerData: 'first' });
    expect(viaT1.started).toEqual(['T1', 'A', 'J', 'K']);
    expect(viaT1.inputs.J).toEqual({ A: 'out:A' });
    expect(viaT1.state.nodes.has('B')).toBe(false);
  });
});

describe('idempotency', () => {
  it('deciding StartNode twice for the same attempt is rejected the second time', () => {
    const sim = new Sim(wf('T>A'));
    sim.startExecution();
    sim.queue();
    expect(types(sim.startNode('T', 1))).toEqual(['NodeStarted']);
    expect(domainErrorOf(() => sim.startNode('T', 1)).code).toBe('INVALID_FLOW_STATE');
  });

  it('QueueReadyNodes after everything was queued returns no events', () => {
    const sim = new Sim(wf('T>A T>B'));
    sim.startExecution();
    expect(sim.queue()).toHaveLength(1);
    expect(sim.queue()).toEqual([]);
    sim.runNode('T');
    expect(sim.queue()).toHaveLength(2);
    expect(sim.queue()).toEqual([]);
    sim.startNode('A');
    expect(sim.queue()).toEqual([]);
  });

  it('completing a node twice is rejected; ExecutionCompleted is decided once', () => {
    const sim = new Sim(wf('T>A'));
    sim.startExecution();
    sim.queue();
    sim.runNode('T');
    sim.queue();
    sim.runNode('A');
    expect(domainErrorOf(() => sim.complete('A')).code).toBe('INVALID_FLOW_STATE');
    expect(types(sim.queue())).toEqual(['ExecutionCompleted']);
    expect(sim.queue()).toEqual([]);
  });

  it('decide never changes the state it is given', () => {
    const sim = new Sim(wf('T>I I>Y:true I>N:false N>M', { I: { type: 'if' } }));
    sim.startExecution();
    sim.queue();
    sim.runNode('T');
    sim.queue();
    sim.runNode('I', 1, 'true');
    const before = structuredClone(sim.st);
    const events = decide({ type: 'QueueReadyNodes' }, sim.st, new Date(T0), BUILTIN_TYPES);
    expect(events).toHaveLength(3);
    expect(sim.st).toEqual(before);
    decide({ type: 'CancelExecution', data: { reason: 'x' } }, sim.st, new Date(T0), BUILTIN_TYPES);
    expect(sim.st).toEqual(before);
  });
});

describe('FailExecution (the runtime could not handle the execution)', () => {
  const internal = { type: 'FailExecution' as const, data: { code: 'INTERNAL_ERROR', error: 'INTERNAL_ERROR: handling this execution failed' } };

  it('cancels queued and running nodes and fails the execution with the code, without looking at the node that cannot be decided', () => {
    // A failing node whose retry date is no date (an initial delay validation refuses, from an older log): failing it throws in the decider.
    const sim = new Sim(wf('T>A T>B', { A: { retry: { maxAttempts: 5, initialDelayMs: 1e300 } } }));
    sim.startExecution();
    sim.queue();
    sim.runNode('T');
    sim.queue();
    sim.startNode('A');
    expect(() => sim.fail('A')).toThrow(RangeError);
    const events = sim.send(internal);
    expect(types(events)).toEqual(['NodeCancelled', 'NodeCancelled', 'ExecutionFailed']);
    expect(nodeIds(events, 'NodeCancelled').sort()).toEqual(['A', 'B']);
    expect(events.at(-1)).toEqual({ type: 'ExecutionFailed', data: { ...internal.data, at: iso(T0) } });
    expect(sim.st.status).toBe('FAILED');
    expect(sim.st.errorCode).toBe('INTERNAL_ERROR');
    expect(sim.st.error).toBe(internal.data.error);
  });

  it('fails a paused or queued execution too, and changes nothing in a finished one', () => {
    const paused = new Sim(wf('T>A'));
    paused.startExecution();
    paused.send({ type: 'PauseExecution' });
    expect(types(paused.send(internal))).toEqual(['ExecutionFailed']);
    expect(paused.send(internal)).toEqual([]);
    const waiting = new Sim(wf('T>A'));
    waiting.startExecution('T', {}, true);
    expect(types(waiting.send(internal))).toEqual(['ExecutionFailed']);
    const done = run(wf('T>A'), 'T');
    expect(decide(internal, done.state, new Date(T0), BUILTIN_TYPES)).toEqual([]);
  });
});
