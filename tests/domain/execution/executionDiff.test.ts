import { describe, expect, it } from 'vitest';
import { diffExecution } from '../../../src/domain/execution/executionDiff.js';
import { run, wf } from './harness.js';

describe('diffExecution', () => {
  const { events } = run(wf('T>A A>B', { A: { retry: { maxAttempts: 2, initialDelayMs: 5 } } }), 'T', { A: [{ error: 'flaky' }, { output: 'a' }] });
  const numberOf = (type: string, nodeId: string) => events.findIndex((event) => event.type === type && 'nodeId' in event.data && event.data.nodeId === nodeId) + 1;

  it('lists every node that changed between two events, with its attempts', () => {
    const retried = numberOf('NodeRetryScheduled', 'A');
    expect(diffExecution(events, retried - 1, retried)).toEqual({
      fromStatus: 'RUNNING',
      toStatus: 'RUNNING',
      nodes: [{ nodeId: 'A', from: 'RUNNING', to: 'QUEUED', fromAttempt: 1, toAttempt: 2 }],
    });
    expect(diffExecution(events, 0, events.length)).toEqual({
      fromStatus: null,
      toStatus: 'COMPLETED',
      nodes: [
        { nodeId: 'T', from: 'IDLE', to: 'COMPLETED', fromAttempt: 0, toAttempt: 1 },
        { nodeId: 'A', from: 'IDLE', to: 'COMPLETED', fromAttempt: 0, toAttempt: 2 },
        { nodeId: 'B', from: 'IDLE', to: 'COMPLETED', fromAttempt: 0, toAttempt: 1 },
      ],
    });
  });

  it('is empty between an event and itself', () => {
    expect(diffExecution(events, 3, 3)).toMatchObject({ nodes: [] });
  });
});
