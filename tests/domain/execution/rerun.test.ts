import { describe, expect, it } from 'vitest';
import type { ExecutionState } from '../../../src/domain/execution/state.js';
import type { Workflow } from '../../../src/domain/workflow/workflow.js';
import { domainErrorOf, run, Sim, wf } from './harness.js';

/** T -> A -> B -> C, and T -> I with I's `true` edge to Y and `false` edge to N. */
const branchy = wf('T>A A>B B>C T>I I>Y:true I>N:false', { I: { type: 'if' } });

function original(workflow: Workflow = branchy): ExecutionState {
  const { state } = run(workflow, 'T', { I: { output: 'i', outputName: 'true' } });
  expect(state.status).toBe('COMPLETED');
  return state;
}

/** Starts a rerun (as ex-2) and runs it to the end. */
function rerun(workflow: Workflow, from: ExecutionState, nodeId: string, data?: unknown, waitsForSlot = false) {
  const sim = new Sim(workflow);
  sim.send({
    type: 'StartExecution',
    data: { executionId: 'ex-2', workflow, triggerNodeId: 'T', triggerData: from.triggerData, waitsForSlot, rerun: { original: from, nodeId, data } },
  });
  return { start: [...sim.events], ...run(workflow, 'T', {}, { sim }) };
}

describe('rerun from a node', () => {
  it('reuses every node outside the rerun, runs the node with the new data and everything downstream', () => {
    const before = original();
    const result = rerun(branchy, before, 'B', { replaced: true });
    expect(result.start.map((event) => event.type)).toEqual(['ExecutionStarted', ...Array(5).fill('NodeReused')]);
    expect(result.started).toEqual(['B', 'C']);
    expect(result.inputs.B).toEqual({ replaced: true });
    expect(result.state).toMatchObject({ status: 'COMPLETED', rerunOf: 'ex-1', triggerData: before.triggerData });
    expect(result.sim.node('A')).toMatchObject({ status: 'COMPLETED', output: 'out:A', reusedFrom: 'ex-1', startedAt: null });
    expect(result.sim.node('N')).toMatchObject({ status: 'SKIPPED', skipReason: before.nodes.get('N')!.skipReason, reusedFrom: 'ex-1' });
    expect(result.sim.node('C')).toMatchObject({ status: 'COMPLETED', reusedFrom: null });
    expect(result.state.executionPath).toEqual([...before.executionPath.filter((id) => id !== 'B' && id !== 'C'), 'B', 'C']);
  });

  it('gives the node its recorded input without data, and the trigger new data when it starts from the trigger', () => {
    const before = original();
    expect(rerun(branchy, before, 'B').inputs.B).toEqual(before.nodes.get('B')!.input);
    const fromTrigger = rerun(branchy, before, 'T', { fresh: 1 });
    expect(fromTrigger.start).toHaveLength(1);
    expect(fromTrigger.state.triggerData).toEqual({ fresh: 1 });
    expect(fromTrigger.started).toEqual(expect.arrayContaining(['T', 'A', 'B', 'C', 'I']));
  });

  it('runs the node even when its trigger rule would skip it, and waits for a slot first', () => {
    const before = original();
    const sim = new Sim(branchy);
    sim.send({
      type: 'StartExecution',
      data: { executionId: 'ex-2', workflow: branchy, triggerNodeId: 'T', triggerData: null, waitsForSlot: true, rerun: { original: before, nodeId: 'N' } },
    });
    expect(sim.queue()).toEqual([]);
    sim.send({ type: 'AdmitExecution' });
    expect(sim.queue()).toMatchObject([{ type: 'NodeQueued', data: { nodeId: 'N', attempt: 1, input: {} } }]);
  });

  it('keeps failures and skips outside the rerun, and runs what the original never finished', () => {
    const partial = wf('T>A A>B T>F F>G', { F: { type: 'fail' } }, { recovery: { skipFailedBranches: true } });
    const kept = rerun(partial, run(partial, 'T', { F: { error: 'kaput' } }).state, 'A');
    expect(kept.started).toEqual(['A', 'B']);
    expect(kept.state.status).toBe('PARTIAL');
    expect(kept.sim.node('F')).toMatchObject({ status: 'FAILED', error: 'kaput', reusedFrom: 'ex-1' });
    expect(kept.sim.node('G')).toMatchObject({ status: 'SKIPPED', reusedFrom: 'ex-1' });

    const failing = wf('T>A T>B');
    const sim = new Sim(failing);
    sim.startExecution();
    sim.queue();
    sim.runNode('T');
    sim.queue();
    sim.startNode('A');
    sim.startNode('B');
    sim.fail('A', 'nope', false);
    expect(sim.statuses()).toEqual({ T: 'COMPLETED', A: 'FAILED', B: 'CANCELLED' });
    const again = rerun(failing, sim.st, 'A');
    expect(again.started.sort()).toEqual(['A', 'B']);
    expect(again.state.status).toBe('COMPLETED');
  });

  it('refuses an unfinished original, an unknown node and data that is not an object', () => {
    const sim = new Sim(branchy);
    sim.startExecution();
    expect(domainErrorOf(() => rerun(branchy, sim.st, 'B')).code).toBe('INVALID_FLOW_STATE');
    const before = original();
    expect(domainErrorOf(() => rerun(branchy, before, 'ghost')).code).toBe('NOT_FOUND');
    expect(domainErrorOf(() => rerun(branchy, before, 'B', [1, 2])).code).toBe('BAD_USER_INPUT');
  });
});
