import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ExecutionState } from '../../src/domain/execution/state.js';
import { ExecutionFault } from '../../src/runtime/executionFaults.js';
import { BACKENDS } from '../support/backends.js';
import { appendStream, endlessDelay, explodingBackoff, startedEvent } from '../support/craftedStreams.js';
import { useHarness } from '../support/engineHarness.js';

const healthy = {
  name: 'healthy',
  nodes: [
    { id: 'start', type: 'trigger.manual' },
    { id: 'wait', type: 'delay', parameters: { ms: 20 } },
    { id: 'shape', type: 'transform', parameters: { mapping: "{ 'n': trigger.n }" } },
    { id: 'join', type: 'merge' },
  ],
  connections: [
    { source: 'start', target: 'wait' },
    { source: 'start', target: 'shape' },
    { source: 'wait', target: 'join' },
    { source: 'shape', target: 'join' },
  ],
};

const expectInternalError = (state: ExecutionState) => {
  expect(state.status).toBe('FAILED');
  expect(state.errorCode).toBe('INTERNAL_ERROR');
  expect(state.error).toMatch(/^INTERNAL_ERROR: /);
  // No internals: neither the exception nor its stack reach the client.
  expect(state.error).not.toMatch(/RangeError|Invalid|at \w+ \(/);
  for (const node of state.nodes.values()) expect(['IDLE', 'COMPLETED', 'CANCELLED', 'FAILED']).toContain(node.status);
};

describe.each(BACKENDS.filter((backend) => backend.name === 'postgres'))('runtime bulkheads on $name', ({ create }) => {
  const errors: unknown[] = [];
  const h = useHarness(create, { onError: (error) => errors.push(error) });

  it.each([
    ['a delay of 1e300 ms (its timer is no date, in the process manager batch)', endlessDelay],
    ['a retry backoff of 1e308 (the retry delay is no date, in the decider on the runner settle path)', explodingBackoff],
  ])('an execution with %s fails alone with INTERNAL_ERROR while 50 others complete', async (_, poison) => {
    const workflow = await h.engine.workflows.create(healthy);
    const poisonous = randomUUID();
    const [others] = await Promise.all([
      Promise.all(Array.from({ length: 50 }, (__, n) => h.engine.startTrigger(workflow.id, 'start', { n }))),
      appendStream(h.store, poisonous, [startedEvent(poisonous, [poison])]),
    ]);
    const done = await Promise.all(others.map((each) => h.waitFor(each.id)));
    for (const [n, state] of done.entries()) {
      expect(state.status).toBe('COMPLETED');
      expect(state.nodes.get('join')!.output).toEqual({ wait: { start: { n } }, shape: { n } });
    }
    expectInternalError(await h.waitFor(poisonous));
    const logged = errors.filter((error): error is ExecutionFault => error instanceof ExecutionFault && error.executionId === poisonous);
    expect(logged.length).toBeGreaterThan(0);
    expect(logged[0]!.stack).toMatch(/RangeError/);

    // The runtime goes on: the batch and its checkpoint moved past the poison.
    const after = await h.engine.startTrigger(workflow.id, 'start', { n: 50 });
    expect((await h.waitFor(after.id)).status).toBe('COMPLETED');
  });
});
