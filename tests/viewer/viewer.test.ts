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
const STATUS = `query($id: ID!) { execution(id: $id) { status } }`;

/** A trigger and a chain of delays: long enough to see it run and to pause it midway. */
const delays = (count: number, ms: number) => ({
  name: 'delays',
  nodes: [{ id: 'start', type: 'trigger.manual' }, ...Array.from({ length: count }, (_, index) => ({ id: `wait${index + 1}`, type: 'delay', parameters: { ms } }))],
  connections: Array.from({ length: count }, (_, index) => ({ source: index === 0 ? 'start' : `wait${index}`, target: `wait${index + 1}` })),
});

/** Two short delays, then wait3 waits until the test signals it: the page sees it wait however slow it is to load. */
const delaysThenSignal = () => {
  const chain = delays(3, 300);
  return { ...chain, nodes: chain.nodes.map((node) => (node.id === 'wait3' ? { id: 'wait3', type: 'wait', parameters: {} } : node)) };
};
const SIGNAL = `mutation($id: ID!) { signalNode(executionId: $id, nodeId: "wait3", data: { signalled: true }) { status } }`;

/** Fails its first attempt, so that the execution fails and a Retry succeeds. */
const failsOnce = {
  name: 'fails once',
  nodes: [
    { id: 'start', type: 'trigger.manual' },
    { id: 'flaky', type: 'fail', parameters: { message: 'first time', failTimes: 1 } },
    { id: 'after', type: 'noop' },
  ],
  connections: [
    { source: 'start', target: 'flaky' },
    { source: 'flaky', target: 'after' },
  ],
};

const nodeStatus = (page: Page, nodeId: string) => page.locator(`[data-node-id="${nodeId}"]`).getAttribute('data-status');
const executionStatus = (page: Page) => page.locator('[data-execution-status]').getAttribute('data-execution-status');

