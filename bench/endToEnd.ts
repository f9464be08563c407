import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { MAX_RATE_LIMIT_PER_MINUTE } from '../src/api/guards/requestRate.js';
import { createPostgresClient } from '../src/db/postgresClient.js';
import { createTestDatabase } from '../tests/support/testDatabase.js';
import type { WorkflowDefinition } from '../src/domain/workflow/workflow.js';
import { freePort } from '../tests/support/serverProcess.js';
import { cpuWindow, type CpuShare } from './cpuShare.js';
import { frameLatencies, inClientProcesses, recordedTimes, steadyChain } from './liveUpdates.js';
import { BENCH_KEY, chain, fanOutIn, percentile } from './support.js';

/**
 * Through a real server process (`node dist/main.js`, as `npm start` runs it) on a fresh
 * PostgreSQL database: workflows created and started over GraphQL, watched over graphql-ws.
 * Every request carries CASCADE_API_KEY (the bench's own key unless set) as a Bearer token, and
 * the server is started with it as its admin key.
 */
const API_KEY = process.env.CASCADE_API_KEY ?? BENCH_KEY;
const SERVER_ENTRY = process.env.BENCH_SERVER_ENTRY ?? fileURLToPath(new URL('../dist/main.js', import.meta.url));
const GATE_QUEUE = 'bench-gate';
const POLL_MS = 200;
/** Subscribers per client process in the 5,000-subscriber scenario. */
const SUBSCRIBERS_PER_PROCESS = 1000;
const RUN_DEADLINE_MS = 600_000;

const STEP = { type: 'transform', parameters: { mapping: '{ "ok": true }' } };
const authorization = (): Record<string, string> => ({ authorization: `Bearer ${API_KEY}` });

interface Server {
  child: ChildProcess;
  httpUrl: string;
  wsUrl: string;
  gql<T>(query: string, variables?: Record<string, unknown>): Promise<T>;
}

