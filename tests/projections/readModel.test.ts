import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { foldExecution } from '../../src/domain/execution/evolve.js';
import { toExecutionEvent } from '../../src/domain/execution/events.js';
import { DomainError } from '../../src/domain/errors.js';
import type { ExecutionState } from '../../src/domain/execution/state.js';
import { executionViewFromState } from '../../src/projections/executionView.js';
import type { ExecutionChange } from '../../src/projections/projectionRunner.js';
import { rebuildProjections } from '../../src/projections/rebuild.js';
import { BACKENDS, type Backend } from '../support/backends.js';
import { statuses } from '../support/engineHarness.js';
import { createProjectionHarness, flow, readModelRows, type ProjectionHarness } from './projectionHarness.js';

describe.each(BACKENDS)('read model on $name', ({ create }) => {
  let backend: Backend;
  let p: ProjectionHarness;
  const changes: ExecutionChange[] = [];
  const executions: Record<'linear' | 'branch' | 'partial' | 'cancelled', ExecutionState> = {} as never;
  let linearWorkflowId: string;

  beforeAll(async () => {
    backend = await create();
    p = await createProjectionHarness(backend);
    p.runner.onChange((batch) => changes.push(...batch));
    const { h } = p;
    const linear = await h.engine.workflows.create(
      flow(
        [
          { id: 'double', type: 'transform', parameters: { mapping: 'input.start.n * 2' } },
          { id: 'end', type: 'noop' },
        ],
        [
          ['start', 'double'],
          ['double', 'end'],
        ],
      ),
    );
    linearWorkflowId = linear.id;
    executions.linear = await h.waitFor((await h.engine.startTrigger(linear.id, 'start', { n: 5 })).id);
    executions.branch = await h.run(
      flow(
        [
          { id: 'check', type: 'if', parameters: { condition: 'trigger.amount > 100' } },
          { id: 'big', type: 'noop' },
          { id: 'small', type: 'noop' },
        ],
        [
          ['start', 'check'],
          ['check', 'big', 'true'],
          ['check', 'small', 'false'],
        ],
      ),
      'start',
      { amount: 50 },
    );
    executions.partial = await h.run(
      flow(
        [
          { id: 'boom', type: 'fail', parameters: { message: 'kaput' } },
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
    const slow = await h.engine.workflows.create(
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
    const started = await h.engine.startTrigger(slow.id, 'start', {});
    await h.waitFor(started.id, (state) => state.nodes.get('wait')!.status === 'RUNNING');
    await h.engine.executions.handle(started.id, { type: 'CancelExecution', data: { reason: 'user asked' } });
    executions.cancelled = await h.waitFor(started.id);
    executions.linear = await h.waitFor((await h.engine.startTrigger(linear.id, 'start', { n: 6 })).id);
    await p.runner.caughtUp();
  });
  afterAll(async () => {
    await p.close();
    await backend.dispose();
  });

  it('ran the mix it is meant to project', () => {
    expect(Object.values(executions).map((state) => state.status)).toEqual(['COMPLETED', 'COMPLETED', 'PARTIAL', 'CANCELLED']);
    expect(statuses(executions.branch)).toMatchObject({ big: 'SKIPPED', small: 'COMPLETED' });
  });

  it('shows every execution exactly as the fold of its stream', async () => {
    for (const state of Object.values(executions)) {
      const folded = foldExecution((await p.h.events(state.id)).map(toExecutionEvent))!;
      const view = await p.readModel.getExecution(state.id);
      expect(view).toEqual(executionViewFromState(folded));
    }
    const partial = (await p.readModel.getExecution(executions.partial.id))!;
    expect(partial).toMatchObject({ status: 'PARTIAL', progress: 100, failedNodes: ['boom'], estimatedTimeRemainingMs: 0 });
    expect(partial.nodeStates.find((node) => node.nodeId === 'after')).toMatchObject({ status: 'SKIPPED', dependencies: ['boom'] });
    expect(partial.nodeStates.find((node) => node.nodeId === 'start')!.dependents).toEqual(['boom', 'other']);
  });

  it('returns chosen node states with their edges', async () => {
    const all = (await p.readModel.getExecution(executions.partial.id))!.nodeStates;
    const some = await p.readModel.getNodeStates(executions.partial.id, ['cleanup', 'boom']);
    expect(some).toEqual(all.filter((node) => node.nodeId === 'boom' || node.nodeId === 'cleanup'));
    expect(await p.readModel.getNodeStates(executions.partial.id)).toEqual(all);
  });

  it('tells listeners which nodes each committed batch changed, with the rows it wrote', async () => {
    const ofCancelled = changes.filter((change) => change.executionId === executions.cancelled.id);
    const versions = ofCancelled.map((change) => change.streamVersion);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(versions.at(-1)).toBe(executions.cancelled.version);
    expect(new Set(ofCancelled.flatMap((change) => change.nodes.map((row) => row.node_id)))).toEqual(new Set(['start', 'wait', 'after']));
    expect(ofCancelled[0]!.workflowId).toBe(executions.cancelled.workflowId);
    // The first batch brings every node and edge; later ones only what they changed.
    expect(ofCancelled[0]!.edges).not.toBeNull();
    expect(ofCancelled.slice(1).every((change) => change.edges === null)).toBe(true);
    // The last rows reported are the read model's rows.
    const last = new Map(ofCancelled.flatMap((change) => change.nodes.map((row) => [row.node_id, row] as const)));
    const { nodes } = await p.readModel.getExecutionNodes(executions.cancelled.id);
    for (const row of nodes) expect(last.get(row.node_id)).toMatchObject({ status: row.status, attempt: row.attempt, stream_version: row.stream_version });
    expect(ofCancelled.at(-1)!.execution).toMatchObject({ status: 'CANCELLED', stream_version: executions.cancelled.version });
  });

  it('lists executions newest first, page by page, with filters', async () => {
    const all = await p.readModel.listExecutions({ first: 100 });
    expect(all.totalCount).toBe(5);
    expect(all.pageInfo.hasNextPage).toBe(false);
    const starts = all.nodes.map((view) => view.startedAt);
    expect(starts).toEqual([...starts].sort().reverse());
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await p.readModel.listExecutions({ first: 2, after });
      expect(page.totalCount).toBe(5);
      seen.push(...page.nodes.map((view) => view.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(all.nodes.map((view) => view.id));
    const byWorkflow = await p.readModel.listExecutions({ workflowId: linearWorkflowId });
    expect(byWorkflow.nodes.map((view) => view.workflowId)).toEqual([linearWorkflowId, linearWorkflowId]);
    expect((await p.readModel.listExecutions({ status: 'CANCELLED' })).nodes.map((view) => view.id)).toEqual([executions.cancelled.id]);
    expect((await p.readModel.listExecutions({ triggerType: 'trigger.webhook' })).totalCount).toBe(0);
    const middle = all.nodes[2]!.startedAt;
    const before = await p.readModel.listExecutions({ startedBefore: middle });
    expect(before.nodes.map((view) => view.id)).toEqual(all.nodes.slice(3).map((view) => view.id));
    expect((await p.readModel.listExecutions({ startedAfter: middle })).nodes.map((view) => view.id)).toEqual(all.nodes.slice(0, 2).map((view) => view.id));
    await expect(p.readModel.listExecutions({ after: 'not a cursor' })).rejects.toBeInstanceOf(DomainError);
  });

  it('keeps the latest version of each workflow and routes webhooks to it', async () => {
    const { h, readModel } = p;
    const hooked = await h.engine.workflows.create({
      name: 'hooked',
      nodes: [
        { id: 'hook', type: 'trigger.webhook', parameters: { path: 'orders' } },
        { id: 'next', type: 'noop' },
      ],
      connections: [{ source: 'hook', target: 'next' }],
    });
    await h.engine.workflows.update(hooked.id, {
      name: 'hooked v2',
      nodes: [
        { id: 'hook2', type: 'trigger.webhook', parameters: { path: 'orders-v2' } },
        { id: 'next', type: 'noop' },
      ],
      connections: [{ source: 'hook2', target: 'next' }],
    });
    await p.runner.caughtUp();
    expect(await readModel.getWorkflow(hooked.id)).toMatchObject({ name: 'hooked v2', version: 2, nodes: [{ id: 'hook2' }, { id: 'next' }] });
    const taken = h.engine.workflows.create({ name: 'thief', nodes: [{ id: 'hook', type: 'trigger.webhook', parameters: { path: 'orders-v2' } }], connections: [] });
    await expect(taken).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    const listed = await readModel.listWorkflows();
    expect(listed).toHaveLength(5);
    expect(listed.at(-1)!.id).toBe(hooked.id);
  });

  it('estimates what is left of a running execution from earlier completed runs of its workflow', async () => {
    const { h, readModel } = p;
    const workflow = await h.engine.workflows.create(flow([{ id: 'ext', type: 'external', parameters: { queue: 'q' } }], [['start', 'ext']]));
    const earlier = (await h.engine.startTrigger(workflow.id, 'start', {})).id;
    await h.waitFor(earlier, (state) => state.nodes.get('ext')!.status === 'QUEUED');
    await h.engine.executions.handle(earlier, { type: 'StartNode', data: { nodeId: 'ext', attempt: 1, workerId: 'worker', leaseMs: null } });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await h.engine.executions.handle(earlier, { type: 'CompleteNode', data: { nodeId: 'ext', output: 1, outputName: null } });
    const running = (await h.engine.startTrigger(workflow.id, 'start', {})).id;
    const state = await h.waitFor(running, (each) => each.nodes.get('ext')!.status === 'QUEUED');
    await p.runner.caughtUp();
    const took = (await readModel.getExecution(earlier))!.nodeStates.find((node) => node.nodeId === 'ext')!.durationMs!;
    expect(took).toBeGreaterThanOrEqual(20);
    const view = await readModel.getExecution(running);
    expect(view).toMatchObject({ status: 'RUNNING', queuedNodes: ['ext'], estimatedTimeRemainingMs: took });
    expect(view).toEqual(executionViewFromState(state, new Map([['ext', took]])));
  });

  it('rebuilds exactly the same rows from the log', async () => {
    await p.runner.caughtUp();
    await p.runner.stop();
    const before = await readModelRows(backend.db);
    expect(before.node_execution_state!.length).toBeGreaterThan(10);
    await rebuildProjections(backend.db, p.h.store);
    expect(await readModelRows(backend.db)).toEqual(before);
  });
});
