import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutionEvent } from '../../src/domain/execution/events.js';
import { foldExecution } from '../../src/domain/execution/evolve.js';
import { executionViewFromState } from '../../src/projections/executionView.js';
import { RetentionJob } from '../../src/projections/retention.js';
import { BACKENDS, type Backend } from '../support/backends.js';
import { startApi, type Api } from './apiHarness.js';

const VIEW = `id status progress streamVersion finishedAt durationMs error errorCode rerunOf executionPath
  currentlyExecuting completedNodes failedNodes queuedNodes estimatedTimeRemainingMs
  metrics { totalNodes completedNodes failedNodes averageNodeDurationMs longestRunningNode bottleneckNodes parallelismUtilization }
  nodeStates { nodeId status attempt progress startedAt finishedAt durationMs error skipReason input output outputName reusedFrom dependencies dependents }`;
const EXECUTION = `query($id: ID!) { execution(id: $id) { ${VIEW} } }`;
const AT = `query($id: ID!, $n: Int!) { executionAt(executionId: $id, eventNumber: $n) { ${VIEW} } }`;
const EVENTS = `query($id: ID!) { executionEvents(executionId: $id, first: 1000) { eventNumber type data recordedAt } }`;
const CREATE = `mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id } }`;
const START = `mutation($id: ID!, $data: JSON) { startTrigger(workflowId: $id, triggerNodeId: "start", data: $data) { id } }`;
const RERUN = `mutation($id: ID!, $node: ID!, $data: JSON, $original: Boolean) {
  rerunFromNode(executionId: $id, nodeId: $node, data: $data, useOriginalVersion: $original) { id rerunOf } }`;

/** An `if` that skips `big`, a node that fails once and is retried, a join of three, and a failure the execution goes on past. */
const debuggable = {
  name: 'branch, retry and failure',
  nodes: [
    { id: 'start', type: 'trigger.manual' },
    { id: 'check', type: 'if', parameters: { condition: 'trigger.amount > 100' } },
    { id: 'big', type: 'noop' },
    { id: 'small', type: 'transform', parameters: { mapping: 'trigger.amount * 2' } },
    { id: 'flaky', type: 'fail', parameters: { failTimes: 1 }, retry: { maxAttempts: 2, initialDelayMs: 1 } },
    { id: 'mid', type: 'noop' },
    { id: 'join', type: 'merge' },
    { id: 'broken', type: 'fail', parameters: { message: 'kaput' } },
    { id: 'after', type: 'noop' },
  ],
  connections: [
    { source: 'start', target: 'check' },
    { source: 'check', target: 'big', sourceOutput: 'true' },
    { source: 'check', target: 'small', sourceOutput: 'false' },
    { source: 'start', target: 'flaky' },
    { source: 'start', target: 'mid' },
    { source: 'small', target: 'join' },
    { source: 'flaky', target: 'join' },
    { source: 'mid', target: 'join' },
    { source: 'start', target: 'broken' },
    { source: 'broken', target: 'after' },
  ],
  settings: { recovery: { skipFailedBranches: true } },
};

const chain = (bMapping: string) => ({
  name: 'chain',
  nodes: [
    { id: 'start', type: 'trigger.manual' },
    { id: 'a', type: 'transform', parameters: { mapping: 'input.start.n + 1' } },
    { id: 'b', type: 'transform', parameters: { mapping: bMapping } },
    { id: 'c', type: 'noop' },
  ],
  connections: [
    { source: 'start', target: 'a' },
    { source: 'a', target: 'b' },
    { source: 'b', target: 'c' },
  ],
});

interface LoggedEvent {
  eventNumber: number;
  type: ExecutionEvent['type'];
  data: { nodeId?: string };
  recordedAt: string;
}

