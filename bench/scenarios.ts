import type { SqlClient } from '../src/db/sqlClient.js';
import { chain, fanOutIn, percentile, waitForAll, type BenchEnv } from './support.js';

export interface ThroughputResult {
  executions: number;
  nodeCompletions: number;
  seconds: number;
  completionsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** This process's CPU time (user + system) per 1,000 node completions: a cost that a busy machine does not inflate as it does wall time. */
  cpuMsPerThousand: number;
}

/** Many executions of a 10-node workflow (trigger, fan-out of 8, join) started together. */
export async function throughput(env: BenchEnv, executions: number): Promise<ThroughputResult> {
  const workflow = await env.engine.workflows.create({ ...fanOutIn(8), name: 'throughput' });
  const begun = performance.now();
  const cpu = process.cpuUsage();
  const started = await Promise.all(Array.from({ length: executions }, () => env.engine.startTrigger(workflow.id, 'start', {})));
  const ids = started.map((state) => state.id);
  await waitForAll(env.store, ids);
  await env.projections.caughtUp();
  const seconds = (performance.now() - begun) / 1000;
  const { user, system } = process.cpuUsage(cpu);
  const latencies = await schedulingLatencies(env.db, ids);
  return {
    executions,
    nodeCompletions: executions * 10,
    seconds,
    completionsPerSecond: (executions * 10) / seconds,
    latencyP50Ms: percentile(latencies, 50),
    latencyP99Ms: percentile(latencies, 99),
    cpuMsPerThousand: (user + system) / executions / 10,
  };
}

/** Latency from a node's NodeCompleted commit to its dependent's NodeQueued commit, one execution alone. */
export async function latencyAtRest(env: BenchEnv, length = 200): Promise<{ p50Ms: number; p99Ms: number }> {
  const workflow = await env.engine.workflows.create(chain(length));
  const state = await env.engine.startTrigger(workflow.id, 'start', {});
  await waitForAll(env.store, [state.id]);
  const latencies = await schedulingLatencies(env.db, [state.id]);
  return { p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
}

/**
 * For every NodeQueued but the trigger's: the time since the last NodeCompleted of the same
 * execution before it, which is the completion that made the node ready (in a chain or a join).
 */
async function schedulingLatencies(db: SqlClient, executionIds: string[]): Promise<number[]> {
  const { rows } = await db.query<{ ms: number }>(
    `SELECT extract(epoch FROM (q.recorded_at - c.recorded_at)) * 1000 AS ms
       FROM events q
       CROSS JOIN LATERAL (
         SELECT recorded_at FROM events c
          WHERE c.stream_id = q.stream_id AND c.type = 'NodeCompleted' AND c.stream_version < q.stream_version
          ORDER BY c.stream_version DESC LIMIT 1) c
      WHERE q.type = 'NodeQueued' AND q.stream_id = ANY($1::text[])`,
    [executionIds.map((id) => `execution-${id}`)],
  );
  return rows.map((row) => Number(row.ms));
}

export async function runShape(env: BenchEnv, definition: Parameters<BenchEnv['engine']['workflows']['create']>[0]): Promise<number> {
  const workflow = await env.engine.workflows.create(definition);
  const begun = performance.now();
  const state = await env.engine.startTrigger(workflow.id, 'start', {});
  await waitForAll(env.store, [state.id]);
  await env.projections.caughtUp();
  return (performance.now() - begun) / 1000;
}

/** Each step emits a small constant object, so the chain measures the engine, not a growing payload. */
const STEP = { type: 'transform', parameters: { mapping: '{ "ok": true }' } };

export async function scale(env: BenchEnv): Promise<{ chain1kSeconds: number; noopChain1kSeconds: number; fan1kSeconds: number; fan10kSeconds: number; perNodeRatio: number }> {
  const chain1kSeconds = await runShape(env, chain(1000, STEP));
  const noopChain1kSeconds = await runShape(env, chain(1000));
  const fan1kSeconds = await runShape(env, fanOutIn(1000));
  const fan10kSeconds = await runShape(env, fanOutIn(10_000));
  return { chain1kSeconds, noopChain1kSeconds, fan1kSeconds, fan10kSeconds, perNodeRatio: fan10kSeconds / 10_002 / (fan1kSeconds / 1_002) };
}
