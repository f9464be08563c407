import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ExecutionState } from '../../src/domain/execution/state.js';
import { ExecutionFault } from '../../src/runtime/executionFaults.js';
import { MAX_RECOVERIES } from '../../src/runtime/processManager/processManager.js';
import { RuntimeStore } from '../../src/runtime/processManager/runtimeStore.js';
import { BACKENDS } from '../support/backends.js';
import { appendStream, endlessDelay, endlessRetryDelay, startedEvent } from '../support/craftedStreams.js';
import { useHarness } from '../support/engineHarness.js';
import type { ErrorContext } from '../../src/errors/errorReporter.js';

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
  const reports: Array<{ error: unknown; context?: ErrorContext }> = [];
  const h = useHarness(create, { onError: (error, context) => reports.push({ error, context }) });

  it.each([
    ['a delay of 1e300 ms (its timer is no date, in the process manager batch)', endlessDelay],
    ['an initial retry delay of 1e300 ms (the retry date is no date, in the decider on the runner settle path)', endlessRetryDelay],
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
    const logged = reports.filter(({ error }) => error instanceof ExecutionFault && error.executionId === poisonous);
    expect(logged.length).toBeGreaterThan(0);
    expect((logged[0]!.error as Error).stack).toMatch(/RangeError/);
    // The report names the execution, for the log line's child logger.
    expect(logged[0]!.context).toEqual({ executionId: poisonous });

    // The runtime goes on: the batch and its checkpoint moved past the poison.
    const after = await h.engine.startTrigger(workflow.id, 'start', { n: 50 });
    expect((await h.waitFor(after.id)).status).toBe('COMPLETED');
  });
});

describe.each(BACKENDS)('quarantine at start-up on $name', ({ create }) => {
  const h = useHarness(create, { onError: () => {} });
  const waiting = {
    name: 'waits for a worker',
    nodes: [
      { id: 'start', type: 'trigger.manual' },
      { id: 'ext', type: 'external', parameters: { queue: 'quarantine-q' } },
    ],
    connections: [{ source: 'start', target: 'ext' }],
  };

  it('counts recoveries that began and never ended, clears the count of one lived through, and forgets a quarantined execution', async () => {
    const store = new RuntimeStore(h.db, 'quarantine-test');
    expect(await store.beginRecoveries(['x', 'y'])).toEqual(
      new Map([
        ['x', 1],
        ['y', 1],
      ]),
    );
    expect(await store.beginRecoveries(['x', 'y'])).toEqual(
      new Map([
        ['x', 2],
        ['y', 2],
      ]),
    );
    await store.endRecovery('y');
    // An execution no longer unfinished loses its count.
    expect(await store.beginRecoveries(['y'])).toEqual(new Map([['y', 1]]));
    expect(await store.beginRecoveries(['x', 'y'])).toEqual(
      new Map([
        ['x', 1],
        ['y', 2],
      ]),
    );
  });

  it(`fails an execution whose last ${MAX_RECOVERIES} recoveries never ended with INTERNAL_ERROR (quarantined); one under the bound is resumed`, async () => {
    const workflow = await h.engine.workflows.create(waiting);
    const [crashing, unlucky] = await Promise.all([h.engine.startTrigger(workflow.id, 'start', {}), h.engine.startTrigger(workflow.id, 'start', {})]);
    for (const each of [crashing, unlucky]) await h.waitFor(each.id, (state) => state.nodes.get('ext')!.status === 'QUEUED');
    await h.engine.processManager.caughtUp();
    // What start-ups that died while recovering them left behind: three for one, two for the other.
    const store = new RuntimeStore(h.db, 'process-manager');
    await store.beginRecoveries([crashing.id]);
    for (let crash = 1; crash < MAX_RECOVERIES; crash++) await store.beginRecoveries([crashing.id, unlucky.id]);
    const restarted = h.newEngine({ onError: () => {} });
    await restarted.start();
    const quarantined = await h.waitFor(crashing.id, undefined, restarted);
    expectInternalError(quarantined);
    expect(quarantined.error).toMatch(/quarantined after 3 recoveries/);
    expect(quarantined.nodes.get('ext')!.status).toBe('CANCELLED');
    expect((await restarted.executions.load(unlucky.id))!.status).toBe('RUNNING');
    // Its recovery was lived through (stopping waits for the recoveries' ends): its count is gone.
    await restarted.stop();
    expect(await store.beginRecoveries([unlucky.id])).toEqual(new Map([[unlucky.id, 1]]));
  });
});
