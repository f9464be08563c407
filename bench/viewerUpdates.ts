/**
 * `npm run bench:viewer`: the viewer with a 1,000-node execution running, in Debian's chromium.
 * 111 parallel chains of 9 delays (and the trigger): about a hundred nodes change state at a time.
 * The execution is paused while the page lays out the DAG, then resumed; the page's own timings
 * (window.cascadeViewerStats: DOM writes per animation frame) and the browser's long tasks during
 * the live run are printed as JSON. Figures depend on the machine: compare runs on the same one.
 */
import { buildViewer } from '../scripts/buildViewer.mjs';
import { createTestDatabase } from '../tests/support/testDatabase.js';
import { launchChromium, signIn } from '../tests/support/browser.js';
import { freePort, launchServer, poll } from '../tests/support/serverProcess.js';

const CHAINS = 111;
const CHAIN_LENGTH = 9;
const DELAY_MS = Number(process.env.BENCH_VIEWER_DELAY_MS ?? 400);

function workflow() {
  const nodes: Array<{ id: string; type: string; parameters?: unknown }> = [{ id: 'start', type: 'trigger.manual' }];
  const connections: Array<{ source: string; target: string }> = [];
  for (let chain = 0; chain < CHAINS; chain++) {
    for (let step = 0; step < CHAIN_LENGTH; step++) {
      const id = `c${chain}s${step}`;
      nodes.push({ id, type: 'delay', parameters: { ms: DELAY_MS } });
      connections.push({ source: step === 0 ? 'start' : `c${chain}s${step - 1}`, target: id });
    }
  }
  return { name: `viewer bench: ${nodes.length} nodes`, nodes, connections };
}

async function main(): Promise<void> {
  await buildViewer();
  const database = await createTestDatabase();
  const server = await launchServer({ DATABASE_URL: database.url, PORT: String(await freePort()) });
  const chromium = await launchChromium();
  try {
    const { createWorkflow } = await server.gql('mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id } }', { input: workflow() });
    const { startTrigger } = await server.gql('mutation($id: ID!) { startTrigger(workflowId: $id, triggerNodeId: "start") { id } }', { id: createWorkflow.id });
    await server.gql('mutation($id: ID!) { pauseExecution(id: $id) { id } }', { id: startTrigger.id });
    const page = await chromium.context.newPage();
    const opened = Date.now();
    await signIn(page, `${server.url}/executions/${startTrigger.id}`);
    await page.locator(`[data-node-id="c${CHAINS - 1}s${CHAIN_LENGTH - 1}"]`).waitFor({ timeout: 300_000 });
    const firstPaintMs = Date.now() - opened;
    await page.evaluate(() => {
      const tasks: number[] = [];
      (window as unknown as { longTasks: number[] }).longTasks = tasks;
      new PerformanceObserver((list) => list.getEntries().forEach((entry) => tasks.push(entry.duration))).observe({ type: 'longtask' });
    });
    await server.gql('mutation($id: ID!) { resumeExecution(id: $id) { id } }', { id: startTrigger.id });
    const resumed = Date.now();
    await poll(
      () => page.locator('[data-execution-status]').getAttribute('data-execution-status'),
      (status) => status === 'COMPLETED',
      600_000,
      250,
      'the page to show COMPLETED',
    );
    const liveMs = Date.now() - resumed;
    const measured = await page.evaluate(() => ({ stats: window.cascadeViewerStats!, longTasks: (window as unknown as { longTasks: number[] }).longTasks }));
    const { stats, longTasks } = measured;
    const completed = await page.locator('[data-status="COMPLETED"]').count();
    console.log(
      JSON.stringify(
        {
          nodes: 1 + CHAINS * CHAIN_LENGTH,
          completedOnPage: completed,
          pageReadyMs: firstPaintMs,
          liveRunMs: liveMs,
          frames: stats.frames,
          nodeUpdatesApplied: stats.nodesApplied,
          applyMsMean: +(stats.totalApplyMs / Math.max(stats.frames, 1)).toFixed(3),
          applyMsMax: +stats.maxApplyMs.toFixed(3),
          frameMsMax: +stats.maxFrameMs.toFixed(1),
          longTasksDuringRun: longTasks.length,
          longestTaskMs: longTasks.length ? Math.max(...longTasks) : 0,
        },
        null,
        2,
      ),
    );
  } finally {
    await chromium.close();
    server.child.kill('SIGKILL');
    await server.exited;
    await database.drop();
  }
}

await main();
