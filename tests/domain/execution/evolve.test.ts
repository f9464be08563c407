import { describe, expect, it } from 'vitest';
import type { ExecutionEvent } from '../../../src/domain/execution/events.js';
import { evolve, foldExecution } from '../../../src/domain/execution/evolve.js';
import type { ExecutionState } from '../../../src/domain/execution/state.js';
import type { NodeDefinition, Workflow } from '../../../src/domain/workflow/workflow.js';
import { countersOf, iso, recomputedCounters, run, Sim, T0, wf } from './harness.js';

/** A run that touches most events: retries, an if, a skipped branch, a failure, a manual retry. */
function recordedRun() {
  const workflow = wf(
    'T>I I>Y:true I>N:false N>N2 Y>R R>J T>F F>J F>Cleanup',
    {
      I: { type: 'if' },
      R: { retry: { maxAttempts: 3, initialDelayMs: 10 } },
      Cleanup: { triggerRule: 'ALL_DONE' },
    },
    { recovery: { skipFailedBranches: true } },
  );
  const snapshots: ExecutionState[] = [];
  const onEvent = (_: ExecutionEvent, state: ExecutionState) => snapshots.push(structuredClone(state));
  const first = run(workflow, 'T', { I: { output: 'yes', outputName: 'true' }, R: [{ error: 'flaky' }, { output: 'r' }], F: { error: 'f' } }, { onEvent });
  expect(first.state.status).toBe('PARTIAL');
  first.sim.onEvent = onEvent;
  first.sim.send({ type: 'RetryNode', data: { nodeId: 'F' } });
  first.sim.onEvent = null;
  const second = run(workflow, 'T', {}, { sim: first.sim, onEvent });
  expect(second.state.status).toBe('COMPLETED');
  return { sim: first.sim, snapshots };
}

describe('foldExecution', () => {
  it('folding the recorded events gives the state reached step by step, at every step', () => {
    const { sim, snapshots } = recordedRun();
    const events = sim.events;
    expect(snapshots).toHaveLength(events.length);
    expect(new Set(events.map((e) => e.type))).toEqual(
      new Set([
        'ExecutionStarted',
        'NodeQueued',
        'NodeStarted',
        'NodeCompleted',
        'NodeRetryScheduled',
        'NodeFailed',
        'NodeSkipped',
        'ExecutionCompleted',
        'ExecutionReopened',
        'NodeReset',
      ]),
    );
    for (let i = 0; i < events.length; i++) {
      expect(foldExecution(events.slice(0, i + 1)), `after event ${i} (${events[i]!.type})`).toEqual(snapshots[i]);
    }
    const final = foldExecution(events)!;
    expect(final).toEqual(sim.st);
    expect(final.version).toBe(events.length);
    expect(final.executionPath).toEqual(sim.st.executionPath);
    expect(final.status).toBe('COMPLETED');
  });

  it('a fresh fold does not share the state of an earlier one', () => {
    const result = run(wf('T>A'), 'T');
    const a = foldExecution(result.events)!;
    const b = foldExecution(result.events)!;
    a.nodes.get('A')!.status = 'FAILED';
    expect(b.nodes.get('A')!.status).toBe('COMPLETED');
  });

  it('is null for no events and refuses events before ExecutionStarted', () => {
    expect(foldExecution([])).toBeNull();
    expect(() => evolve(null, { type: 'ExecutionPaused', data: { at: iso(T0) } })).toThrow(/before ExecutionStarted/);
  });

  it('folds node bookkeeping: attempts, failures, error, output, timestamps', () => {
    const workflow = wf('T>A', { A: { retry: { maxAttempts: 2, initialDelayMs: 1000 } } });
    const result = run(workflow, 'T', { A: [{ error: 'first' }, { output: { ok: 1 } }] });
    expect(result.sim.node('A')).toMatchObject({
      status: 'COMPLETED',
      attempt: 2,
      failures: 1,
      progress: 100,
      output: { ok: 1 },
      error: null,
      retryAt: null,
      workerId: null,
      queuedAt: iso(T0),
      startedAt: iso(T0 + 1000),
      finishedAt: iso(T0 + 1000),
      input: { T: { hello: 'world' } },
    });
  });
});

