import { describe, expect, it } from 'vitest';
import { nodeCausation } from '../../../src/domain/execution/causation.js';
import type { ExecutionEvent } from '../../../src/domain/execution/events.js';
import { domainErrorOf, run, Sim, wf } from './harness.js';

/** The 1-based number of the first event matching. */
const numberOf = (events: ExecutionEvent[], type: ExecutionEvent['type'], nodeId: string) =>
  events.findIndex((event) => event.type === type && 'nodeId' in event.data && event.data.nodeId === nodeId) + 1;

describe('nodeCausation', () => {
  it('explains a join: each input with the event that settled it, its edges, the rule, its NodeQueued', () => {
    const { events } = run(wf('T>A T>B T>C A>J B>J C>J'), 'T');
    const join = nodeCausation(events, 'J');
    expect(join).toMatchObject({
      status: 'COMPLETED',
      decision: 'QUEUED',
      triggerRule: 'NONE_FAILED_MIN_ONE_SUCCESS',
      ruleHeld: true,
      queuedAtEvent: numberOf(events, 'NodeQueued', 'J'),
      decidedAtEvent: numberOf(events, 'NodeQueued', 'J'),
      skippedByNodes: [],
      skippedByEdges: [],
    });
    expect(join.dependencies).toEqual(['A', 'B', 'C'].map((id) => ({ nodeId: id, status: 'COMPLETED', settledAtEvent: numberOf(events, 'NodeCompleted', id) })));
    expect(join.incomingEdges).toEqual(['A', 'B', 'C'].map((source) => ({ source, sourceOutput: null, active: true })));
    expect(Math.max(...join.dependencies.map((each) => each.settledAtEvent!))).toBeLessThan(join.queuedAtEvent!);
  });

  it('names the inactive `if` edge behind a skip, and the skipped upstream behind the skip after it', () => {
    const { events } = run(wf('T>I I>Y:true I>N:false N>M', { I: { type: 'if' } }), 'T', { I: { output: 'i', outputName: 'true' } });
    const skipped = nodeCausation(events, 'N');
    expect(skipped).toMatchObject({
      status: 'SKIPPED',
      decision: 'SKIPPED',
      ruleHeld: false,
      queuedAtEvent: null,
      decidedAtEvent: numberOf(events, 'NodeSkipped', 'N'),
      skippedByNodes: [],
      skippedByEdges: [{ source: 'I', sourceOutput: 'false', active: false }],
      dependencies: [{ nodeId: 'I', status: 'COMPLETED', settledAtEvent: numberOf(events, 'NodeCompleted', 'I') }],
    });
    expect(skipped.skipReason).toMatch(/does not hold/);
    expect(nodeCausation(events, 'M')).toMatchObject({ decision: 'SKIPPED', skippedByNodes: ['N'], skippedByEdges: [] });
  });

  it('names a failed upstream under skipFailedBranches', () => {
    const { events } = run(wf('T>F F>X', {}, { recovery: { skipFailedBranches: true } }), 'T', { F: { error: 'kaput', retryable: false } });
    expect(nodeCausation(events, 'X')).toMatchObject({ status: 'SKIPPED', skippedByNodes: ['F'], dependencies: [{ nodeId: 'F', status: 'FAILED' }] });
  });

  it('shows what an undecided node waits for, as of the last event', () => {
    const sim = new Sim(wf('T>A T>B A>J B>J'));
    sim.startExecution();
    sim.queue();
    sim.runNode('T');
    sim.queue();
    sim.runNode('A');
    const waiting = nodeCausation(sim.events, 'J');
    expect(waiting).toMatchObject({ status: 'IDLE', decision: 'WAITING', decidedAtEvent: null, ruleHeld: null });
    expect(waiting.dependencies.map((each) => [each.nodeId, each.status, each.settledAtEvent !== null])).toEqual([
      ['A', 'COMPLETED', true],
      ['B', 'QUEUED', false],
    ]);
  });

  it('tells reused nodes and the node a rerun started from', () => {
    const workflow = wf('T>A A>B');
    const original = run(workflow, 'T').state;
    const sim = new Sim(workflow);
    sim.send({ type: 'StartExecution', data: { executionId: 'ex-2', workflow, triggerNodeId: 'T', triggerData: null, waitsForSlot: false, rerun: { original, nodeId: 'B' } } });
    run(workflow, 'T', {}, { sim });
    const { events } = sim;
    expect(nodeCausation(events, 'A')).toMatchObject({ decision: 'REUSED', reusedFrom: 'ex-1', ruleHeld: null });
    expect(nodeCausation(events, 'B')).toMatchObject({ decision: 'RERUN', reusedFrom: null, status: 'COMPLETED' });
  });

  it('refuses a node the execution does not have', () => {
    expect(domainErrorOf(() => nodeCausation(run(wf('T>A'), 'T').events, 'ghost')).code).toBe('NOT_FOUND');
  });
});