/** expect.poll only works inside tests, and executions also finish in beforeAll. */
async function until<T>(fn: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (let value = await fn(); ; value = await fn()) {
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`not there in time: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** `expected` cut down to the fields the query asked for (those `actual` has). */
function like(actual: unknown, expected: unknown): unknown {
  if (Array.isArray(actual) && Array.isArray(expected)) return expected.map((item, index) => like(actual[index], item));
  if (typeof actual !== 'object' || actual === null || typeof expected !== 'object' || expected === null) return expected;
  return Object.fromEntries(Object.keys(actual).map((key) => [key, like((actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key])]));
}

describe.each(BACKENDS)('execution history and debugging on $name', ({ create }) => {
  let backend: Backend;
  let api: Api;
  let recordedId: string;
  let recorded: LoggedEvent[];

  const events = async (id: string): Promise<LoggedEvent[]> => (await api.gql(EVENTS, { id })).data.executionEvents;
  const numberOf = (log: LoggedEvent[], type: string, nodeId: string) => log.find((event) => event.type === type && event.data.nodeId === nodeId)!.eventNumber;
  const finished = async (id: string, status = 'COMPLETED') => {
    await until(
      async () => (await api.gql(EXECUTION, { id })).data.execution?.status,
      (current) => current === status,
    );
    await api.caughtUp();
    return (await api.gql(EXECUTION, { id })).data.execution;
  };
  const run = async (input: object, data: unknown, status?: string) => {
    const workflowId = (await api.gql(CREATE, { input })).data.createWorkflow.id as string;
    const id = (await api.gql(START, { id: workflowId, data })).data.startTrigger.id as string;
    return { workflowId, id, execution: await finished(id, status) };
  };

  beforeAll(async () => {
    backend = await create();
    api = await startApi(backend);
    recordedId = (await run(debuggable, { amount: 50 }, 'PARTIAL')).id;
    recorded = await events(recordedId);
  });
  afterAll(async () => {
    await api.close();
    await backend.dispose();
  });

  it('lists executions by workflow, status, trigger type and start time, with what debugging needs', async () => {
    const { workflowId, execution } = await run(debuggable, { amount: 500 }, 'PARTIAL');
    const list = async (filter: string) =>
      (await api.gql(`query($w: ID!) { executions(workflowId: $w, ${filter}) { totalCount nodes { ${VIEW} } } }`, { w: workflowId })).data.executions;
    expect((await list('status: PARTIAL')).nodes).toEqual([execution]);
    expect(execution).toMatchObject({ failedNodes: ['broken'], metrics: { failedNodes: 1 } });
    expect(execution.executionPath).toEqual(expect.arrayContaining(['start', 'check', 'big', 'flaky', 'join']));
    expect((await list('status: COMPLETED')).totalCount).toBe(0);
    expect((await list('triggerType: "trigger.manual"')).totalCount).toBe(1);
    expect((await list('triggerType: "trigger.webhook"')).totalCount).toBe(0);
    const startedAt = (await api.gql(`query($id: ID!) { execution(id: $id) { startedAt } }`, { id: execution.id })).data.execution.startedAt as string;
    const later = new Date(Date.parse(startedAt) + 1).toISOString();
    expect((await list(`startedAfter: "${startedAt}"`)).totalCount).toBe(0);
    expect((await list(`startedBefore: "${later}", startedAfter: "2000-01-01T00:00:00Z"`)).totalCount).toBe(1);
  });

  it('lists the events in order, pages with after and first, and refuses an unknown execution', async () => {
    expect(recorded.map((event) => event.eventNumber)).toEqual(recorded.map((_, index) => index + 1));
    expect(new Set(recorded.map((event) => event.type))).toEqual(
      new Set(['ExecutionStarted', 'NodeQueued', 'NodeStarted', 'NodeCompleted', 'NodeRetryScheduled', 'NodeFailed', 'NodeSkipped', 'ExecutionCompleted']),
    );
    const page = await api.gql(`query($id: ID!) { executionEvents(executionId: $id, after: 3, first: 2) { eventNumber type causationId } }`, { id: recordedId });
    expect(page.data.executionEvents).toMatchObject([
      { eventNumber: 4, type: recorded[3]!.type },
      { eventNumber: 5, type: recorded[4]!.type },
    ]);
    const unknown = await api.gql(`{ executionEvents(executionId: "nope") { type } }`);
    expect(unknown.errors![0]!.extensions.code).toBe('NOT_FOUND');
  });

  it('travels in time: at every event, the fold of that prefix; at the last, the execution as the read model has it', async () => {
    const folded = recorded.map(({ type, data }) => ({ type, data }) as ExecutionEvent);
    let sawQueuedAndRunning = false;
    for (const { eventNumber, recordedAt } of recorded) {
      const actual = (await api.gql(AT, { id: recordedId, n: eventNumber })).data.executionAt;
      const expected = executionViewFromState(foldExecution(folded.slice(0, eventNumber))!, undefined, new Date(recordedAt));
      expect(actual, `after event ${eventNumber}`).toEqual(like(actual, expected));
      sawQueuedAndRunning ||= actual.queuedNodes.length > 0 && actual.currentlyExecuting.length > 0;
    }
    expect(sawQueuedAndRunning).toBe(true);
    const last = (await api.gql(AT, { id: recordedId, n: recorded.length })).data.executionAt;
    expect(last).toEqual((await api.gql(EXECUTION, { id: recordedId })).data.execution);
  });

  it('diffs two points of the history: nodes that changed, how, and the events between', async () => {
    const retry = numberOf(recorded, 'NodeRetryScheduled', 'flaky');
    const diff = `query($id: ID!, $from: Int!, $to: Int!) { executionDiff(executionId: $id, from: $from, to: $to) {
      from to fromStatus toStatus nodes { nodeId from to fromAttempt toAttempt } events { eventNumber type } } }`;
    expect((await api.gql(diff, { id: recordedId, from: retry - 1, to: retry })).data.executionDiff).toEqual({
      from: retry - 1,
      to: retry,
      fromStatus: 'RUNNING',
      toStatus: 'RUNNING',
      nodes: [{ nodeId: 'flaky', from: 'RUNNING', to: 'QUEUED', fromAttempt: 1, toAttempt: 2 }],
      events: [{ eventNumber: retry, type: 'NodeRetryScheduled' }],
    });
    const whole = (await api.gql(diff, { id: recordedId, from: 0, to: recorded.length })).data.executionDiff;
    expect(whole).toMatchObject({ fromStatus: null, toStatus: 'PARTIAL' });
    expect(whole.events).toHaveLength(recorded.length);
    expect(whole.nodes.find((node: { nodeId: string }) => node.nodeId === 'big')).toEqual({ nodeId: 'big', from: 'IDLE', to: 'SKIPPED', fromAttempt: 0, toAttempt: 0 });
    expect((await api.gql(diff, { id: recordedId, from: 0, to: recorded.length + 1 })).errors![0]!.extensions.code).toBe('BAD_USER_INPUT');
    expect((await api.gql(diff, { id: recordedId, from: 3, to: 2 })).errors![0]!.extensions.code).toBe('BAD_USER_INPUT');
    expect((await api.gql(diff, { id: 'nope', from: 0, to: 1 })).errors![0]!.extensions.code).toBe('NOT_FOUND');
  });

  it('explains a join that waited on three inputs and a node skipped by an if', async () => {
    const causation = `query($id: ID!, $node: ID!) { nodeCausation(executionId: $id, nodeId: $node) {
      nodeId status decision decidedAtEvent queuedAtEvent triggerRule ruleHeld skipReason reusedFrom
      dependencies { nodeId status settledAtEvent } incomingEdges { source sourceOutput active }
      skippedByNodes skippedByEdges { source sourceOutput active } } }`;
    const join = (await api.gql(causation, { id: recordedId, node: 'join' })).data.nodeCausation;
    const queued = numberOf(recorded, 'NodeQueued', 'join');
    expect(join).toMatchObject({
      status: 'COMPLETED',
      decision: 'QUEUED',
      ruleHeld: true,
      triggerRule: 'NONE_FAILED_MIN_ONE_SUCCESS',
      queuedAtEvent: queued,
      decidedAtEvent: queued,
    });
    expect(join.dependencies).toEqual(['small', 'flaky', 'mid'].map((id) => ({ nodeId: id, status: 'COMPLETED', settledAtEvent: numberOf(recorded, 'NodeCompleted', id) })));
    expect(join.incomingEdges.every((edge: { active: boolean }) => edge.active)).toBe(true);
    expect(Math.max(...join.dependencies.map((each: { settledAtEvent: number }) => each.settledAtEvent))).toBeLessThan(queued);

    const big = (await api.gql(causation, { id: recordedId, node: 'big' })).data.nodeCausation;
    expect(big).toMatchObject({
      status: 'SKIPPED',
      decision: 'SKIPPED',
      ruleHeld: false,
      queuedAtEvent: null,
      decidedAtEvent: numberOf(recorded, 'NodeSkipped', 'big'),
      skippedByNodes: [],
      skippedByEdges: [{ source: 'check', sourceOutput: 'true', active: false }],
    });
    expect(big.skipReason).toMatch(/does not hold/);
    expect((await api.gql(causation, { id: recordedId, node: 'after' })).data.nodeCausation.skippedByNodes).toEqual(['broken']);
    expect((await api.gql(causation, { id: recordedId, node: 'ghost' })).errors![0]!.extensions.code).toBe('NOT_FOUND');
  });

  it('reruns from a middle node: upstream reused and not run again, the node and downstream run with the new data', async () => {
    const original = await run(chain('input.a * 10'), { n: 1 });
    const rerun = (await api.gql(RERUN, { id: original.id, node: 'b', data: { a: 5 } })).data.rerunFromNode;
    expect(rerun.rerunOf).toBe(original.id);
    const execution = await finished(rerun.id);
    const log = await events(rerun.id);
    expect(log.filter((event) => event.type === 'NodeStarted').map((event) => event.data.nodeId)).toEqual(['b', 'c']);
    expect(log.filter((event) => event.type === 'NodeReused').map((event) => event.data.nodeId)).toEqual(['start', 'a']);
    const node = (id: string) => execution.nodeStates.find((each: { nodeId: string }) => each.nodeId === id);
    expect(node('a')).toMatchObject({ status: 'COMPLETED', output: 2, reusedFrom: original.id, startedAt: null });
    expect(node('b')).toMatchObject({ input: { a: 5 }, output: 50, reusedFrom: null });
    expect(node('c')).toMatchObject({ output: { b: 50 } });
    expect(execution).toMatchObject({ rerunOf: original.id, executionPath: ['start', 'a', 'b', 'c'] });

    await api.gql(`mutation($id: ID!, $input: WorkflowInput!) { updateWorkflow(id: $id, input: $input) { version } }`, { id: original.workflowId, input: chain('input.a * 100') });
    const outputOfB = async (useOriginalVersion: boolean | null) => {
      const { id } = (await api.gql(RERUN, { id: original.id, node: 'b', original: useOriginalVersion })).data.rerunFromNode;
      return (await finished(id)).nodeStates.find((each: { nodeId: string }) => each.nodeId === 'b').output;
    };
    expect(await outputOfB(null)).toBe(200);
    expect(await outputOfB(true)).toBe(20);
    const unfinished = await api.gql(RERUN, { id: 'nope', node: 'b' });
    expect(unfinished.errors![0]!.extensions.code).toBe('NOT_FOUND');
  });

  it('finds a divergence planted in the read model, and none in an untouched execution, by query and by CLI', async () => {
    const check = `query($id: ID!) { replayCheck(executionId: $id) { executionId eventCount readModelVersion consistent differences { path expected actual } } }`;
    const clean = (await api.gql(check, { id: recordedId })).data.replayCheck;
    expect(clean).toEqual({ executionId: recordedId, eventCount: recorded.length, readModelVersion: recorded.length, consistent: true, differences: [] });

    const planted = (await run(chain('input.a'), { n: 1 })).id;
    await backend.db.query(`UPDATE node_execution_state SET status = 'FAILED' WHERE execution_id = $1 AND node_id = 'a'`, [planted]);
    const report = (await api.gql(check, { id: planted })).data.replayCheck;
    expect(report.consistent).toBe(false);
    expect(report.differences).toContainEqual({ path: 'nodeStates.a.status', expected: 'COMPLETED', actual: 'FAILED' });
    expect(report.differences).toContainEqual({ path: 'failedNodes', expected: [], actual: ['a'] });
    expect((await api.gql(check, { id: 'nope' })).errors![0]!.extensions.code).toBe('NOT_FOUND');

    if (!backend.url) return; // the CLI is another process: PGlite can't share its database with it
    const cli = (...ids: string[]) =>
      promisify(execFile)('node_modules/.bin/tsx', ['src/projections/replayCli.ts', ...ids], { env: { ...process.env, DATABASE_URL: backend.url } }).then(
        ({ stdout }) => ({ code: 0, stdout }),
        (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
      );
    expect(await cli(recordedId)).toMatchObject({ code: 0, stdout: expect.stringContaining('consistent') });
    expect(await cli(recordedId, planted)).toMatchObject({ code: 1, stdout: expect.stringContaining('nodeStates.a.status: expected "COMPLETED", read model has "FAILED"') });
  });

  it('removes read-model rows past retention; the events stay, and time travel and the replay check still work', async () => {
    const recent = (await run(chain('input.a'), { n: 2 })).id;
    const retention = (days: number, clock: () => Date) => new RetentionJob({ db: backend.db, retentionDays: days, clock });
    expect(await retention(1, () => new Date()).prune()).toBe(0);
    expect(await retention(1, () => new Date(Date.now() + 2 * 86_400_000)).prune()).toBeGreaterThan(0);
    const { rows } = await backend.db.query<{ left: number }>('SELECT (SELECT count(*) FROM flow_execution) + (SELECT count(*) FROM node_execution_state) AS left');
    expect(Number(rows[0]!.left)).toBe(0);

    expect((await api.gql(EXECUTION, { id: recent })).data.execution.status).toBe('COMPLETED');
    expect((await api.gql(AT, { id: recent, n: 1 })).data.executionAt.streamVersion).toBe(1);
    const report = (await api.gql(`query($id: ID!) { replayCheck(executionId: $id) { readModelVersion consistent } }`, { id: recent })).data.replayCheck;
    expect(report).toEqual({ readModelVersion: null, consistent: true });
  });
});
