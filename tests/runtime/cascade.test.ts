import { describe, expect, it } from 'vitest';
import { DomainError } from '../../src/domain/errors.js';
import { BACKENDS } from '../support/backends.js';
import { statuses, useHarness } from '../support/engineHarness.js';
import { flow } from '../support/flows.js';

describe.each(BACKENDS)('cascade on $name', ({ create }) => {
  const h = useHarness(create);

  it('runs a linear flow node after node, each with its upstream output as input', async () => {
    const state = await h.run(
      flow(
        [
          { id: 'double', type: 'transform', parameters: { mapping: 'input.start.n * 2' } },
          { id: 'inc', type: 'transform', parameters: { mapping: 'input.double + 1' } },
          { id: 'end', type: 'noop' },
        ],
        [
          ['start', 'double'],
          ['double', 'inc'],
          ['inc', 'end'],
        ],
      ),
      'start',
      { n: 5 },
    );
    expect(state.status).toBe('COMPLETED');
    expect(state.executionPath).toEqual(['start', 'double', 'inc', 'end']);
    expect(state.nodes.get('end')!.output).toEqual({ inc: 11 });
  });

  it('fans out in parallel and joins once, after all inputs, with all their outputs', async () => {
    const branches = ['a', 'b', 'c'].map((id) => ({ id, type: 'delay', parameters: { ms: 100 } }));
    const state = await h.run(
      flow(
        [...branches, { id: 'join', type: 'merge' }],
        [
          ['start', 'a'],
          ['start', 'b'],
          ['start', 'c'],
          ['a', 'join'],
          ['b', 'join'],
          ['c', 'join'],
        ],
      ),
      'start',
      { x: 1 },
    );
    expect(state.status).toBe('COMPLETED');
    expect(state.nodes.get('join')!.output).toEqual({ a: { start: { x: 1 } }, b: { start: { x: 1 } }, c: { start: { x: 1 } } });
    const events = await h.events(state.id);
    const kinds = events.map((event) => `${event.type}:${(event.data as { nodeId?: string }).nodeId ?? ''}`);
    expect(kinds.filter((kind) => kind === 'NodeStarted:join')).toHaveLength(1);
    const lastBranchStart = Math.max(...['a', 'b', 'c'].map((id) => kinds.indexOf(`NodeStarted:${id}`)));
    const firstBranchEnd = Math.min(...['a', 'b', 'c'].map((id) => kinds.indexOf(`NodeCompleted:${id}`)));
    expect(lastBranchStart).toBeLessThan(firstBranchEnd);
    expect(kinds.indexOf('NodeQueued:join')).toBeGreaterThan(Math.max(...['a', 'b', 'c'].map((id) => kinds.indexOf(`NodeCompleted:${id}`))));
  });

  it('takes one branch of an if and skips the other, propagating the skip down its chain', async () => {
    const definition = flow(
      [
        { id: 'check', type: 'if', parameters: { condition: 'trigger.amount > 100' } },
        { id: 'big', type: 'noop' },
        { id: 'big2', type: 'noop' },
        { id: 'small', type: 'noop' },
        { id: 'small2', type: 'noop' },
      ],
      [
        ['start', 'check'],
        ['check', 'big', 'true'],
        ['big', 'big2'],
        ['check', 'small', 'false'],
        ['small', 'small2'],
      ],
    );
    const low = await h.run(definition, 'start', { amount: 50 });
    expect(statuses(low)).toMatchObject({ check: 'COMPLETED', big: 'SKIPPED', big2: 'SKIPPED', small: 'COMPLETED', small2: 'COMPLETED' });
    expect(low.nodes.get('big2')!.skipReason).toMatch(/NONE_FAILED_MIN_ONE_SUCCESS/);
    expect(low.status).toBe('COMPLETED');
    const high = await h.run(definition, 'start', { amount: 500 });
    expect(statuses(high)).toMatchObject({ big: 'COMPLETED', big2: 'COMPLETED', small: 'SKIPPED', small2: 'SKIPPED' });
  });

  it('rejects circular dependencies with every cycle path, storing nothing', async () => {
    const definition = flow(
      [
        { id: 'a', type: 'noop' },
        { id: 'b', type: 'noop' },
        { id: 'c', type: 'noop' },
        { id: 'd', type: 'noop' },
        { id: 'e', type: 'noop' },
      ],
      [
        ['start', 'a'],
        ['a', 'b'],
        ['b', 'a'],
        ['start', 'c'],
        ['c', 'd'],
        ['d', 'c'],
        ['start', 'e'],
        ['e', 'e'],
      ],
    );
    const error = await h.engine.workflows.create(definition).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('CIRCULAR_DEPENDENCY');
    const paths = ((error as DomainError).details.circularDependencies as Array<{ path: string[] }>).map((cycle) => cycle.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        ['a', 'b', 'a'],
        ['c', 'd', 'c'],
        ['e', 'e'],
      ]),
    );
  });

  it('fails the execution on a node failure by default, cancelling what is queued or running', async () => {
    const state = await h.run(
      flow(
        [
          { id: 'boom', type: 'fail', parameters: { message: 'kaput' } },
          { id: 'slow', type: 'delay', parameters: { ms: 5_000 } },
          { id: 'after', type: 'noop' },
        ],
        [
          ['start', 'boom'],
          ['start', 'slow'],
          ['boom', 'after'],
        ],
      ),
    );
    expect(state.status).toBe('FAILED');
    expect(statuses(state)).toMatchObject({ boom: 'FAILED', slow: 'CANCELLED', after: 'IDLE' });
    expect(state.nodes.get('boom')!.error).toBe('kaput');
  });

  it('with skipFailedBranches skips dependents of a failed node but still runs clean-up steps', async () => {
    const state = await h.run(
      flow(
        [
          { id: 'boom', type: 'fail' },
          { id: 'after', type: 'noop' },
          { id: 'cleanup', type: 'noop', triggerRule: 'ALL_DONE' },
          { id: 'other', type: 'noop' },
        ],
        [
          ['start', 'boom'],
          ['boom', 'after'],
          ['boom', 'cleanup'],
          ['start', 'other'],
        ],
        { recovery: { skipFailedBranches: true } },
      ),
    );
    expect(state.status).toBe('PARTIAL');
    expect(statuses(state)).toMatchObject({ boom: 'FAILED', after: 'SKIPPED', cleanup: 'COMPLETED', other: 'COMPLETED' });
  });

  it('with continueOnNodeFailure runs dependents with the error as output', async () => {
    const state = await h.run(
      flow(
        [
          { id: 'boom', type: 'fail', parameters: { message: 'no luck' } },
          { id: 'after', type: 'noop' },
        ],
        [
          ['start', 'boom'],
          ['boom', 'after'],
        ],
        {
          recovery: { continueOnNodeFailure: true },
        },
      ),
    );
    expect(state.status).toBe('PARTIAL');
    expect(state.nodes.get('after')!.output).toEqual({ boom: { error: 'no luck' } });
  });

  it('cancels a running execution: the running delay is aborted and nothing starts afterwards', async () => {
    const workflow = await h.engine.workflows.create(
      flow(
        [
          { id: 'wait', type: 'delay', parameters: { ms: 10_000 } },
          { id: 'after', type: 'noop' },
        ],
        [
          ['start', 'wait'],
          ['wait', 'after'],
        ],
      ),
    );
    const started = await h.engine.startTrigger(workflow.id, 'start', {});
    await h.waitFor(started.id, (state) => state.nodes.get('wait')!.status === 'RUNNING');
    const begun = Date.now();
    await h.engine.executions.handle(started.id, { type: 'CancelExecution', data: { reason: 'user asked' } });
    const state = await h.waitFor(started.id);
    expect(state.status).toBe('CANCELLED');
    expect(statuses(state)).toMatchObject({ wait: 'CANCELLED', after: 'IDLE' });
    // The aborted delay leaves the runner a little after the cancel is recorded.
    await expect.poll(() => h.engine.runner.runningCount, { timeout: 10_000 }).toBe(0);
    // Long before the delay's 10 s would have ended.
    expect(Date.now() - begun).toBeLessThan(5_000);
  });
});

describe.each(BACKENDS)('recovery on $name', ({ create }) => {
  const h = useHarness(create);

  it('finishes an execution in a new runtime after the first one stopped, completing every node once', async () => {
    const first = h.engine;
    const nodes = Array.from({ length: 6 }, (_, i) => ({ id: `n${i}`, type: 'delay', parameters: { ms: 40 } }));
    const workflow = await first.workflows.create(
      flow(
        nodes,
        nodes.map((node, i) => [i === 0 ? 'start' : `n${i - 1}`, node.id]),
      ),
    );
    const started = await first.startTrigger(workflow.id, 'start', {});
    await h.waitFor(started.id, (state) => state.nodes.get('n1')!.status === 'COMPLETED', first);
    await first.stop();
    const second = h.newEngine();
    await second.start();
    const state = await h.waitFor(started.id, undefined, second);
    expect(state.status).toBe('COMPLETED');
    const completions = (await h.events(started.id)).filter((event) => event.type === 'NodeCompleted').map((event) => (event.data as { nodeId: string }).nodeId);
    expect(completions.sort()).toEqual(['n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'start']);
  });
});
