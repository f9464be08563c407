import { describe, expect, it } from 'vitest';
import { BACKENDS } from '../support/backends.js';
import { apiPerSuite } from './apiHarness.js';

const CREATE = `mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id } }`;
const START = `mutation($workflowId: ID!) { startTrigger(workflowId: $workflowId, triggerNodeId: "start", data: { list: [1, 2, 3] }) { id } }`;
const STATUS = `query($id: ID!) { execution(id: $id) { status } }`;
const CHILDREN = `query($id: ID!, $nodeId: ID, $first: Int, $after: ID) {
  execution(id: $id) { children(nodeId: $nodeId, first: $first, after: $after) { id parentNodeId } } }`;

const manual = { id: 'start', type: 'trigger.manual' };

describe.each(BACKENDS)('Execution.children(nodeId:) on $name', ({ create }) => {
  const { api } = apiPerSuite(create);

  const data = async (query: string, variables: Record<string, unknown>) => {
    const answer = await api.gql(query, variables);
    expect(answer.errors).toBeUndefined();
    return answer.data;
  };
  const children = async (variables: Record<string, unknown>): Promise<Array<{ id: string; parentNodeId: string }>> => (await data(CHILDREN, variables)).execution.children;

  it("lists only the named node's children, paged, and none for a node without children", async () => {
    const child = (await data(CREATE, { input: { name: 'child', nodes: [manual, { id: 'echo', type: 'noop' }], connections: [{ source: 'start', target: 'echo' }] } }))
      .createWorkflow.id;
    const parent = (
      await data(CREATE, {
        input: {
          name: 'a call and a map',
          nodes: [
            manual,
            { id: 'call', type: 'workflow', parameters: { workflowId: child, triggerNodeId: 'start' } },
            { id: 'each', type: 'map', parameters: { items: '{{ trigger.list }}', workflowId: child, triggerNodeId: 'start', concurrency: 1 } },
          ],
          connections: [
            { source: 'start', target: 'call' },
            { source: 'call', target: 'each' },
          ],
        },
      })
    ).createWorkflow.id;
    const id = (await data(START, { workflowId: parent })).startTrigger.id;
    await expect.poll(async () => (await data(STATUS, { id })).execution.status, { timeout: 60_000, interval: 100 }).toBe('COMPLETED');
    await api.caughtUp();

    const all = await children({ id });
    expect(all.map((each) => each.parentNodeId)).toEqual(['call', 'each', 'each', 'each']);
    expect(await children({ id, nodeId: 'call' })).toEqual([all[0]]);
    expect(await children({ id, nodeId: 'each' })).toEqual(all.slice(1));
    // Pages of one node's children: `after` is the last child of the page before.
    const first = await children({ id, nodeId: 'each', first: 2 });
    expect(first).toEqual(all.slice(1, 3));
    expect(await children({ id, nodeId: 'each', first: 2, after: first[1]!.id })).toEqual(all.slice(3));
    expect(await children({ id, nodeId: 'start' })).toEqual([]);
    expect(await children({ id, nodeId: 'nothing' })).toEqual([]);
    // The bound still holds with a node.
    const refused = await api.gql(CHILDREN, { id, nodeId: 'each', first: 101 });
    expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  }, 120_000);
});
