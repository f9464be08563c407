import { describe, expect, it } from 'vitest';
import type { WorkflowDefinition } from '../../src/domain/workflow/workflow.js';
import type { RecordedEvent } from '../../src/eventstore/eventStore.js';
import { comparePositions, decodePosition } from '../../src/eventstore/postgresRows.js';
import type { Engine } from '../../src/runtime/engine.js';
import { BACKENDS } from '../support/backends.js';
import { type Harness, useHarness } from '../support/engineHarness.js';

const limited = (maxConcurrentExecutions: number, delayMs: number, triggers = ['start']): WorkflowDefinition => ({
  name: 'limited',
  nodes: [...triggers.map((id) => ({ id, type: 'trigger.manual' })), { id: 'work', type: 'delay', parameters: { ms: delayMs } }],
  connections: triggers.map((source) => ({ source, target: 'work' })),
  settings: { maxConcurrentExecutions },
});

interface Run {
  id: string;
  /** When it got its slot: at start, or when admitted. */
  from: number;
  to: number;
  admittedAt: RecordedEvent | null;
}

const ENDINGS = ['ExecutionCompleted', 'ExecutionFailed', 'ExecutionCancelled'];

/** When each execution held a slot, from its own event log. */
async function runsOf(h: Harness, ids: string[]): Promise<Run[]> {
  return Promise.all(
    ids.map(async (id) => {
      const events = await h.events(id);
      const at = (event: RecordedEvent | undefined) => Date.parse((event!.data as { at: string }).at);
      const started = events[0]!;
      const admittedAt = events.find((event) => event.type === 'ExecutionAdmitted') ?? null;
      const waited = (started.data as { waitsForSlot: boolean }).waitsForSlot;
      return { id, from: at(waited ? admittedAt! : started), to: at(events.find((event) => ENDINGS.includes(event.type))), admittedAt };
    }),
  );
}

/** Most executions holding a slot at the same moment; one that ends at the instant another begins does not overlap it. */
function maxOverlap(runs: Run[]): number {
  const edges = runs.flatMap((run) => [
    { at: run.from, change: 1 },
    { at: run.to, change: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.change - b.change);
  let current = 0;
  let most = 0;
  for (const edge of edges) most = Math.max(most, (current += edge.change));
  return most;
}

const admissionOrder = (runs: Run[]): string[] =>
  runs
    .filter((run) => run.admittedAt)
    .sort((a, b) => comparePositions(decodePosition(a.admittedAt!.position), decodePosition(b.admittedAt!.position)))
    .map((run) => run.id);

describe.each(BACKENDS)('concurrency limits on $name', ({ create }) => {
  const h = useHarness(create);

  it('runs at most maxConcurrentExecutions at once, queues the rest and admits them first in, first out', async () => {
    const workflow = await h.engine.workflows.create(limited(2, 250));
    // States are live (the command handler keeps folding into them): keep what each start answered.
    const started: Array<{ id: string; status: string }> = [];
    for (let i = 0; i < 10; i++) {
      const { id, status } = await h.engine.startTrigger(workflow.id, 'start', { i });
      started.push({ id, status });
    }
    expect(started.map((state) => state.status)).toEqual(['RUNNING', 'RUNNING', ...Array(8).fill('QUEUED')]);
    const [active] = await h.engine.activeTriggers(workflow.id);
    expect(active!.runningExecutions.length).toBeLessThanOrEqual(2);
    expect(active!.runningExecutions.length + active!.queuedExecutions).toBeGreaterThan(2);

    const ids = started.map((state) => state.id);
    const done = await Promise.all(ids.map((id) => h.waitFor(id)));
    expect(done.every((state) => state.status === 'COMPLETED')).toBe(true);
    const runs = await runsOf(h, ids);
    expect(maxOverlap(runs)).toBe(2);
    expect(admissionOrder(runs)).toEqual(ids.slice(2));
    expect(await h.engine.activeTriggers(workflow.id)).toEqual([{ triggerNodeId: 'start', triggerType: 'trigger.manual', runningExecutions: [], queuedExecutions: 0 }]);
  });

  it('holds the limit when several processes start executions of one workflow at once', async () => {
    const second = h.newEngine();
    await second.start();
    const workflow = await h.engine.workflows.create(limited(2, 100));
    const engines: Engine[] = [h.engine, second];
    const started = await Promise.all(Array.from({ length: 12 }, (_, i) => engines[i % 2]!.startTrigger(workflow.id, 'start', { i })));
    const ids = started.map((state) => state.id);
    const done = await Promise.all(ids.map((id) => h.waitFor(id)));
    await second.stop();
    expect(done.every((state) => state.status === 'COMPLETED')).toBe(true);
    expect(maxOverlap(await runsOf(h, ids))).toBe(2);
  });

  it('lists running and queued executions per trigger; cancelling frees a slot or a place in the queue', async () => {
    const workflow = await h.engine.workflows.create(limited(1, 10_000, ['web', 'cli']));
    const first = await h.engine.startTrigger(workflow.id, 'web', {});
    const queued = await h.engine.startTrigger(workflow.id, 'cli', {});
    const last = await h.engine.startTrigger(workflow.id, 'cli', {});
    expect(await h.engine.activeTriggers(workflow.id)).toEqual([
      { triggerNodeId: 'web', triggerType: 'trigger.manual', runningExecutions: [first.id], queuedExecutions: 0 },
      { triggerNodeId: 'cli', triggerType: 'trigger.manual', runningExecutions: [], queuedExecutions: 2 },
    ]);
    await h.engine.executions.handle(queued.id, { type: 'CancelExecution', data: { reason: 'not needed' } });
    await h.engine.executions.handle(first.id, { type: 'CancelExecution', data: { reason: 'make room' } });
    await h.waitFor(last.id, (state) => state.status === 'RUNNING');
    expect((await h.engine.executions.load(queued.id))!.status).toBe('CANCELLED');
    expect(await h.engine.activeTriggers(workflow.id)).toEqual([
      { triggerNodeId: 'web', triggerType: 'trigger.manual', runningExecutions: [], queuedExecutions: 0 },
      { triggerNodeId: 'cli', triggerType: 'trigger.manual', runningExecutions: [last.id], queuedExecutions: 0 },
    ]);
    await h.engine.executions.handle(last.id, { type: 'CancelExecution', data: { reason: 'done testing' } });
  });

  it('answers NOT_FOUND for the active triggers of an unknown workflow', async () => {
    await expect(h.engine.activeTriggers('no-such-workflow')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
