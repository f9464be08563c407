import { describe, expect, it } from 'vitest';
import { waitStarted } from '../../../src/domain/execution/waiting.js';
import { domainErrorOf, iso, Sim, T0, wf } from './harness.js';

/** T -> W (a wait or an approval) -> Y on `approved` / N on `rejected` (or A on any output). */
const waiting = (type: 'wait' | 'approval') => {
  const sim = new Sim(type === 'wait' ? wf('T>W W>A', { W: { type: 'wait' } }) : wf('T>W W>Y:approved W>N:rejected', { W: { type: 'approval' } }));
  sim.startExecution('T', { id: 1 });
  sim.queue();
  sim.runNode('T', { id: 1 });
  sim.queue();
  sim.send({ type: 'StartNode', data: { nodeId: 'W', attempt: 1, workerId: 'r', leaseMs: null, wait: { event: 'paid', match: 'event.id = trigger.id', timeoutMs: 5_000 } } });
  return sim;
};
const signal = (sim: Sim, outputName: string | null = null, attempt?: number) =>
  sim.send({ type: 'SignalNode', data: { nodeId: 'W', output: { ok: true }, outputName, ...(attempt === undefined ? {} : { attempt }) } });

describe('waiting nodes in the decider', () => {
  it('records what a started wait waits for, its timeout as a time', () => {
    const sim = waiting('wait');
    expect(sim.events.at(-1)).toEqual({
      type: 'NodeStarted',
      data: { nodeId: 'W', attempt: 1, workerId: 'r', leaseExpiresAt: null, wait: { event: 'paid', match: 'event.id = trigger.id', timeoutAt: iso(T0 + 5_000) }, at: iso(T0) },
    });
    expect(waitStarted({ event: null, match: null, timeoutMs: null }, new Date(T0))).toEqual({ event: null, match: null, timeoutAt: null });
  });

  it('a signal completes the wait with its data; the dependents run with it', () => {
    const sim = waiting('wait');
    expect(signal(sim)).toEqual([{ type: 'NodeCompleted', data: { nodeId: 'W', attempt: 1, output: { ok: true }, outputName: null, at: iso(T0) } }]);
    sim.queue();
    expect(sim.node('A').input).toEqual({ W: { ok: true } });
  });

  it('an approval takes the named branch (approved when none is named) and the other one is skipped', () => {
    const rejected = waiting('approval');
    expect(signal(rejected, 'rejected')[0]).toMatchObject({ type: 'NodeCompleted', data: { outputName: 'rejected' } });
    rejected.queue();
    expect(rejected.statuses()).toMatchObject({ Y: 'SKIPPED', N: 'QUEUED' });
    const approved = waiting('approval');
    expect(signal(approved)[0]).toMatchObject({ data: { outputName: 'approved' } });
    expect(domainErrorOf(() => signal(waiting('approval'), 'maybe')).code).toBe('BAD_USER_INPUT');
    expect(domainErrorOf(() => signal(waiting('wait'), 'approved')).code).toBe('BAD_USER_INPUT');
  });

  it('refuses a signal for an unknown node, a node that is no wait, one that does not wait (yet or any more) and an attempt that is over', () => {
    const sim = waiting('wait');
    expect(domainErrorOf(() => sim.send({ type: 'SignalNode', data: { nodeId: 'nope', output: null, outputName: null } })).code).toBe('NOT_FOUND');
    expect(domainErrorOf(() => sim.send({ type: 'SignalNode', data: { nodeId: 'T', output: null, outputName: null } })).code).toBe('INVALID_FLOW_STATE');
    expect(domainErrorOf(() => signal(sim, null, 2)).code).toBe('INVALID_FLOW_STATE');
    signal(sim);
    expect(domainErrorOf(() => signal(sim)).code).toBe('INVALID_FLOW_STATE');

    const queued = new Sim(wf('T>W', { W: { type: 'wait' } }));
    queued.startExecution();
    queued.queue();
    queued.runNode('T');
    queued.queue();
    expect(domainErrorOf(() => signal(queued)).details).toMatchObject({ status: 'QUEUED' });
  });

  it('a paused execution keeps the signal; a cancelled one refuses it', () => {
    const paused = waiting('wait');
    paused.send({ type: 'PauseExecution' });
    expect(signal(paused)[0]!.type).toBe('NodeCompleted');
    const cancelled = waiting('wait');
    cancelled.send({ type: 'CancelExecution', data: { reason: 'no' } });
    expect(cancelled.node('W').status).toBe('CANCELLED');
    expect(domainErrorOf(() => signal(cancelled)).code).toBe('INVALID_FLOW_STATE');
  });
});
