/**
 * `npm run screenshots`: the viewer's main pages as PNG files under docs/, taken in the same
 * Debian chromium the browser tests use, against a server process on a throwaway embedded
 * database (no PostgreSQL needed). The README shows them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromium, signIn } from '../tests/support/browser.js';
import { freePort, launchServer, poll } from '../tests/support/serverProcess.js';

const DOCS = new URL('../docs/', import.meta.url).pathname;

/** The README's example workflow, with delays so that a screenshot catches it running. */
const ORDER_PIPELINE = {
  name: 'order pipeline',
  nodes: [
    { id: 'start', type: 'trigger.manual' },
    { id: 'price', type: 'transform', parameters: { mapping: 'trigger.quantity * trigger.unitPrice' } },
    { id: 'audit', type: 'delay', parameters: { ms: 6000 } },
    { id: 'big', type: 'if', parameters: { condition: 'input.price > 100' } },
    { id: 'approve', type: 'delay', parameters: { ms: 6000 } },
    { id: 'ship', type: 'transform', parameters: { mapping: "{ 'approval': 'auto', 'total': input.big.price }" } },
    { id: 'done', type: 'merge', triggerRule: 'ONE_SUCCESS' },
  ],
  connections: [
    { source: 'start', target: 'price' },
    { source: 'start', target: 'audit' },
    { source: 'price', target: 'big' },
    { source: 'big', target: 'approve', sourceOutput: 'true' },
    { source: 'big', target: 'ship', sourceOutput: 'false' },
    { source: 'approve', target: 'done' },
    { source: 'ship', target: 'done' },
    { source: 'audit', target: 'done' },
  ],
};

const snap = (page: Page, name: string) => page.screenshot({ path: `${DOCS}${name}.png`, fullPage: true });

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'cascade-screenshots-'));
  const server = await launchServer({ DATA_DIR: dataDir, PORT: String(await freePort()) });
  const chromium = await launchChromium();
  try {
    const { createWorkflow } = await server.gql<{ createWorkflow: { id: string } }>('mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id } }', {
      input: ORDER_PIPELINE,
    });
    const start = (data: unknown) =>
      server.gql<{ startTrigger: { id: string } }>('mutation($id: ID!, $data: JSON) { startTrigger(workflowId: $id, triggerNodeId: "start", data: $data) { id } }', {
        id: createWorkflow.id,
        data,
      });
    const finished = await start({ quantity: 1, unitPrice: 20 });
    const page = await chromium.context.newPage();
    await page.goto(server.url);
    await page.locator('input[name="apiKey"]').waitFor();
    await snap(page, 'viewer-sign-in');
    await signIn(page, `${server.url}/workflows`);
    await page.locator('table').waitFor();
    await snap(page, 'viewer-workflows');
    await page.goto(`${server.url}/workflows/${createWorkflow.id}`);
    await page.locator('[data-node-id="done"]').waitFor();
    await page.locator('textarea[name="data"]').fill('{ "quantity": 3, "unitPrice": 40 }');
    await snap(page, 'viewer-workflow');
    await page.getByRole('button', { name: 'Start' }).click();
    await page.waitForURL(/\/executions\/[^/]+$/);
    await page.locator('[data-node-id="approve"][data-status="RUNNING"]').waitFor({ timeout: 60_000 });
    await snap(page, 'viewer-execution-running');
    await page.goto(`${server.url}/executions/${finished.startTrigger.id}`);
    await poll(
      () => page.locator('[data-execution-status]').getAttribute('data-execution-status'),
      (status) => status === 'COMPLETED',
      60_000,
    );
    await page.locator('[data-node-id="ship"]').click();
    await page.locator('.inspector h2').waitFor();
    await snap(page, 'viewer-execution-inspector');
    await page.goto(`${server.url}/executions`);
    await page.locator('tr[data-id]').first().waitFor();
    await snap(page, 'viewer-executions');
    console.log(`screenshots written to ${DOCS}`);
  } finally {
    await chromium.close();
    server.child.kill('SIGKILL');
    await server.exited;
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