describe('the execution viewer in Chromium against a server process', () => {
  let stack: ViewerStack;
  let server: ServerProcess;
  let chromium: TestBrowser;

  beforeAll(async () => {
    stack = await startViewerStack();
    ({ server, chromium } = stack);
  }, 180_000);
  afterAll(() => stack?.close());

  const workflow = async (input: unknown): Promise<string> => (await server.gql(CREATE, { input })).createWorkflow.id;
  const openPage = async (path: string): Promise<Page> => {
    const page = await chromium.context.newPage();
    await signIn(page, `${server.url}${path}`);
    return page;
  };

  it('serves the page at / and every deep link, with no CDN', async () => {
    for (const path of ['/', '/workflows', '/workflows/x', '/executions', '/executions/x']) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status).toBe(200);
      const html = await response.text();
      expect(html).toContain('/viewer/app.js');
      expect(html).not.toMatch(/https?:\/\//);
    }
    expect((await fetch(`${server.url}/viewer/app.js`)).headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${server.url}/viewer/nothing.js`)).status).toBe(404);
  });

  it(
    'signs in, starts an execution from the workflow page and shows it live until it completes',
    async () => {
      const id = await workflow(delaysThenSignal());
      const page = await openPage(`/workflows/${id}`);
      expect(await page.evaluate(() => sessionStorage.getItem('cascade.apiKey'))).toBe('test-key');
      await page.locator('[data-node-id="wait3"]').waitFor();
      await page.locator('textarea[name="data"]').fill('{ "order": 7 }');
      await page.getByRole('button', { name: 'Start' }).click();
      await page.waitForURL(/\/executions\/[^/]+$/, { timeout: WAIT_MS });
      const executionId = page.url().split('/').pop()!;

      // Seen on the page, without a reload: the last node waits, then completes once signalled.
      await expect.poll(() => nodeStatus(page, 'wait3'), { timeout: WAIT_MS }).toBe('RUNNING');
      expect(await executionStatus(page)).toBe('RUNNING');
      expect((await server.gql(SIGNAL, { id: executionId })).signalNode.status).toBe('COMPLETED');
      await expect.poll(() => nodeStatus(page, 'wait3'), { timeout: WAIT_MS }).toBe('COMPLETED');
      await expect.poll(() => executionStatus(page), { timeout: WAIT_MS }).toBe('COMPLETED');
      await expect.poll(() => page.getByRole('progressbar').getAttribute('aria-valuenow'), { timeout: WAIT_MS }).toBe('100');
      expect((await server.gql(STATUS, { id: executionId })).execution.status).toBe('COMPLETED');

      // The time slider: after the second event (ExecutionStarted, then the trigger queued) nothing has completed.
      await expect.poll(() => page.locator('.event-log .event-row[data-event-number]').count(), { timeout: WAIT_MS }).toBeGreaterThan(5);
      await page.locator('input[type="range"][name="event"]').fill('2');
      await expect.poll(() => nodeStatus(page, 'wait3'), { timeout: WAIT_MS }).not.toBe('COMPLETED');
      expect(await executionStatus(page)).not.toBe('COMPLETED');
      await page.getByRole('button', { name: 'Back to live' }).click();
      await expect.poll(() => nodeStatus(page, 'wait3'), { timeout: WAIT_MS }).toBe('COMPLETED');

      // Gantt bars for the attempts, and the inspector with the node's input and causation.
      // The bars come from the event log, which the page fetches apart from the live updates.
      await expect.poll(() => page.locator('.gantt-bar[data-outcome="COMPLETED"]').count(), { timeout: WAIT_MS }).toBeGreaterThanOrEqual(3);
      await page.locator('[data-node-id="wait1"]').click();
      await expect.poll(() => page.locator('.inspector').textContent(), { timeout: WAIT_MS }).toContain('"order": 7');
      await page.close();
    },
    TEST_MS,
  );

  it(
    'pauses and resumes an execution from the buttons',
    async () => {
      const id = await workflow(delays(8, 2000));
      const { startTrigger } = await server.gql(START, { id });
      const page = await openPage(`/executions/${startTrigger.id}`);
      await page.getByRole('button', { name: 'Pause' }).click();
      await expect.poll(() => executionStatus(page), { timeout: WAIT_MS }).toBe('PAUSED');
      expect((await server.gql(STATUS, { id: startTrigger.id })).execution.status).toBe('PAUSED');
      await page.getByRole('button', { name: 'Resume' }).click();
      await expect.poll(() => executionStatus(page), { timeout: WAIT_MS }).not.toBe('PAUSED');
      await expect.poll(() => executionStatus(page), { timeout: WAIT_MS }).toBe('COMPLETED');
      await page.close();
    },
    TEST_MS,
  );

  it(
    'retries a failed node, and reruns from a node with an edited input',
    async () => {
      const id = await workflow(failsOnce);
      const { startTrigger } = await server.gql(START, { id, data: { n: 1 } });
      const page = await openPage(`/executions/${startTrigger.id}`);
      await expect.poll(() => executionStatus(page), { timeout: WAIT_MS }).toBe('FAILED');
      expect(await nodeStatus(page, 'flaky')).toBe('FAILED');
      await page.locator('[data-node-id="flaky"]').click();
      await expect.poll(() => page.locator('.inspector').textContent(), { timeout: WAIT_MS }).toContain('first time');
      await page.getByRole('button', { name: 'Retry' }).click();
      await expect.poll(() => nodeStatus(page, 'after'), { timeout: WAIT_MS }).toBe('COMPLETED');
      await expect.poll(() => executionStatus(page), { timeout: WAIT_MS }).toBe('COMPLETED');

      // A slow answer for the newly selected node: until it comes, the previous node's controls
      // must be gone, or the edited input would rerun from flaky instead of after.
      await page.route('**/graphql', async (route) => {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        await route.continue();
      });
      await page.locator('[data-node-id="after"]').click();
      expect(await page.locator('textarea[name="rerunInput"]').count()).toBe(0);
      await page.locator('textarea[name="rerunInput"]').waitFor();
      await page.unroute('**/graphql');
      await page.locator('textarea[name="rerunInput"]').fill('{ "flaky": { "edited": true } }');
      await page.getByRole('button', { name: 'Rerun' }).click();
      await page.waitForURL((url) => url.pathname.startsWith('/executions/') && !url.pathname.endsWith(startTrigger.id), { timeout: WAIT_MS });
      const rerunId = page.url().split('/').pop()!;
      await expect.poll(() => executionStatus(page), { timeout: WAIT_MS }).toBe('COMPLETED');
      const { execution } = await server.gql(`query($id: ID!) { execution(id: $id) { rerunOf nodeStates { nodeId input } } }`, { id: rerunId });
      expect(execution.rerunOf).toBe(startTrigger.id);
      expect(execution.nodeStates.find((node: any) => node.nodeId === 'after').input).toEqual({ flaky: { edited: true } });
      await page.close();
    },
    TEST_MS,
  );

  it(
    'lists executions live, filtered by status',
    async () => {
      const id = await workflow(delays(1, 10));
      const { startTrigger } = await server.gql(START, { id });
      const page = await openPage('/executions');
      await page.locator('select[name="status"]').selectOption('COMPLETED');
      await expect.poll(() => page.locator(`tr[data-id="${startTrigger.id}"]`).count(), { timeout: WAIT_MS }).toBe(1);
      await page.locator('select[name="status"]').selectOption('FAILED');
      await expect.poll(() => page.locator(`tr[data-id="${startTrigger.id}"]`).count(), { timeout: WAIT_MS }).toBe(0);
      await page.close();
    },
    TEST_MS,
  );

  it(
    'refuses bad JSON in the start form with a clear message',
    async () => {
      const id = await workflow(delays(1, 10));
      const page = await openPage(`/workflows/${id}`);
      await page.locator('textarea[name="data"]').fill('{ nope');
      await page.getByRole('button', { name: 'Start' }).click();
      await expect.poll(() => page.locator('.start-form [role="alert"]').textContent(), { timeout: WAIT_MS }).toContain('not valid JSON');
      await page.close();
    },
    TEST_MS,
  );
});
