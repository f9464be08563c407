import type { AddressInfo } from 'node:net';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { buildServer } from '../src/api/server.js';
import { ReadModel } from '../src/projections/readModel.js';
import type { WorkflowDefinition } from '../src/domain/workflow/workflow.js';
import { percentile, waitForAll, type BenchEnv } from './support.js';

const STATUS_EVENT: Record<string, string> = { QUEUED: 'NodeQueued', RUNNING: 'NodeStarted', COMPLETED: 'NodeCompleted' };

/** A chain of short delays after a pause long enough for every subscriber to attach. */
const steadyChain = (length: number): WorkflowDefinition => {
  const nodes = [
    { id: 'start', type: 'trigger.manual' },
    { id: 'warmup', type: 'delay', parameters: { ms: 1_500 } },
    ...Array.from({ length }, (_, i) => ({ id: `d${i}`, type: 'delay', parameters: { ms: 30 } })),
  ];
  return { name: 'live updates', nodes, connections: nodes.slice(1).map((node, i) => ({ source: nodes[i]!.id, target: node.id })) };
};

interface Received {
  at: number;
  nodes: Array<{ nodeId: string; status: string }>;
}

/**
 * From an event's commit (its recorded time) to the graphql-ws frame that shows it arriving at
 * the client, over real WebSockets, with `subscribers` clients on one execution.
 */
export async function liveUpdates(env: BenchEnv, subscribers: number): Promise<{ subscribers: number; messages: number; p50Ms: number; p99Ms: number }> {
  const app = buildServer({ engine: env.engine, readModel: new ReadModel(env.db), projections: env.projections, store: env.store, db: env.db });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}/graphql`;
  const clients: Client[] = [];
  try {
    const workflow = await env.engine.workflows.create(steadyChain(20));
    const started = await env.engine.startTrigger(workflow.id, 'start', {});
    await env.projections.caughtUp();
    const received: Received[][] = await Promise.all(
      Array.from({ length: subscribers }, () => {
        const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
        clients.push(client);
        return follow(client, started.id);
      }),
    );
    await waitForAll(env.store, [started.id]);
    const recorded = await recordedTimes(env, started.id);
    const latencies = received.flatMap((messages) =>
      messages.slice(1).flatMap((message) =>
        message.nodes.flatMap((node) => {
          const at = recorded.get(`${node.nodeId}:${STATUS_EVENT[node.status]}`);
          return at === undefined ? [] : [message.at - at];
        }),
      ),
    );
    return { subscribers, messages: received.reduce((sum, each) => sum + each.length, 0), p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
  } finally {
    await Promise.all(clients.map((client) => client.dispose()));
    await app.close();
  }
}

function follow(client: Client, executionId: string): Promise<Received[]> {
  const messages: Received[] = [];
  return new Promise((resolve, reject) => {
    client.subscribe<{ executionUpdated: { changedNodes: Array<{ nodeId: string; status: string }> } }>(
      { query: 'subscription ($id: ID!) { executionUpdated(executionId: $id) { status changedNodes { nodeId status } } }', variables: { id: executionId } },
      {
        next: (message) => messages.push({ at: Date.now(), nodes: message.data?.executionUpdated.changedNodes ?? [] }),
        error: reject,
        complete: () => resolve(messages),
      },
    );
  });
}

async function recordedTimes(env: BenchEnv, executionId: string): Promise<Map<string, number>> {
  const { rows } = await env.db.query<{ node_id: string; type: string; at: string }>(
    `SELECT data->>'nodeId' AS node_id, type, (extract(epoch FROM recorded_at) * 1000)::text AS at
       FROM events WHERE stream_id = $1 AND data ? 'nodeId'`,
    [`execution-${executionId}`],
  );
  return new Map(rows.map((row) => [`${row.node_id}:${row.type}`, Number(row.at)]));
}
