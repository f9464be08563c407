import { describe, expect, it } from 'vitest';
import { BACKENDS } from '../support/backends.js';
import { apiPerSuite } from './apiHarness.js';

const CREATE = `mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id } }`;
const START = `mutation($workflowId: ID!, $data: JSON = { list: [1, 2, 3] }) { startTrigger(workflowId: $workflowId, triggerNodeId: "start", data: $data) { id } }`;
const STATUS = `query($id: ID!) { execution(id: $id) { status } }`;
const CHILDREN = `query($id: ID!, $nodeId: ID, $first: Int, $after: ID) {
  execution(id: $id) { children(nodeId: $nodeId, first: $first, after: $after) { id parentNodeId } } }`;

const ITEMS = `query($id: ID!, $nodeId: ID, $first: Int, $after: ID) {
  execution(id: $id) { itemIndex children(nodeId: $nodeId, first: $first, after: $after) { id itemIndex nodeStates { nodeId output } } } }`;
const ITEM_OF = `query($id: ID!) { execution(id: $id) { itemIndex parentNodeId } }`;

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

  it("gives each child of a map its item index, lists them in item order, and a workflow node's child none", async () => {
    const child = (await data(CREATE, { input: { name: 'item', nodes: [manual, { id: 'echo', type: 'noop' }], connections: [{ source: 'start', target: 'echo' }] } }))
      .createWorkflow.id;
    const parent = (
      await data(CREATE, {
        input: {
          name: 'a map of five and a call',
          nodes: [
            manual,
            // All five at once: they start side by side, in no set order.
            { id: 'each', type: 'map', parameters: { items: '{{ trigger.list }}', workflowId: child, triggerNodeId: 'start', concurrency: 5 } },
            { id: 'call', type: 'workflow', parameters: { workflowId: child, triggerNodeId: 'start' } },
          ],
          connections: [
            { source: 'start', target: 'each' },
            { source: 'start', target: 'call' },
          ],
        },
      })
    ).createWorkflow.id;
    const list = ['a', 'b', 'c', 'd', 'e'];
    const id = (await data(START, { workflowId: parent, data: { list } })).startTrigger.id;
    await expect.poll(async () => (await data(STATUS, { id })).execution.status, { timeout: 60_000, interval: 100 }).toBe('COMPLETED');
    await api.caughtUp();

    type Item = { id: string; itemIndex: number | null; nodeStates: Array<{ nodeId: string; output: unknown }> };
    const items = async (variables: Record<string, unknown>): Promise<Item[]> => (await data(ITEMS, { id, ...variables })).execution.children;
    const mapped = await items({ nodeId: 'each' });
    expect(mapped.map((each) => each.itemIndex)).toEqual([0, 1, 2, 3, 4]);
    // Each is the child that ran that item: its trigger data is { item, index }.
    expect(mapped.map((each) => each.nodeStates.find((node) => node.nodeId === 'echo')?.output)).toEqual(list.map((item, index) => ({ start: { item, index } })));
    // Pages keep the item order.
    const firstPage = await items({ nodeId: 'each', first: 3 });
    expect([...firstPage, ...(await items({ nodeId: 'each', first: 3, after: firstPage[2]!.id }))]).toEqual(mapped);
    // The child's own record says so too.
    expect((await data(ITEM_OF, { id: mapped[3]!.id })).execution).toEqual({ itemIndex: 3, parentNodeId: 'each' });

    const [called] = await items({ nodeId: 'call' });
    expect(called?.itemIndex).toBeNull();
    expect((await data(ITEMS, { id })).execution.itemIndex).toBeNull();
  }, 120_000);
});
