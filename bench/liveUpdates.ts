import { fork } from 'node:child_process';
import { on, once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { SqlClient } from '../src/db/sqlClient.js';
import type { WorkflowDefinition } from '../src/domain/workflow/workflow.js';
import { cpuWindow, type CpuShare } from './cpuShare.js';
import type { LiveClientsInput, LiveClientsMessage, Received } from './liveClients.js';
import { BENCH_KEY, benchServer, percentile, waitForAll, type BenchEnv } from './support.js';

const STATUS_EVENT: Record<string, string> = { QUEUED: 'NodeQueued', RUNNING: 'NodeStarted', COMPLETED: 'NodeCompleted' };

const GATE_QUEUE = 'live-updates-gate';

/**
 * A chain of short delays behind a gate (an external node) that the bench opens once every
 * subscriber has attached: 500 connections and snapshots are not what this scenario measures.
 */
export const steadyChain = (length: number): WorkflowDefinition => {
  const nodes = [
    { id: 'start', type: 'trigger.manual' },
    { id: 'gate', type: 'external', parameters: { queue: GATE_QUEUE } },
    ...Array.from({ length }, (_, i) => ({ id: `d${i}`, type: 'delay', parameters: { ms: 30 } })),
  ];
  return { name: 'live updates', nodes, connections: nodes.slice(1).map((node, i) => ({ source: nodes[i]!.id, target: node.id })) };
};

/**
 * From an event's commit (its recorded time) to the graphql-ws frame that shows it arriving at
 * the client, over real WebSockets, with `subscribers` clients on one execution. The clients run
 * in a child process, so that the server and the clients each have an event loop of their own.
 */
export async function liveUpdates(env: BenchEnv, subscribers: number): Promise<{ subscribers: number; messages: number; p50Ms: number; p99Ms: number; cpu: CpuShare }> {
  const app = benchServer(env);
  await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const workflow = await env.engine.workflows.create(steadyChain(20));
    const started = await env.engine.startTrigger(workflow.id, 'start', {});
    await env.projections.caughtUp();
    const url = `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}/graphql`;
    const { received, cpu } = await inClientProcesses([{ url, executionId: started.id, subscribers, apiKey: BENCH_KEY }], () => openGate(env));
    await waitForAll(env.store, [started.id]);
    const latencies = frameLatencies(received, await recordedTimes(env.db, started.id));
    return { subscribers, messages: received.reduce((sum, each) => sum + each.length, 0), p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), cpu };
  } finally {
    await app.close();
  }
}

/** From each frame's arrival to the commit of each node change it shows (the snapshot left out). */
export function frameLatencies(received: Received[][], recorded: Map<string, number>): number[] {
  return received.flatMap((messages) =>
    messages.slice(1).flatMap((message) =>
      message.nodes.flatMap((node) => {
        const at = recorded.get(`${node.nodeId}:${STATUS_EVENT[node.status]}`);
        return at === undefined ? [] : [message.at - at];
      }),
    ),
  );
}

/** A child process of subscribers (liveClients.ts) and the two messages it sends. */
function clientProcess(input: LiveClientsInput) {
  const child = fork(fileURLToPath(new URL('./liveClients.ts', import.meta.url)), { execArgv: ['--import', 'tsx'] });
  const exited = once(child, 'exit').then(([code]) => Promise.reject(new Error(`the live-updates clients exited with ${code}`)));
  // Buffered from the start: the second message may come while the first is being handled.
  const messages = on(child, 'message');
  const next = async (): Promise<LiveClientsMessage> => (await Promise.race([messages.next(), exited])).value[0];
  child.send(input);
  return { child, exited, next };
}

/**
 * Runs the subscribers in child processes (one per input); `subscribed` once all of them have
 * attached. The CPU the server (`serverPid`: this process unless the server runs in its own) and
 * the clients spend is counted from then until the clients have their last frames.
 */
export async function inClientProcesses(inputs: LiveClientsInput[], subscribed: () => Promise<void>, serverPid = process.pid): Promise<{ received: Received[][]; cpu: CpuShare }> {
  const children = inputs.map(clientProcess);
  try {
    const first = await Promise.all(children.map((each) => each.next()));
    if (first.some((message) => message.kind !== 'subscribed')) throw new Error('the live-updates clients ended before subscribing');
    const window = cpuWindow(serverPid);
    await subscribed();
    const last = await Promise.all(children.map((each) => each.next()));
    const received = last.flatMap((message) => {
      if (message.kind !== 'received') throw new Error('the live-updates clients said they subscribed twice');
      return message.received;
    });
    // Each subscriber's first frame is its snapshot, received before the window.
    const frames = received.reduce((sum, messages) => sum + Math.max(0, messages.length - 1), 0);
    const clientMicros = last.reduce((sum, message, i) => sum + message.cpuMicros - first[i]!.cpuMicros, 0);
    return { received, cpu: window.end(frames, clientMicros / 1e6) };
  } finally {
    for (const { child } of children) child.kill();
    await Promise.all(children.map((each) => each.exited.catch(() => {})));
  }
}

/** Completes the gate as an external worker would, once the work queue has seen it queued. */
async function openGate(env: BenchEnv): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const [gate] = await env.engine.workQueue.claim(GATE_QUEUE, 'bench', { max: 1 });
    if (gate) {
      await env.engine.workQueue.complete(gate, { output: null });
      return;
    }
    await sleep(10);
  }
  throw new Error('the live-updates gate was never queued');
}

export async function recordedTimes(db: SqlClient, executionId: string): Promise<Map<string, number>> {
  const { rows } = await db.query<{ node_id: string; type: string; at: string }>(
    `SELECT data->>'nodeId' AS node_id, type, (extract(epoch FROM recorded_at) * 1000)::text AS at
       FROM events WHERE stream_id = $1 AND data ? 'nodeId'`,
    [`execution-${executionId}`],
  );
  return new Map(rows.map((row) => [`${row.node_id}:${row.type}`, Number(row.at)]));
}
