import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { signIn, type TestBrowser } from '../support/browser.js';
import type { ServerProcess } from '../support/serverProcess.js';
import { startViewerStack, type ViewerStack } from '../support/viewerStack.js';

/** Generous: a busy 2-core machine shared with other builds, a browser and a server process. */
const WAIT_MS = 90_000;
const TEST_MS = 240_000;

const CREATE = `mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id } }`;
const START = `mutation($id: ID!, $data: JSON) { startTrigger(workflowId: $id, triggerNodeId: "start", data: $data) { id } }`;
const CHILDREN = `query($id: ID!) { execution(id: $id) { children(nodeId: "each") { id itemIndex } } }`;

const manual = { id: 'start', type: 'trigger.manual' };
/** The per-item workflow: a trigger and a no-op. */
const perItem = { name: 'per item', nodes: [manual, { id: 'echo', type: 'noop' }], connections: [{ source: 'start', target: 'echo' }] };
const mapOver = (workflowId: string) => ({
  name: 'map over the list',
  nodes: [manual, { id: 'each', type: 'map', parameters: { items: '{{ trigger.list }}', workflowId, triggerNodeId: 'start', concurrency: 20 } }],
  connections: [{ source: 'start', target: 'each' }],
});

const executionStatus = (page: Page) => page.locator('[data-execution-status]').getAttribute('data-execution-status');
const childRows = (page: Page) => page.locator('.inspector [data-child-id]');

describe("the viewer shows a map node's children and links both ways, in Chromium against a server process", () => {
  let stack: ViewerStack;
  let server: ServerProcess;
  let chromium: TestBrowser;
  let mapWorkflow: string;

  beforeAll(async () => {
    stack = await startViewerStack();
    ({ server, chromium } = stack);
    const child = (await server.gql(CREATE, { input: perItem })).createWorkflow.id;
    mapWorkflow = (await server.gql(CREATE, { input: mapOver(child) })).createWorkflow.id;
  }, 180_000);
  afterAll(() => stack?.close());

  /** A finished map over `count` items, its page open and its map node inspected. */
  const inspectedMap = async (count: number): Promise<{ page: Page; parentId: string }> => {
    const parentId = (await server.gql(START, { id: mapWorkflow, data: { list: Array.from({ length: count }, (_, index) => index) } })).startTrigger.id;
    const page = await chromium.context.newPage();
    await signIn(page, `${server.url}/executions/${parentId}`);
    await expect.poll(() => executionStatus(page), { timeout: WAIT_MS }).toBe('COMPLETED');
    await page.locator('[data-node-id="each"]').click();
    return { page, parentId };
  };

  it(
    "lists the map's 3 children with links, each with its item; a child's page links back to the parent and names its item",
    async () => {
      const { page, parentId } = await inspectedMap(3);
      await expect.poll(() => childRows(page).count(), { timeout: WAIT_MS }).toBe(3);
      const listed = await childRows(page).evaluateAll((rows) =>
        rows.map((row) => [row.getAttribute('data-child-id'), row.getAttribute('data-child-status'), row.querySelector('.child-item')?.textContent?.trim()]),
      );
      const answered: Array<{ id: string; itemIndex: number }> = (await server.gql(CHILDREN, { id: parentId })).execution.children;
      expect(answered.map((child) => child.itemIndex)).toEqual([0, 1, 2]);
      const expected = answered.map((child) => [child.id, 'COMPLETED', `item ${child.itemIndex}`]);
      expect(listed).toEqual(expected);
      expect(await page.locator('.inspector').getByRole('button', { name: 'More' }).isHidden()).toBe(true);

      // Clicking a child opens its page, which says whose child it is and links back.
      const second = answered[1]!.id;
      await childRows(page).nth(1).getByRole('link').click();
      await page.waitForURL((url) => url.pathname === `/executions/${second}`, { timeout: WAIT_MS });
      const back = page.locator(`[data-parent-execution="${parentId}"]`);
      await expect.poll(() => back.textContent(), { timeout: WAIT_MS }).toBe(`child of ${parentId} (node each, item 1)`);
      await expect.poll(() => executionStatus(page), { timeout: WAIT_MS }).toBe('COMPLETED');
      await back.getByRole('link').click();
      await page.waitForURL((url) => url.pathname === `/executions/${parentId}`, { timeout: WAIT_MS });
      await page.locator('[data-node-id="each"]').waitFor();
      expect(await page.locator('[data-parent-execution]').count()).toBe(0);
      await page.close();
    },
    TEST_MS,
  );

  it(
    'pages a map of 101 children: 100, then the last one after More',
    async () => {
      const { page, parentId } = await inspectedMap(101);
      await expect.poll(() => childRows(page).count(), { timeout: WAIT_MS }).toBe(100);
      await page.locator('.inspector').getByRole('button', { name: 'More' }).click();
      await expect.poll(() => childRows(page).count(), { timeout: WAIT_MS }).toBe(101);
      // The first 100 are the API's first page, and the 101st none of them.
      const firstPage = (await server.gql(CHILDREN, { id: parentId })).execution.children.map((child: { id: string }) => child.id);
      const shown = await childRows(page).evaluateAll((rows) => rows.map((row) => row.getAttribute('data-child-id')));
      expect(shown.slice(0, 100)).toEqual(firstPage);
      expect(firstPage).not.toContain(shown[100]);
      await expect.poll(() => page.locator('.inspector').getByRole('button', { name: 'More' }).isHidden(), { timeout: WAIT_MS }).toBe(true);
      await page.close();
    },
    TEST_MS,
  );
});
