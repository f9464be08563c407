import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { collect, startApi, type Api } from '../api/apiHarness.js';
import { BACKENDS, type Backend } from '../support/backends.js';
import { poll } from '../support/serverProcess.js';
import { killWorkers, launchWorker, prepareWorkerProgram, type WorkerLine, type WorkerProcess, type WorkerSettings } from './workerProgram.js';

/** Upper bounds only: every wait ends as soon as its state or event is there. */
const DEADLINE_MS = 60_000;

describe('the worker SDK (cascade/worker), with workers in their own processes', () => {
  let backend: Backend;
  let api: Api;
  let program: Awaited<ReturnType<typeof prepareWorkerProgram>>;
  let workers: WorkerProcess[] = [];
  /** Authentications per key secret: every HTTP request and every socket a worker opens. */
  const requests = new Map<string, number>();
  let queues = 0;

  beforeAll(async () => {
    program = await prepareWorkerProgram();
    backend = await BACKENDS.find((each) => each.name === 'postgres')!.create();
    api = await startApi(backend);
    const { authenticator } = api.auth;
    const authenticate = authenticator.authenticate.bind(authenticator);
    authenticator.authenticate = (header) => {
      if (typeof header === 'string') requests.set(header, (requests.get(header) ?? 0) + 1);
      return authenticate(header);
    };
  }, 300_000);

  afterEach(async () => {
    await killWorkers(workers);
    workers = [];
  });

  afterAll(async () => {
    await api?.close();
    await backend?.dispose();
    await program?.dispose();
  });

  async function gql<T = any>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const answer = await api.gql<T>(query, variables);
    if (!answer.data) throw new Error(`GraphQL errors: ${JSON.stringify(answer.errors)}`);
    return answer.data;
  }

  /** A fresh queue, a WORKER key limited to it, and a workflow `start -> work` (an external node on it). */
  async function queueWithWorkflow(retry?: Record<string, number>) {
    const queue = `q${++queues}`;
    const key = await api.createKey({ name: `worker of ${queue}`, roles: ['WORKER'], queues: [queue], canViewPayloads: true });
    const input = {
      name: `work on ${queue}`,
      nodes: [
        { id: 'start', type: 'trigger.manual' },
        { id: 'work', type: 'external', parameters: { queue }, ...(retry ? { retry } : {}) },
      ],
      connections: [{ source: 'start', target: 'work' }],
    };
    const { createWorkflow } = await gql<{ createWorkflow: { id: string } }>('mutation ($input: WorkflowInput!) { createWorkflow(input: $input) { id } }', { input });
    const start = async (n: number) =>
      (
        await gql<{ startTrigger: { id: string } }>('mutation ($id: ID!, $data: JSON) { startTrigger(workflowId: $id, triggerNodeId: "start", data: $data) { id } }', {
          id: createWorkflow.id,
          data: { n },
        })
      ).startTrigger.id;
    return { queue, key, start };
  }

  function worker(settings: Omit<WorkerSettings, 'url'>): WorkerProcess {
    const launched = launchWorker(program.dir, { url: api.url, ...settings });
    workers.push(launched);
    return launched;
  }

  const listening = (each: WorkerProcess) => each.line((line) => line.event === 'listening', 'listening');
  const about = (executionId: string, event: string) => (line: WorkerLine) => line.executionId === executionId && line.event === event;

  async function settled(executionId: string) {
    return poll(
      () => api.engine.executions.load(executionId),
      (state) => state !== null && !['QUEUED', 'RUNNING', 'PAUSED'].includes(state.status),
      DEADLINE_MS,
      50,
      `execution ${executionId} to end`,
    );
  }

  async function eventTypes(executionId: string): Promise<Array<{ type: string; data: Record<string, unknown> }>> {
    return (
      await gql<{ executionEvents: Array<{ type: string; data: Record<string, unknown> }> }>('query ($id: ID!) { executionEvents(executionId: $id) { type data } }', {
        id: executionId,
      })
    ).executionEvents;
  }

  it('completes a job with what its handler returned', { timeout: DEADLINE_MS * 2 }, async () => {
    const { queue, key, start } = await queueWithWorkflow();
    const a = worker({ key, queue, name: 'A', mode: 'echo' });
    await listening(a);
    const executionId = await start(21);
    const state = (await settled(executionId))!;
    expect(state.status).toBe('COMPLETED');
    expect(state.nodes.get('work')).toMatchObject({ status: 'COMPLETED', attempt: 1, output: { doubled: 42, by: 'A' } });
    await a.line(about(executionId, 'completed'), 'completed');
  });

  it('runs at most `concurrency` jobs at once, and all of them', { timeout: DEADLINE_MS * 2 }, async () => {
    const { queue, key, start } = await queueWithWorkflow();
    const executions = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => start(n)));
    // All six waiting before the worker starts: its first claim fills its room.
    const waiting = async () => Number((await backend.db.query('SELECT count(*) AS n FROM external_jobs WHERE queue = $1', [queue])).rows[0].n);
    await poll(waiting, (n) => n === 6, DEADLINE_MS, 50, 'six jobs on the queue');
    const a = worker({ key, queue, name: 'A', mode: 'slow', concurrency: 2 });
    for (const executionId of executions) expect((await settled(executionId))!.status).toBe('COMPLETED');
    // The worker's own account, in the order it happened: claimed jobs it has not settled yet.
    let running = 0;
    let most = 0;
    for (const line of a.lines) {
      if (line.event === 'claimed') most = Math.max(most, ++running);
      if (line.event === 'completed') running -= 1;
    }
    expect(most).toBe(2);
    expect(a.lines.filter((line) => line.event === 'completed')).toHaveLength(6);
  });

  it('fails the node with the message of a handler that throws', { timeout: DEADLINE_MS * 2 }, async () => {
    const { queue, key, start } = await queueWithWorkflow();
    worker({ key, queue, name: 'A', mode: 'fail' });
    const executionId = await start(1);
    const state = (await settled(executionId))!;
    expect(state.status).toBe('FAILED');
    expect(state.nodes.get('work')).toMatchObject({ status: 'FAILED', error: 'the handler of A failed' });
  });

  it('aborts the signal of a handler whose node is cancelled', { timeout: DEADLINE_MS * 2 }, async () => {
    const { queue, key, start } = await queueWithWorkflow();
    // A lease of a minute: the abort comes from the subscription, not from a renewal being refused.
    const a = worker({ key, queue, name: 'A', mode: 'hold', leaseMs: 60_000 });
    const executionId = await start(1);
    await a.line(about(executionId, 'claimed'), 'the claim');
    await gql('mutation ($id: ID!) { cancelExecution(id: $id) { status } }', { id: executionId });
    const signal = await a.line(about(executionId, 'signal'), 'the signal');
    expect(signal).toMatchObject({ code: 'ATTEMPT_OVER', attempt: 1 });
    expect((await settled(executionId))!.status).toBe('CANCELLED');
    // Nothing was settled after the abort: the cancelled node stays as the cancel left it.
    expect((await eventTypes(executionId)).filter((event) => event.data.nodeId === 'work').map((event) => event.type)).toEqual(['NodeQueued', 'NodeStarted', 'NodeCancelled']);
  });

  it('runs the job again on a second worker when the first is killed with SIGKILL and its lease runs out', { timeout: DEADLINE_MS * 2 }, async () => {
    const { queue, key, start } = await queueWithWorkflow({ maxAttempts: 3, initialDelayMs: 100 });
    // Long enough that A, renewing every second, keeps it until it is killed even on a busy machine.
    const a = worker({ key, queue, name: 'A', mode: 'hold', leaseMs: 3_000 });
    const executionId = await start(5);
    await a.line(about(executionId, 'claimed'), 'the claim');
    const b = worker({ key, queue, name: 'B', mode: 'echo', leaseMs: 1_000 });
    await listening(b);
    a.child.kill('SIGKILL');
    await a.exited;
    const state = (await settled(executionId))!;
    expect(state.status).toBe('COMPLETED');
    expect(state.nodes.get('work')).toMatchObject({ output: { doubled: 10, by: 'B' } });
    // 2, unless a starved A lost a lease before the kill as well and claimed the retry itself.
    expect(state.nodes.get('work')!.attempt).toBeGreaterThanOrEqual(2);
    const retried = (await eventTypes(executionId)).find((event) => event.type === 'NodeRetryScheduled');
    expect(retried?.data).toMatchObject({ attempt: 1, errorCode: 'LEASE_EXPIRED' });
    await b.line(about(executionId, 'completed'), 'completed');
  });

  it('hands running jobs back on stop(), at once, and another worker finishes them', { timeout: DEADLINE_MS * 2 }, async () => {
    const { queue, key, start } = await queueWithWorkflow();
    // Leases of an hour: only the hand-back can give the jobs to B within the test.
    const a = worker({ key, queue, name: 'A', mode: 'hold', concurrency: 2, leaseMs: 3_600_000 });
    const executions = [await start(1), await start(2)];
    for (const executionId of executions) await a.line(about(executionId, 'claimed'), 'the claim');
    const b = worker({ key, queue, name: 'B', mode: 'echo', concurrency: 2 });
    await listening(b);
    a.child.stdin!.write('stop\n');
    await a.line((line) => line.event === 'stopped', 'stopped');
    expect(await a.exited).toBe(0);
    for (const [index, executionId] of executions.entries()) {
      const state = (await settled(executionId))!;
      expect(state.status).toBe('COMPLETED');
      expect(state.nodes.get('work')).toMatchObject({ attempt: 2, failures: 0, output: { doubled: (index + 1) * 2, by: 'B' } });
      expect(a.lines.find(about(executionId, 'signal'))?.code).toBe('STOPPING');
      expect(a.lines.find(about(executionId, 'released'))).toBeDefined();
      const released = (await eventTypes(executionId)).find((event) => event.type === 'NodeReleased');
      expect(released?.data).toMatchObject({ attempt: 1, nextAttempt: 2 });
    }
  });

  it('sends no request while idle, and one claim when a job arrives', { timeout: DEADLINE_MS * 2 }, async () => {
    const { queue, key, start } = await queueWithWorkflow();
    // Room for two: a claim answering one job has emptied the queue, so no claim follows the job.
    // A lease of a minute: no renewal of the job falls between its claim and its completion.
    const a = worker({ key, queue, name: 'A', mode: 'echo', concurrency: 2, leaseMs: 60_000 });
    await listening(a);
    const sent = () => requests.get(`Bearer ${key}`) ?? 0;
    // The socket's connection_init: nothing else yet, an empty queue needs no claim.
    expect(sent()).toBe(1);
    // A worker that polled (for jobs, or to keep anything alive) would send requests in 3 s; a
    // slower machine would only make it send fewer, never more.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(sent()).toBe(1);
    const executionId = await start(4);
    expect((await settled(executionId))!.status).toBe('COMPLETED');
    await a.line(about(executionId, 'completed'), 'completed');
    // claimNodes, then completeNode.
    expect(sent()).toBe(3);
  });

  it('refuses nodeJobs on a queue the key may not work on', { timeout: DEADLINE_MS }, async () => {
    const { key } = await queueWithWorkflow();
    const subscription = collect(api.wsClient(key), 'subscription { nodeJobs(queue: "elsewhere") { kind } }', {});
    await expect(subscription.done).rejects.toMatchObject({ cause: [expect.objectContaining({ extensions: { code: 'FORBIDDEN' } })] });
  });
});
