import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecutionCommandHandler } from '../../src/commands/executionCommandHandler.js';
import { TableChanges } from '../../src/runtime/processManager/tableChanges.js';
import { timer, type Timer } from '../../src/runtime/timers/timer.js';
import { TimerStore } from '../../src/runtime/timers/timerStore.js';
import { BACKENDS, type Backend } from '../support/backends.js';
import { createHarness, type Harness } from '../support/engineHarness.js';
import { begin, eventsOf, flow, ms, sleep } from '../support/flows.js';
import { startHangingServer, type HangingServer } from '../support/hangingServer.js';

describe.each(BACKENDS)('durable timers on $name', ({ create }) => {
  let backend: Backend;
  let h: Harness;
  let server: HangingServer;
  beforeAll(async () => {
    backend = await create();
    h = await createHarness(backend);
    server = await startHangingServer(0);
  });
  afterAll(async () => {
    await server.close();
    await h.close();
    await backend.dispose();
  });

  const timersOf = async (executionId: string) =>
    Number((await backend.db.query<{ n: string }>('SELECT count(*) AS n FROM timers WHERE execution_id = $1', [executionId])).rows[0]!.n);

  /** Writes timers as a lagging process replaying old events would, and wakes the scheduler for them. */
  const setAgain = async (timers: Timer[]) => {
    const changes = new TableChanges<Timer>();
    for (const each of timers) changes.put(each);
    await backend.db.transaction((tx) => TimerStore.apply(tx, changes));
    h.engine.timers.notify(new Date());
  };

  const waitUntilFired = async (executionId: string) => {
    while ((await timersOf(executionId)) > 0) await sleep(10);
  };

  it('timers that fire again after their attempt ended change nothing', async () => {
    const id = await begin(
      h,
      flow(
        [
          { id: 'wait', type: 'delay', parameters: { ms: 30 } },
          { id: 'ext', type: 'external', parameters: { queue: 'stale-q' } },
        ],
        [
          ['start', 'wait'],
          ['wait', 'ext'],
        ],
      ),
    );
    await h.waitFor(id, (state) => state.nodes.get('ext')!.status === 'QUEUED');
    await h.engine.processManager.caughtUp();
    const before = await h.events(id);
    const now = new Date();
    await setAgain([
      timer('delay', id, 'wait', 1, now),
      timer('nodeTimeout', id, 'wait', 1, now),
      timer('lease', id, 'wait', 1, now),
      timer('retry', id, 'wait', 1, now),
      timer('lease', id, 'ext', 1, now),
      timer('nodeTimeout', id, 'ext', 1, now),
    ]);
    await waitUntilFired(id);
    expect(await h.events(id)).toHaveLength(before.length);

    await h.engine.executions.handle(id, { type: 'CompleteNode', data: { nodeId: 'ext', output: 'done', outputName: null } });
    const state = await h.waitFor(id);
    expect(state.status).toBe('COMPLETED');
    const after = (await h.events(id)).length;
    await setAgain([timer('delay', id, 'wait', 1, new Date()), timer('executionTimeout', id, '', 0, new Date())]);
    await waitUntilFired(id);
    expect(await h.events(id)).toHaveLength(after);
  });

  /** Longer than a restart takes on a busy machine (its recovery included), so that a delay started over shows. */
  const DELAY_MS = 4_000;

  it('a restarted runtime ends a delay at its original time, and takes back a node a dead runtime held once its lease runs out', async () => {
    const delayId = await begin(
      h,
      flow(
        [
          { id: 'wait', type: 'delay', parameters: { ms: DELAY_MS } },
          { id: 'end', type: 'noop' },
        ],
        [
          ['start', 'wait'],
          ['wait', 'end'],
        ],
      ),
    );
    await h.waitFor(delayId, (state) => state.nodes.get('wait')!.status === 'RUNNING');
    await sleep(500);
    await h.engine.stop();

    // While no runtime runs, a runtime that then dies starts an http node with a short lease.
    const workflow = await h.engine.workflows.create(flow([{ id: 'call', type: 'http', parameters: { url: server.url } }], [['start', 'call']]));
    const deadId = `dead-runtime-${Date.now()}`;
    const dead = new ExecutionCommandHandler(h.store, h.engine.nodeTypes.capabilities);
    const start = (nodeId: string) => dead.handle(deadId, { type: 'StartNode', data: { nodeId, attempt: 1, workerId: 'dead-runtime', leaseMs: 300 } });
    await dead.handle(deadId, { type: 'StartExecution', data: { executionId: deadId, workflow, triggerNodeId: 'start', triggerData: {}, waitsForSlot: false } });
    await dead.handle(deadId, { type: 'QueueReadyNodes' });
    await start('start');
    await dead.handle(deadId, { type: 'CompleteNode', data: { nodeId: 'start', attempt: 1, output: {}, outputName: null } });
    await dead.handle(deadId, { type: 'QueueReadyNodes' });
    await start('call');

    const restartedAt = Date.now();
    const restarted = h.newEngine();
    await restarted.start();
    const delayed = await h.waitFor(delayId, undefined, restarted);
    expect(delayed.status).toBe('COMPLETED');
    const [started] = await eventsOf(h, delayId, 'NodeStarted', 'wait');
    const [completed] = await eventsOf(h, delayId, 'NodeCompleted', 'wait');
    expect(await eventsOf(h, delayId, 'NodeStarted', 'wait')).toHaveLength(1);
    const waited = ms(completed!.data.at) - ms(started!.data.at);
    expect(waited).toBeGreaterThanOrEqual(DELAY_MS);
    // A delay started over by the restart would have ended its whole DELAY_MS after the restart
    // (however long the stop and the dead runtime took on a busy machine before it).
    expect(ms(completed!.data.at)).toBeLessThan(restartedAt + DELAY_MS);

    const recovered = await h.waitFor(deadId, undefined, restarted);
    expect(recovered.status).toBe('COMPLETED');
    expect(recovered.nodes.get('call')).toMatchObject({ status: 'COMPLETED', attempt: 2, failures: 0 });
    const [deadStart] = await eventsOf(h, deadId, 'NodeStarted', 'call');
    const [released] = await eventsOf(h, deadId, 'NodeReleased', 'call');
    expect(ms(released!.data.at)).toBeGreaterThanOrEqual(ms(deadStart!.data.leaseExpiresAt!));
    expect(released!.data.reason).toMatch(/^the lease of worker dead-runtime expired/);
    expect(await eventsOf(h, deadId, 'NodeCompleted', 'call')).toHaveLength(1);

    await restarted.processManager.caughtUp();
    expect(await timersOf(delayId)).toBe(0);
    expect(await timersOf(deadId)).toBe(0);
  });
});
