import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeDefinition, WorkflowDefinition } from '../../src/domain/workflow/workflow.js';
import { BACKENDS, type Backend } from '../support/backends.js';
import { createHarness, type Harness } from '../support/engineHarness.js';

const chain = (length: number): WorkflowDefinition => {
  const nodes: NodeDefinition[] = [{ id: 'start', type: 'trigger.manual' }, ...Array.from({ length }, (_, i) => ({ id: `n${i}`, type: 'noop' }))];
  return { name: `chain of ${length}`, nodes, connections: nodes.slice(1).map((node, i) => ({ source: nodes[i]!.id, target: node.id })) };
};

const fanOutIn = (width: number): WorkflowDefinition => {
  const branches = Array.from({ length: width }, (_, i) => ({ id: `b${i}`, type: 'noop' }));
  return {
    name: `fan-out of ${width}`,
    nodes: [{ id: 'start', type: 'trigger.manual' }, ...branches, { id: 'join', type: 'merge' }],
    connections: branches.flatMap((branch) => [
      { source: 'start', target: branch.id },
      { source: branch.id, target: 'join' },
    ]),
  };
};

// Wall times go to the log for the record; speed itself is asserted by `npm run bench`, not here.
describe.each(BACKENDS.filter((backend) => backend.name === 'postgres'))('large executions on $name', ({ create }) => {
  let backend: Backend;
  let h: Harness;
  beforeAll(async () => {
    backend = await create();
    h = await createHarness(backend);
  });
  afterAll(async () => {
    await h.close();
    await backend.dispose();
  });

  it('completes a 1,000-node chain', async () => {
    const begun = Date.now();
    const state = await h.run(chain(1000));
    console.log(`1,000-node chain: ${Date.now() - begun} ms`);
    expect(state.status).toBe('COMPLETED');
    expect(state.executionPath).toHaveLength(1001);
    expect(state.executionPath.at(-1)).toBe('n999');
  }, 120_000);

  it('completes a 1,000-wide fan-out/fan-in, the join running once with every branch output', async () => {
    const begun = Date.now();
    const state = await h.run(fanOutIn(1000));
    console.log(`1,000-wide fan-out/fan-in: ${Date.now() - begun} ms`);
    expect(state.status).toBe('COMPLETED');
    expect(Object.keys(state.nodes.get('join')!.input!)).toHaveLength(1000);
    const joinStarts = (await h.events(state.id)).filter((event) => event.type === 'NodeStarted' && (event.data as { nodeId: string }).nodeId === 'join');
    expect(joinStarts).toHaveLength(1);
  }, 120_000);
});
