import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { apiPerTest, type Api } from '../api/apiHarness.js';
import { BACKENDS } from '../support/backends.js';
import { poll } from '../support/serverProcess.js';
import type { NodeJobsNotice } from '../../src/api/live/nodeJobFeed.js';
import { killWorkers, launchWorker, prepareWorkerProgram, type WorkerProcess } from './workerProgram.js';

/** Upper bounds only: every wait ends as soon as its state or event is there. */
const DEADLINE_MS = 120_000;
const postgres = BACKENDS.find((each) => each.name === 'postgres')!.create;

describe('idle workers of one queue (cascade/worker, in their own processes)', () => {
  const start = apiPerTest(DEADLINE_MS);
  let program: Awaited<ReturnType<typeof prepareWorkerProgram>>;
  let workers: WorkerProcess[] = [];

  beforeAll(async () => {
    program = await prepareWorkerProgram();
  }, 300_000);

  afterEach(async () => {
    await killWorkers(workers);
    workers = [];
  });

  afterAll(async () => {
    await program?.dispose();
  });

  /** A WORKER key named `worker of <queue>`, and a way to run `start -> work` (an external node on the queue) to its end. */
  async function queueWithWorkflow(api: Api, queue: string) {
    const key = await api.createKey({ name: `worker of ${queue}`, roles: ['WORKER'], queues: [queue], canViewPayloads: true });
    const input = {
      name: `work on ${queue}`,
      nodes: [
        { id: 'start', type: 'trigger.manual' },
        { id: 'work', type: 'external', parameters: { queue } },
      ],
      connections: [{ source: 'start', target: 'work' }],
    };
    const created = await api.gql<{ createWorkflow: { id: string } }>('mutation ($input: WorkflowInput!) { createWorkflow(input: $input) { id } }', { input });
    const run = async (n: number) => {
      const started = await api.gql<{ startTrigger: { id: string } }>(
        'mutation ($id: ID!, $data: JSON) { startTrigger(workflowId: $id, triggerNodeId: "start", data: $data) { id } }',
        {
          id: created.data!.createWorkflow.id,
          data: { n },
        },
      );
      const executionId = started.data!.startTrigger.id;
      const done = (state: { status: string } | null) => state !== null && !['QUEUED', 'RUNNING', 'PAUSED'].includes(state.status);
      return (await poll(() => api.engine.executions.load(executionId), done, DEADLINE_MS, 50, `execution ${executionId} to end`))!;
    };
    return { key, run };
  }

  const listening = (each: WorkerProcess) => each.line((line) => line.event === 'listening', 'listening');

  it('wakes one of eight idle workers per job, the one told least recently: one claimNodes call per job', { timeout: DEADLINE_MS * 2 }, async () => {
    // Jobs told of are never offered again within the test: every claim comes from the one worker told.
    const api = await start(postgres, { nodeJobs: { reofferMs: 3_600_000 } });
    const { key, run } = await queueWithWorkflow(api, 'herd');
    // Room for two: a claim answering one job has emptied the queue, so no claim follows it.
    for (let n = 0; n < 8; n++) workers.push(launchWorker(program.dir, { url: api.url, key, queue: 'herd', name: `W${n}`, mode: 'echo', concurrency: 2 }));
    await Promise.all(workers.map(listening));
    const jobs = 4;
    for (let n = 1; n <= jobs; n++) expect((await run(n)).status).toBe('COMPLETED');
    const claimedBy = workers.flatMap((each) => each.lines.filter((line) => line.event === 'claimed').map((line) => line.worker));
    expect(claimedBy).toHaveLength(jobs);
    // Round the workers: none is told twice while another has not been told yet.
    expect(new Set(claimedBy).size).toBe(jobs);
    // The audit log has every claimNodes call, an empty answer too (before: every worker called it for every job).
    await api.auth.audit.flushed();
    const { rows } = await api.db.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_log WHERE action = 'claimNodes' AND actor = 'worker of herd'");
    expect(rows[0]!.n).toBe(jobs);
  });

  it('offers a job to another worker when the subscriber told of it does not claim', { timeout: DEADLINE_MS * 2 }, async () => {
    const api = await start(postgres, { nodeJobs: { reofferMs: 200 } });
    const { key, run } = await queueWithWorkflow(api, 'deaf');
    // Subscribed first, never told of work yet: the first to be told. It never claims.
    const deaf: NodeJobsNotice[] = [];
    await new Promise<void>((resolve) =>
      api.wsClient(key).subscribe<{ nodeJobs: NodeJobsNotice }>(
        { query: 'subscription { nodeJobs(queue: "deaf") { kind queue available executionId nodeId attempt } }' },
        {
          next: ({ data }) => {
            deaf.push(data!.nodeJobs);
            resolve();
          },
          error: () => {},
          complete: () => {},
        },
      ),
    );
    const a = launchWorker(program.dir, { url: api.url, key, queue: 'deaf', name: 'A', mode: 'echo' });
    workers.push(a);
    await listening(a);
    const state = await run(3);
    expect(state.status).toBe('COMPLETED');
    expect(state.nodes.get('work')).toMatchObject({ attempt: 1, output: { doubled: 6, by: 'A' } });
    expect(deaf.filter((notice) => notice.available)).not.toHaveLength(0);
  });
});
