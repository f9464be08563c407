import { describe, expect, it } from 'vitest';
import { apiPerTest, type Api } from '../api/apiHarness.js';
import { BACKENDS } from '../support/backends.js';
import type { NodeJobsNotice as Notice } from '../../src/api/live/nodeJobFeed.js';

const TIMEOUT_MS = 60_000;

const NODE_JOBS = 'subscription ($queue: String!) { nodeJobs(queue: $queue) { kind queue available executionId nodeId attempt } }';

/** Every notice of one nodeJobs subscription, and a way to wait for the next that matches. */
function notices(api: Api, key: string, queue: string) {
  const seen: Notice[] = [];
  const waiters: Array<{ match: (notice: Notice) => boolean; resolve: (notice: Notice) => void }> = [];
  api.wsClient(key).subscribe<{ nodeJobs: Notice }>(
    { query: NODE_JOBS, variables: { queue } },
    {
      next: ({ data }) => {
        seen.push(data!.nodeJobs);
        for (const waiter of waiters.filter((each) => each.match(data!.nodeJobs))) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(data!.nodeJobs);
        }
      },
      error: () => {},
      complete: () => {},
    },
  );
  return {
    seen,
    /** The first notice from `from` on that matches. */
    next: (match: (notice: Notice) => boolean, from = 0): Promise<Notice> => {
      const already = seen.slice(from).find(match);
      return already ? Promise.resolve(already) : new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}

describe.each(BACKENDS)('the nodeJobs subscription on $name', ({ create }) => {
  const start = apiPerTest(TIMEOUT_MS);

  async function setUp(api: Api, retry?: Record<string, number>) {
    const key = await api.createKey({ name: 'worker', roles: ['WORKER'], queues: ['jobs'] });
    const input = {
      name: 'one external node',
      nodes: [
        { id: 'start', type: 'trigger.manual' },
        { id: 'work', type: 'external', parameters: { queue: 'jobs' }, ...(retry ? { retry } : {}) },
      ],
      connections: [{ source: 'start', target: 'work' }],
    };
    const created = await api.gql<{ createWorkflow: { id: string } }>('mutation ($input: WorkflowInput!) { createWorkflow(input: $input) { id } }', { input });
    const run = async () =>
      (
        await api.gql<{ startTrigger: { id: string } }>('mutation ($id: ID!) { startTrigger(workflowId: $id, triggerNodeId: "start") { id } }', {
          id: created.data!.createWorkflow.id,
        })
      ).data!.startTrigger.id;
    const claim = async () =>
      (
        await api.gql<{ claimNodes: Array<{ executionId: string; attempt: number }> }>(
          'mutation { claimNodes(queue: "jobs", workerId: "w", max: 10) { executionId attempt } }',
          {},
          key,
        )
      ).data!.claimNodes;
    return { key, run, claim };
  }

  it('says at once whether the queue has work, then AVAILABLE when a job is offered, and ATTEMPT_ENDED when a claimed one is cancelled', { timeout: TIMEOUT_MS }, async () => {
    const api = await start(create);
    const { key, run, claim } = await setUp(api);
    const feed = notices(api, key, 'jobs');
    expect(await feed.next(() => true)).toMatchObject({ kind: 'AVAILABLE', queue: 'jobs', available: false });
    const executionId = await run();
    await feed.next((notice) => notice.available, 1);
    expect(await claim()).toEqual([{ executionId, attempt: 1 }]);
    await api.gql('mutation ($id: ID!) { cancelExecution(id: $id) { status } }', { id: executionId });
    expect(await feed.next((notice) => notice.kind === 'ATTEMPT_ENDED')).toEqual({
      kind: 'ATTEMPT_ENDED',
      queue: 'jobs',
      available: false,
      executionId,
      nodeId: 'work',
      attempt: 1,
    });
  });

  it('tells a worker that subscribes later of work already waiting, and of a retry once its backoff is over', { timeout: TIMEOUT_MS }, async () => {
    const api = await start(create);
    const { key, run, claim } = await setUp(api, { maxAttempts: 2, initialDelayMs: 300 });
    const executionId = await run();
    await notices(api, key, 'jobs').next((notice) => notice.available);
    // The job is offered now: a worker subscribing from here on hears of it in its first notice.
    const feed = notices(api, key, 'jobs');
    expect(await feed.next(() => true)).toMatchObject({ kind: 'AVAILABLE', available: true });
    expect(await claim()).toEqual([{ executionId, attempt: 1 }]);
    const from = feed.seen.length;
    await api.gql('mutation ($id: ID!) { failNode(executionId: $id, nodeId: "work", error: "try again", attempt: 1) { status } }', { id: executionId }, key);
    // Offered for 300 ms from now: the notice comes when it can be claimed.
    await feed.next((notice) => notice.available, from);
    expect(await claim()).toEqual([{ executionId, attempt: 2 }]);
  });

  it('answers a claimed job as unknown to a key of another queue, whatever it calls', { timeout: TIMEOUT_MS }, async () => {
    const api = await start(create);
    const { key, run, claim } = await setUp(api);
    const stranger = await api.createKey({ name: 'stranger', roles: ['WORKER'], queues: ['other'] });
    const feed = notices(api, key, 'jobs');
    await feed.next(() => true);
    const executionId = await run();
    await feed.next((notice) => notice.available);
    expect(await claim()).toEqual([{ executionId, attempt: 1 }]);
    for (const call of [
      'completeNode(executionId: $id, nodeId: "work", output: 1, attempt: 1)',
      'failNode(executionId: $id, nodeId: "work", error: "no", attempt: 1)',
      'reportNodeProgress(executionId: $id, nodeId: "work", progress: 50, attempt: 1)',
      'releaseNode(executionId: $id, nodeId: "work", attempt: 1)',
    ]) {
      const answer = await api.gql(`mutation ($id: ID!) { ${call} { status } }`, { id: executionId }, stranger);
      expect(answer.errors?.[0]?.extensions.code, call).toBe('NOT_FOUND');
    }
    expect((await api.engine.executions.load(executionId))!.nodes.get('work')).toMatchObject({ status: 'RUNNING', attempt: 1, progress: 0 });
  });

  it('refuses a key of another queue and a key without the WORKER role', { timeout: TIMEOUT_MS }, async () => {
    const api = await start(create);
    const { key } = await setUp(api);
    const viewer = await api.createKey({ name: 'viewer', roles: ['VIEWER'] });
    for (const [who, queue] of [
      [key, 'elsewhere'],
      [viewer, 'jobs'],
    ] as const) {
      const errors = await new Promise<unknown>((resolve) =>
        api.wsClient(who).subscribe({ query: NODE_JOBS, variables: { queue } }, { next: ({ errors }) => resolve(errors), error: resolve, complete: () => {} }),
      );
      expect(errors).toEqual([expect.objectContaining({ extensions: { code: 'FORBIDDEN' } })]);
    }
  });
});
