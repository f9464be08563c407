import { describe, expect, it } from 'vitest';
import type { ExecutionEvent } from '../../src/domain/execution/events.js';
import type { ExecutionFacts } from '../../src/runtime/processManager/executionFacts.js';
import { TableChanges } from '../../src/runtime/processManager/tableChanges.js';
import { planWaits } from '../../src/runtime/waits/waitPlan.js';
import type { Wait } from '../../src/runtime/waits/wait.js';
import { BUILTIN_TYPES } from '../support/nodeTypes.js';

const facts: ExecutionFacts = { executionId: 'e1', nodes: new Map(), nodeTypes: BUILTIN_TYPES, current: null, tenantId: 'default' };
const at = '2024-01-01T00:00:00.000Z';
const started = (nodeId: string, wait?: { event: string | null; match: string | null; timeoutAt: string | null }): ExecutionEvent => ({
  type: 'NodeStarted',
  data: { nodeId, attempt: 1, workerId: 'r', leaseExpiresAt: null, ...(wait ? { wait } : {}), at },
});
const plan = (events: ExecutionEvent[]) => {
  const changes = new TableChanges<Wait>();
  for (const event of events) planWaits(changes, event, facts);
  return changes;
};

describe('the waits an event sets or clears', () => {
  it('a started wait is a row; other started nodes are none', () => {
    const changes = plan([started('W', { event: 'paid', match: 'event.ok', timeoutAt: null }), started('X')]);
    expect(changes.rows).toEqual([{ id: 'e1:W', executionId: 'e1', nodeId: 'W', attempt: 1, tenantId: 'default', eventName: 'paid', match: 'event.ok' }]);
  });

  it.each<ExecutionEvent>([
    { type: 'NodeCompleted', data: { nodeId: 'W', attempt: 1, output: null, outputName: null, at } },
    { type: 'NodeFailed', data: { nodeId: 'W', attempt: 1, error: 'x', at } },
    { type: 'NodeCancelled', data: { nodeId: 'W', attempt: 1, reason: 'x', at } },
  ])('$type removes the row', (event) => {
    const changes = plan([started('W', { event: 'paid', match: null, timeoutAt: null }), event]);
    expect(changes.rows).toEqual([]);
    expect(changes.clearedNodes).toEqual([{ executionId: 'e1', nodeId: 'W' }]);
  });

  it('the end of the execution (a cancel) removes all its rows', () => {
    const changes = plan([started('W', { event: 'paid', match: null, timeoutAt: null }), { type: 'ExecutionCancelled', data: { reason: 'x', at } }]);
    expect(changes.rows).toEqual([]);
    expect(changes.clearedExecutions).toEqual(['e1']);
  });
});