async function startServer(databaseUrl: string): Promise<Server> {
  execFileSync(process.execPath, [fileURLToPath(new URL('../scripts/buildIfStale.mjs', import.meta.url))], { stdio: 'inherit' });
  const port = await freePort();
  const child = spawn(process.execPath, [SERVER_ENTRY], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: String(MAX_RATE_LIMIT_PER_MINUTE),
      CASCADE_ADMIN_KEY: API_KEY,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const httpUrl = `http://127.0.0.1:${port}`;
  const server: Server = {
    child,
    httpUrl,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    async gql<T>(query: string, variables: Record<string, unknown> = {}) {
      const response = await fetch(`${httpUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...authorization() },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as { data: T; errors?: unknown[] };
      if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
      return body.data;
    },
  };
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(100)) {
    if ((await fetch(`${httpUrl}/health`).catch(() => null))?.ok) return server;
    if (child.exitCode !== null) break;
  }
  child.kill('SIGKILL');
  throw new Error('the server did not come up');
}

/** The definition with an external gate between its trigger and the rest: subscribers attach before anything runs. */
function gated(definition: WorkflowDefinition): WorkflowDefinition {
  const gate = { id: 'gate', type: 'external', parameters: { queue: GATE_QUEUE } };
  const fromStart = definition.connections.map((edge) => (edge.source === 'start' ? { ...edge, source: 'gate' } : edge));
  return { ...definition, nodes: [...definition.nodes, gate], connections: [{ source: 'start', target: 'gate', sourceOutput: null }, ...fromStart] };
}

async function startGated(server: Server, definition: WorkflowDefinition): Promise<string> {
  const { createWorkflow } = await server.gql<{ createWorkflow: { id: string } }>('mutation ($input: WorkflowInput!) { createWorkflow(input: $input) { id } }', {
    input: gated(definition),
  });
  const { startTrigger } = await server.gql<{ startTrigger: { id: string } }>('mutation ($id: ID!) { startTrigger(workflowId: $id, triggerNodeId: "start") { id } }', {
    id: createWorkflow.id,
  });
  return startTrigger.id;
}

/** Completes the gate as a worker would, once it is queued; the clock of a run starts here. */
async function openGate(server: Server): Promise<void> {
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(10)) {
    const { claimNodes } = await server.gql<{ claimNodes: Array<{ executionId: string; nodeId: string }> }>(
      `mutation { claimNodes(queue: "${GATE_QUEUE}", workerId: "bench", max: 1) { executionId nodeId } }`,
    );
    const [gate] = claimNodes;
    if (gate)
      return void (await server.gql('mutation ($e: ID!, $n: ID!) { completeNode(executionId: $e, nodeId: $n, output: null) { status } }', { e: gate.executionId, n: gate.nodeId }));
  }
  throw new Error('the gate was never queued');
}

/** Resolves when `execution` answers COMPLETED, asked every POLL_MS. */
async function polledCompletion(server: Server, executionId: string): Promise<void> {
  for (const deadline = Date.now() + RUN_DEADLINE_MS; Date.now() < deadline; await sleep(POLL_MS)) {
    const { execution } = await server.gql<{ execution: { status: string } }>('query ($id: ID!) { execution(id: $id) { status } }', { id: executionId });
    if (execution.status === 'COMPLETED') return;
    if (['FAILED', 'CANCELLED', 'PARTIAL'].includes(execution.status)) throw new Error(`the execution ended ${execution.status}`);
  }
  throw new Error('the execution did not complete in time');
}

/** One subscriber selecting only `status`: resolves `attached` with its first frame, `completed` with the COMPLETED one. */
function watch(server: Server, executionId: string): { client: Client; attached: Promise<void>; completed: Promise<void> } {
  const client = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: authorization() });
  let attach!: () => void;
  const attached = new Promise<void>((resolve) => (attach = resolve));
  const completed = new Promise<void>((resolve, reject) => {
    client.subscribe<{ executionUpdated: { status: string } }>(
      { query: 'subscription ($id: ID!) { executionUpdated(executionId: $id) { status } }', variables: { id: executionId } },
      {
        next: (message) => {
          attach();
          if (message.data?.executionUpdated.status === 'COMPLETED') resolve();
        },
        error: reject,
        // The subscription ends with its execution; its last frame has been seen not to arrive
        // first at times (for h/live to look into): the end then counts, once a query confirms it.
        complete: () => {
          const confirmed = server.gql<{ execution: { status: string } }>('query ($id: ID!) { execution(id: $id) { status } }', { id: executionId });
          confirmed.then(({ execution }) => (execution.status === 'COMPLETED' ? resolve() : reject(new Error(`the subscription ended at ${execution.status}`))), reject);
        },
      },
    );
  });
  return { client, attached, completed };
}

type Watchers = 0 | 1 | 500;

interface TimedRun {
  seconds: number;
  /** Where the CPU went meanwhile (the clients' part with 500 watchers). */
  cpu: CpuShare;
}

/** Seconds from opening the gate to seeing COMPLETED: by polling (0 watchers), or by the bench's own subscriber beside 499 in a child process. */
async function timedRun(server: Server, definition: WorkflowDefinition, watchers: Watchers): Promise<TimedRun> {
  const executionId = await startGated(server, definition);
  if (watchers === 0) {
    await openGate(server);
    const begun = performance.now();
    const window = cpuWindow(server.child.pid!);
    await polledCompletion(server, executionId);
    return { seconds: (performance.now() - begun) / 1000, cpu: window.end() };
  }
  const own = watch(server, executionId);
  try {
    await own.attached;
    let begun = 0;
    const open = async () => {
      await openGate(server);
      begun = performance.now();
      await own.completed;
    };
    if (watchers === 1) {
      const window = cpuWindow(server.child.pid!);
      await open();
      return { seconds: (performance.now() - begun) / 1000, cpu: window.end() };
    }
    const { cpu } = await inClientProcesses([{ url: server.wsUrl, executionId, subscribers: watchers - 1, apiKey: API_KEY }], open, server.child.pid);
    return { seconds: (performance.now() - begun) / 1000, cpu };
  } finally {
    await own.client.dispose();
  }
}

export interface EndToEndResult {
  /** Seconds by shape and watchers: e.g. chain1k.unwatched. */
  runs: Record<string, Record<'unwatched' | 'watched1' | 'watched500', number> & { cpu: Record<'unwatched' | 'watched1' | 'watched500', CpuShare> }>;
  live5000: { subscribers: number; p50Ms: number; p99Ms: number; seconds: number; unwatchedSeconds: number; cpu: CpuShare; unwatchedCpu: CpuShare };
}

const SHAPES: Record<string, WorkflowDefinition> = {
  chain1k: chain(1000, STEP),
  chain5k: chain(5000, STEP),
  fan1k: fanOutIn(1000),
};

/** `shapes: false` runs only the 5,000-subscriber scenario (a quicker A/B of the live feed). */
export async function endToEnd({ shapes = true } = {}): Promise<EndToEndResult> {
  const database = await createTestDatabase();
  const db = createPostgresClient(database.url, { max: 2 });
  const server = await startServer(database.url);
  try {
    const runs: EndToEndResult['runs'] = {};
    for (const [name, definition] of shapes ? Object.entries(SHAPES) : []) {
      const unwatched = await timedRun(server, definition, 0);
      const watched1 = await timedRun(server, definition, 1);
      const watched500 = await timedRun(server, definition, 500);
      const cpu = { unwatched: unwatched.cpu, watched1: watched1.cpu, watched500: watched500.cpu };
      runs[name] = { unwatched: unwatched.seconds, watched1: watched1.seconds, watched500: watched500.seconds, cpu };
    }
    return { runs, live5000: await liveUpdates5000(server, db) };
  } finally {
    server.child.kill('SIGTERM');
    await once(server.child, 'exit');
    await db.close();
    await database.drop();
  }
}

/** Live-update latency with 5,000 subscribers over several client processes on a chain of short delays; and the chain's time unwatched. */
async function liveUpdates5000(server: Server, db: ReturnType<typeof createPostgresClient>): Promise<EndToEndResult['live5000']> {
  const subscribers = 5000;
  const definition = steadyChain(20);
  const ungated = { ...definition, nodes: definition.nodes.filter((node) => node.id !== 'gate'), connections: definition.connections.slice(1) };
  ungated.connections[0] = { ...ungated.connections[0]!, source: 'start' };
  const unwatched = await timedRun(server, ungated, 0);
  const executionId = await startGated(server, ungated);
  let begun = 0;
  const inputs = Array.from({ length: subscribers / SUBSCRIBERS_PER_PROCESS }, () => ({ url: server.wsUrl, executionId, subscribers: SUBSCRIBERS_PER_PROCESS, apiKey: API_KEY }));
  const { received, cpu } = await inClientProcesses(
    inputs,
    async () => {
      await openGate(server);
      begun = performance.now();
    },
    server.child.pid,
  );
  const seconds = (performance.now() - begun) / 1000;
  const latencies = frameLatencies(received, await recordedTimes(db, executionId));
  return { subscribers, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), seconds, unwatchedSeconds: unwatched.seconds, cpu, unwatchedCpu: unwatched.cpu };
}