describe('fold counters', () => {
  const scenarios: { name: string; status?: string; failed?: number; go: (onEvent: (e: ExecutionEvent, s: ExecutionState) => void) => ExecutionState }[] = [
    {
      name: 'diamond with a skipped branch',
      go: (onEvent) => run(wf('T>I I>A:true I>B:false A>J B>J B>K', { I: { type: 'if' } }), 'T', { I: { outputName: 'true' } }, { onEvent }).state,
    },
    {
      name: 'default failure with cancellations, then RetryNode',
      go: (onEvent) => {
        const workflow = wf('T>A T>B T>C A>D B>D');
        const sim = new Sim(workflow);
        sim.onEvent = onEvent;
        sim.startExecution();
        sim.queue();
        sim.runNode('T');
        sim.queue();
        sim.startNode('A');
        sim.startNode('B');
        sim.fail('A');
        sim.send({ type: 'RetryNode', data: { nodeId: 'A' } });
        return run(workflow, 'T', {}, { sim, onEvent }).state;
      },
    },
    {
      name: 'skipFailedBranches PARTIAL, then RetryNode that fails again, then SkipNode reopen',
      status: 'PARTIAL',
      failed: 1,
      go: (onEvent) => {
        const workflow = wf('T>A A>B B>C T>D D>E', {}, { recovery: { skipFailedBranches: true } });
        const sim = run(workflow, 'T', { A: { error: 'x' }, D: { error: 'y' } }, { onEvent }).sim;
        sim.onEvent = onEvent;
        sim.send({ type: 'RetryNode', data: { nodeId: 'A' } });
        run(workflow, 'T', { A: { error: 'again' } }, { sim, onEvent });
        sim.onEvent = onEvent;
        sim.send({ type: 'SkipNode', data: { nodeId: 'D', output: 'manual' } });
        return run(workflow, 'T', {}, { sim, onEvent }).state;
      },
    },
    {
      name: 'cancel, then RetryNode of a cancelled node',
      go: (onEvent) => {
        const workflow = wf('T>A A>B T>C');
        const sim = new Sim(workflow);
        sim.onEvent = onEvent;
        sim.startExecution();
        sim.queue();
        sim.runNode('T');
        sim.queue();
        sim.startNode('A');
        sim.send({ type: 'CancelExecution', data: { reason: 'stop' } });
        sim.send({ type: 'RetryNode', data: { nodeId: 'C' } });
        return run(workflow, 'T', {}, { sim, onEvent }).state;
      },
    },
  ];

  it.each(scenarios)('settledCount, failedCount and unsettledDependencies match the node statuses after every event: $name', ({ go, status = 'COMPLETED', failed = 0 }) => {
    let checked = 0;
    const final = go((event, state) => {
      expect(countersOf(state), `after ${event.type}`).toEqual(recomputedCounters(state));
      checked += 1;
    });
    expect(checked).toBeGreaterThan(10);
    expect(final.status).toBe(status);
    expect(final.settledCount).toBe(final.nodes.size);
    expect(final.failedCount).toBe(failed);
    expect([...final.unsettledDependencies.values()].every((n) => n === 0)).toBe(true);
  });

  it('reset puts counters back by hand-checked values', () => {
    const workflow = wf('T>A A>B B>C T>D', {}, { recovery: { skipFailedBranches: true } });
    const first = run(workflow, 'T', { A: { error: 'x' } });
    const state = first.state;
    expect(state.status).toBe('PARTIAL');
    expect(state.settledCount).toBe(5);
    expect(state.failedCount).toBe(1);
    expect(Object.fromEntries(state.unsettledDependencies)).toEqual({ T: 0, A: 0, B: 0, C: 0, D: 0 });
    first.sim.send({ type: 'RetryNode', data: { nodeId: 'A' } });
    expect(first.sim.statuses()).toEqual({ T: 'COMPLETED', A: 'IDLE', B: 'IDLE', C: 'IDLE', D: 'COMPLETED' });
    expect(state.settledCount).toBe(2);
    expect(state.failedCount).toBe(0);
    expect(Object.fromEntries(state.unsettledDependencies)).toEqual({ T: 0, A: 0, B: 1, C: 1, D: 0 });
    expect(state.executionPath).toEqual(['T', 'D']);
    expect([...state.candidates].sort()).toEqual(['A', 'B', 'C']);
  });
});

