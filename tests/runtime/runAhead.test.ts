import { describe, expect, it } from 'vitest';
import { MAX_RUN_AHEAD } from '../../src/runtime/runner/runAhead.js';
import { BACKENDS } from '../support/backends.js';
import { useHarness, type Harness } from '../support/engineHarness.js';
import { chain, flow } from '../support/flows.js';

const STEP = { type: 'transform', parameters: { mapping: '{ "step": $count($keys(input)) }' } };

/** How many commits wrote the execution's events (one transaction id per commit). */
async function commitsOf(h: Harness, executionId: string): Promise<number> {
  const { rows } = await h.db.query<{ commits: string }>('SELECT count(DISTINCT transaction_id)::text AS commits FROM events WHERE stream_id = $1', [`execution-${executionId}`]);
  return Number(rows[0]!.commits);
}

/** Each node's events, by type, in stream order. */
async function perNode(h: Harness, executionId: string): Promise<Map<string, string[]>> {
  const byNode = new Map<string, string[]>();
  for (const event of await h.events(executionId)) {
    const nodeId = (event.data as { nodeId?: string }).nodeId;
    if (nodeId !== undefined) byNode.set(nodeId, [...(byNode.get(nodeId) ?? []), event.type]);
  }
  return byNode;
}

describe.each(BACKENDS)('side-effect-free nodes run ahead into the commit that made them ready, on $name', ({ create }) => {
  const h = useHarness(create);

  it('records every step of a chain of transforms as its own events, in order, in a few commits', async () => {
    const length = 3 * MAX_RUN_AHEAD;
    const state = await h.run(chain(length, STEP));
    expect(state.status).toBe('COMPLETED');
    expect(state.executionPath).toHaveLength(length + 1);
    expect(state.nodes.get(`n${length - 1}`)!.output).toEqual({ step: 1 });
    const byNode = await perNode(h, state.id);
    for (let i = 0; i < length; i++) expect(byNode.get(`n${i}`), `n${i}`).toEqual(['NodeQueued', 'NodeStarted', 'NodeCompleted']);
    // One commit per step without running ahead; with it about one per MAX_RUN_AHEAD + 1 steps
    // (fewer steps per commit only when the run-ahead's time budget runs out on a loaded machine).
    expect(await commitsOf(h, state.id)).toBeLessThanOrEqual(length / 4);
  }, 120_000);

  it('stops at a node with side effects (a delay) and runs ahead again after it', async () => {
    const nodes = [
      { id: 'a', ...STEP },
      { id: 'wait', type: 'delay', parameters: { ms: 10 } },
      { id: 'b', ...STEP },
      { id: 'c', ...STEP },
    ];
    const state = await h.run(
      flow(nodes, [
        ['start', 'a'],
        ['a', 'wait'],
        ['wait', 'b'],
        ['b', 'c'],
      ]),
    );
    expect(state.status).toBe('COMPLETED');
    expect(state.executionPath).toEqual(['start', 'a', 'wait', 'b', 'c']);
    const byNode = await perNode(h, state.id);
    for (const id of ['a', 'b', 'c']) expect(byNode.get(id)).toEqual(['NodeQueued', 'NodeStarted', 'NodeCompleted']);
  }, 60_000);

  it('leaves a node with a timeoutMs to its own bounded attempt, and the chain still completes', async () => {
    const nodes = [
      { id: 'a', ...STEP },
      { id: 'bounded', ...STEP, timeoutMs: 5_000 },
      { id: 'b', ...STEP },
    ];
    const state = await h.run(
      flow(nodes, [
        ['start', 'a'],
        ['a', 'bounded'],
        ['bounded', 'b'],
      ]),
    );
    expect(state.status).toBe('COMPLETED');
    expect(state.nodes.get('b')!.output).toEqual({ step: 1 });
  }, 60_000);

  it('runs ahead the branches of a fan-out and the join once every branch is done', async () => {
    const branches = Array.from({ length: 10 }, (_, i) => ({ id: `b${i}`, ...STEP }));
    const nodes = [...branches, { id: 'join', type: 'merge' }];
    const edges: Array<[string, string]> = branches.flatMap((branch): Array<[string, string]> => [
      ['start', branch.id],
      [branch.id, 'join'],
    ]);
    const state = await h.run(flow(nodes, edges));
    expect(state.status).toBe('COMPLETED');
    expect(Object.keys(state.nodes.get('join')!.input!)).toHaveLength(10);
    expect((await perNode(h, state.id)).get('join')).toEqual(['NodeQueued', 'NodeStarted', 'NodeCompleted']);
  }, 60_000);
});
