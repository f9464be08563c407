import { describe, expect, it } from 'vitest';
import type { ExecutionStatus } from '../../src/domain/execution/events.js';
import type { WorkflowDefinition } from '../../src/domain/workflow/workflow.js';
import { BACKENDS } from '../support/backends.js';
import { useHarness } from '../support/engineHarness.js';

/** Each execution waits at an external node that no worker claims: it holds its slot until the test cancels it, however fast the machine is. */
const gated = (settings: WorkflowDefinition['settings']): WorkflowDefinition => ({
  name: 'per user',
  nodes: [
    { id: 'start', type: 'trigger.manual' },
    { id: 'gate', type: 'external', parameters: { queue: 'per-user-gate' } },
  ],
  connections: [{ source: 'start', target: 'gate', sourceOutput: null }],
  settings,
});

const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 60_000, interval: 50 });

describe.each(BACKENDS)('settings.maxConcurrentExecutionsPerUser on $name', ({ create }) => {
  const h = useHarness(create);
  const statuses = (ids: string[]) => Promise.all(ids.map(async (id) => (await h.engine.executions.load(id))!.status));
  const cancel = (id: string) => h.engine.executions.handle(id, { type: 'CancelExecution', data: { reason: 'test' } });

  it('with a limit of 1, two users starting three executions each get one running each, the rest QUEUED in order', async () => {
    const workflow = await h.engine.workflows.create(gated({ maxConcurrentExecutionsPerUser: 1 }));
    const start = async (userId: string) => (await h.engine.startTrigger(workflow.id, 'start', {}, { userId })).id;
    const alice = [await start('alice'), await start('alice'), await start('alice')];
    const bob = [await start('bob'), await start('bob'), await start('bob')];
    const QUEUED_BEHIND: ExecutionStatus[] = ['RUNNING', 'QUEUED', 'QUEUED'];
    expect(await statuses(alice)).toEqual(QUEUED_BEHIND);
    expect(await statuses(bob)).toEqual(QUEUED_BEHIND);

    // Alice's first ends: her second runs, her third and Bob's queue do not move.
    await cancel(alice[0]!);
    await poll(() => statuses(alice)).toEqual(['CANCELLED', 'RUNNING', 'QUEUED']);
    expect(await statuses(bob)).toEqual(QUEUED_BEHIND);
    await cancel(bob[0]!);
    await poll(() => statuses(bob)).toEqual(['CANCELLED', 'RUNNING', 'QUEUED']);
    expect(await statuses(alice)).toEqual(['CANCELLED', 'RUNNING', 'QUEUED']);
  });

  it('lets starts without a user run, and under the workflow limit too, a waiting user does not hold back another', async () => {
    const workflow = await h.engine.workflows.create(gated({ maxConcurrentExecutionsPerUser: 1, maxConcurrentExecutions: 3 }));
    const start = async (userId: string | null) => (await h.engine.startTrigger(workflow.id, 'start', {}, { userId })).id;
    const a1 = await start('alice');
    const a2 = await start('alice');
    const b1 = await start('bob');
    const anonymous = await start(null);
    expect(await statuses([a1, a2, b1, anonymous])).toEqual(['RUNNING', 'QUEUED', 'RUNNING', 'RUNNING']);
    // The workflow is at 3: Carol waits for the workflow, behind nobody of her own.
    const c1 = await start('carol');
    expect(await statuses([c1])).toEqual(['QUEUED']);
    // Alice's first ends: the workflow's slot goes to the oldest waiting execution that may run, Alice's second.
    await cancel(a1);
    await poll(() => statuses([a2, c1])).toEqual(['RUNNING', 'QUEUED']);
    await cancel(anonymous);
    await poll(() => statuses([c1])).toEqual(['RUNNING']);
  });
});
