import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../src/api/server.js';
import { createAuth, NO_JWT } from '../src/auth/auth.js';
import { Authenticator } from '../src/auth/authenticator.js';
import type { Identity } from '../src/auth/identity.js';
import { ReadModel } from '../src/projections/readModel.js';
import { SecretStore } from '../src/secrets/secretStore.js';
import { benchHeaders, benchServer, waitForAll, type BenchEnv } from './support.js';

/**
 * Authenticated throughput against the same server with authentication taken out: requests over
 * HTTP at a fixed concurrency, a cheap query (where the credential's cost shows most) and
 * startTrigger. "Without" is the door open: every request acts as the default tenant's admin
 * with no lookup, as before issue 13; roles are still checked and mutations still audited.
 */
const CONCURRENCY = 16;
const QUERIES = 3_000;
const STARTS = 600;
const ROUNDS = 4;

const ADMIN: Identity = { tenantId: 'default', roles: ['ADMIN'], keyId: null, subject: 'bench', canViewPayloads: true, queues: null, expiresAt: null };

/** The authenticator with its lookups taken out: only for measuring what they cost. */
class OpenDoor extends Authenticator {
  override async authenticate(): Promise<Identity> {
    return ADMIN;
  }
}

function openServer(env: BenchEnv): FastifyInstance {
  const { engine, projections, store, db } = env;
  const auth = createAuth(db, NO_JWT, (error) => console.error('audit log error', error));
  const open = { ...auth, authenticator: new OpenDoor(auth.keys, null, async () => true) };
  return buildServer({ engine, readModel: new ReadModel(db), projections, store, db, secrets: new SecretStore(db, null), auth: open, rateLimitPerMinute: 60_000 });
}

/** Requests per second: `total` POSTs of `body`, CONCURRENCY at a time; and the executions they started. */
async function rate(url: string, body: string, total: number): Promise<{ perSecond: number; started: string[] }> {
  let next = 0;
  const started: string[] = [];
  const at = performance.now();
  const client = async () => {
    while (next < total) {
      next++;
      const response = await fetch(`${url}/graphql`, { method: 'POST', headers: benchHeaders, body });
      const answer = (await response.json()) as { data?: { startTrigger?: { id: string } }; errors?: unknown[] };
      if (answer.errors) throw new Error(`refused: ${JSON.stringify(answer.errors).slice(0, 200)}`);
      if (answer.data?.startTrigger) started.push(answer.data.startTrigger.id);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, client));
  return { perSecond: total / ((performance.now() - at) / 1000), started };
}

export interface AuthenticationResult {
  queriesPerSecond: { with: number; without: number };
  startsPerSecond: { with: number; without: number };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function authentication(env: BenchEnv): Promise<AuthenticationResult> {
  const servers = { with: benchServer(env, { rateLimitPerMinute: 60_000 }), without: openServer(env) };
  const urls: Record<string, string> = {};
  for (const [name, app] of Object.entries(servers)) {
    await app.listen({ port: 0, host: '127.0.0.1' });
    urls[name] = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  }
  try {
    const workflow = await env.engine.workflows.create({
      name: 'auth bench',
      nodes: [
        { id: 'start', type: 'trigger.manual' },
        { id: 'done', type: 'noop' },
      ],
      connections: [{ source: 'start', target: 'done' }],
    });
    await env.projections.caughtUp();
    const query = JSON.stringify({ query: 'query ($id: ID!) { workflow(id: $id) { id name } }', variables: { id: workflow.id } });
    const start = JSON.stringify({ query: 'mutation ($id: ID!) { startTrigger(workflowId: $id, triggerNodeId: "start") { id } }', variables: { id: workflow.id } });
    const runs = { queries: { with: [] as number[], without: [] as number[] }, starts: { with: [] as number[], without: [] as number[] } };
    // Warm-up (JIT, the key cache, the pool), then the two in turn, so that the machine's noise
    // falls on both; the executions a run started finish before the next run, so that no run
    // pays for the one before.
    for (const url of Object.values(urls)) await rate(url, query, 200);
    // Which goes first changes each round: the second of a pair runs on a warmer process.
    const order = (round: number) => (round % 2 === 0 ? (['with', 'without'] as const) : (['without', 'with'] as const));
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of order(round)) runs.queries[name].push((await rate(urls[name]!, query, QUERIES)).perSecond);
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of order(round)) {
        const { perSecond, started } = await rate(urls[name]!, start, STARTS);
        runs.starts[name].push(perSecond);
        await waitForAll(env.store, started);
        await env.projections.caughtUp();
      }
    }
    return {
      queriesPerSecond: { with: median(runs.queries.with), without: median(runs.queries.without) },
      startsPerSecond: { with: median(runs.starts.with), without: median(runs.starts.without) },
    };
  } finally {
    for (const app of Object.values(servers)) await app.close();
  }
}

/** The rows of the table: each figure with and without, and their ratio (target: >= 0.95). */
export function authenticationRows({ queriesPerSecond: q, startsPerSecond: s }: AuthenticationResult): Array<[string, string, string]> {
  const row = (name: string, { with: on, without: off }: { with: number; without: number }): [string, string, string] => [
    `${name} with / without authentication (req/s)`,
    `${on.toFixed(0)} / ${off.toFixed(0)}`,
    `${(on / off).toFixed(3)} (target >= 0.95)`,
  ];
  return [row('API: workflow query', q), row('API: startTrigger', s)];
}
