import { describe, expect, it } from 'vitest';
import { decide } from '../../../src/domain/execution/decide.js';
import type { ExecutionParent } from '../../../src/domain/execution/events.js';
import { foldExecution } from '../../../src/domain/execution/evolve.js';
import { leafOutputs } from '../../../src/domain/execution/leafOutputs.js';
import { BUILTIN_TYPES } from '../../support/nodeTypes.js';
import { T0, wf } from './harness.js';

const start = (parent?: ExecutionParent) =>
  decide(
    { type: 'StartExecution', data: { executionId: 'child-1', workflow: wf('T>A'), triggerNodeId: 'T', triggerData: { item: 1, index: 0 }, waitsForSlot: false, parent } },
    null,
    new Date(T0),
    BUILTIN_TYPES,
  );

describe('a child execution', () => {
  it('records the node attempt that started it, and its state keeps it', () => {
    const parent = { executionId: 'parent-1', nodeId: 'each', attempt: 2, depth: 3 };
    const events = start(parent);
    expect(events[0]).toMatchObject({ type: 'ExecutionStarted', data: { parent } });
    expect(foldExecution(events)!.parent).toEqual(parent);
  });

  it('a top-level execution has no parent, and its start event no field for one', () => {
    const events = start();
    expect('parent' in events[0]!.data).toBe(false);
    expect(foldExecution(events)!.parent).toBeNull();
  });

  it("takes as its result its completed leaf nodes' outputs by id", () => {
    const state = foldExecution(start())!;
    expect(leafOutputs(state)).toEqual({});
    state.nodes.get('A')!.status = 'COMPLETED';
    state.nodes.get('A')!.output = { done: true };
    state.nodes.get('T')!.status = 'COMPLETED';
    expect(leafOutputs(state)).toEqual({ A: { done: true } });
  });
});