describe('large graphs through the harness', () => {
  it('a 10,000-node chain runs to completion without stack overflow', () => {
    const size = 10_000;
    const nodes: NodeDefinition[] = Array.from({ length: size }, (_, i) => ({ id: `n${i}`, type: i === 0 ? 'trigger.manual' : 'noop' }));
    const connections = nodes.slice(1).map((_, i) => ({ source: `n${i}`, target: `n${i + 1}` }));
    const workflow: Workflow = { id: 'chain', version: 1, name: 'chain', nodes, connections };
    const result = run(workflow, 'n0');
    expect(result.state.status).toBe('COMPLETED');
    expect(result.started).toHaveLength(size);
    expect(result.started[size - 1]).toBe(`n${size - 1}`);
    expect(result.state.executionPath).toHaveLength(size);
    expect(result.inputs[`n${size - 1}`]).toEqual({ [`n${size - 2}`]: `out:n${size - 2}` });
    expect(result.state.settledCount).toBe(size);
    const folded = foldExecution(result.events)!;
    expect(folded.status).toBe('COMPLETED');
    expect(folded.version).toBe(result.events.length);
    expect(folded.settledCount).toBe(size);
  });

  it('a 10,000-node chain behind an untaken if branch is skipped in one decision', () => {
    const size = 10_000;
    const nodes: NodeDefinition[] = [{ id: 'T', type: 'trigger.manual' }, { id: 'I', type: 'if' }, ...Array.from({ length: size }, (_, i) => ({ id: `n${i}`, type: 'noop' }))];
    const connections = [
      { source: 'T', target: 'I' },
      { source: 'I', target: 'n0', sourceOutput: 'false' },
      ...Array.from({ length: size - 1 }, (_, i) => ({ source: `n${i}`, target: `n${i + 1}` })),
    ];
    const result = run({ id: 'skip', version: 1, name: 'skip', nodes, connections }, 'T', { I: { outputName: 'true' } });
    expect(result.started).toEqual(['T', 'I']);
    expect(result.ofType('NodeSkipped')).toHaveLength(size);
    expect(result.state.status).toBe('COMPLETED');
    expect(result.state.settledCount).toBe(size + 2);
  });

  it('a 1,000-wide fan-out/fan-in runs the join once with every output', () => {
    const width = 1_000;
    const middle = Array.from({ length: width }, (_, i) => `m${i}`);
    const workflow: Workflow = {
      id: 'fan',
      version: 1,
      name: 'fan',
      nodes: [{ id: 'T', type: 'trigger.manual' }, ...middle.map((id) => ({ id, type: 'noop' })), { id: 'J', type: 'merge' }],
      connections: [...middle.map((id) => ({ source: 'T', target: id })), ...middle.map((id) => ({ source: id, target: 'J' }))],
    };
    const result = run(workflow, 'T', Object.fromEntries(middle.map((id, i) => [id, { output: i }])));
    expect(result.state.status).toBe('COMPLETED');
    expect(result.started.filter((id) => id === 'J')).toEqual(['J']);
    expect(result.started.at(-1)).toBe('J');
    expect(result.started).toHaveLength(width + 2);
    expect(result.inputs.J).toEqual(Object.fromEntries(middle.map((id, i) => [id, i])));
    expect(result.state.unsettledDependencies.get('J')).toBe(0);
    expect(foldExecution(result.events)!.settledCount).toBe(width + 2);
  });
});
