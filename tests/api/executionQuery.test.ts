import { describe, expect, it } from 'vitest';
import { BACKENDS } from '../support/backends.js';
import { apiPerSuite } from './apiHarness.js';

const CREATE = `mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id } }`;
const START = `mutation($workflowId: ID!) { startTrigger(workflowId: $workflowId, triggerNodeId: "start", data: { n: 1 }) { id } }`;
const EXECUTION = `query($id: ID!) { execution(id: $id) { status nodeStates { nodeId status input } } }`;

/** Done in a few milliseconds: the engine finishes it before the projections have its start. */
const quick = {
  name: 'quick',
  nodes: [
    { id: 'start', type: 'trigger.manual' },
    { id: 'a', type: 'noop' },
    { id: 'b', type: 'noop' },
  ],
  connections: [
    { source: 'start', target: 'a' },
    { source: 'a', target: 'b' },
  ],
};

/** Executions that each get a chance to be read between the engine's commits and the projection's. */
const ROUNDS = 10;
/** Reads after the first COMPLETED answer: each must still say COMPLETED. */
const READS_AFTER = 5;

describe.each(BACKENDS)('execution(id) right after a start on $name', ({ create }) => {
  const { api } = apiPerSuite(create);

  it('never goes back: once answered COMPLETED, every later answer is COMPLETED with every node input', async () => {
    const workflowId = (await api.gql(CREATE, { input: quick })).data.createWorkflow.id;
    for (let round = 0; round < ROUNDS; round++) {
      const id: string = (await api.gql(START, { workflowId })).data.startTrigger.id;
      const read = async () => (await api.gql(EXECUTION, { id })).data.execution as { status: string; nodeStates: Array<{ nodeId: string; status: string; input: unknown }> };
      // Read as fast as a client can, from the start on; the first answer may be RUNNING.
      await expect.poll(async () => (await read()).status, { timeout: 30_000, interval: 1 }).toBe('COMPLETED');
      for (let each = 0; each < READS_AFTER; each++) {
        const answer = await read();
        expect(answer.status, `round ${round}, read ${each}`).toBe('COMPLETED');
        expect(
          answer.nodeStates.find((node) => node.nodeId === 'b'),
          `round ${round}, read ${each}`,
        ).toEqual({ nodeId: 'b', status: 'COMPLETED', input: { a: { start: { n: 1 } } } });
      }
    }
  });
});
