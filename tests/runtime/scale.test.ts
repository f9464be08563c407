import { describe, expect, it } from 'vitest';
import { BACKENDS } from '../support/backends.js';
import { useHarness } from '../support/engineHarness.js';
import { chain, fanOutIn } from '../support/flows.js';

// Wall times go to the log for the record; speed itself is asserted by `npm run bench`, not here.
describe.each(BACKENDS.filter((backend) => backend.name === 'postgres'))('large executions on $name', ({ create }) => {
  const h = useHarness(create);

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
