import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { benchHeaders, benchServer, createBenchEnv, percentile } from './support.js';

/**
 * `npm run bench:guards`: how fast hostile GraphQL documents are refused (QUERY_TOO_COMPLEX) and
 * how much the server's heap moves while it refuses them, over real HTTP and graphql-ws.
 */
const ROUNDS = Number(process.env.BENCH_GUARD_ROUNDS ?? 200);

const deep = `{ ${'a { '.repeat(39)}a${' }'.repeat(39)} }`;
const aliases = `{ ${Array.from({ length: 1000 }, (_, i) => `a${i}: __typename`).join(' ')} }`;
/** A body just under the 1 MiB limit of single-token fields: seconds of parsing without the token bound. */
const huge = `{ ${'a '.repeat(500_000)}}`;

const heapMb = () => {
  globalThis.gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

async function timeHttp(url: string, query: string): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const started = performance.now();
    const response = await fetch(`${url}/graphql`, { method: 'POST', headers: benchHeaders, body: JSON.stringify({ query }) });
    const body = (await response.json()) as { errors?: Array<{ extensions: { code: string } }> };
    if (body.errors?.[0]?.extensions.code !== 'QUERY_TOO_COMPLEX') throw new Error(`not refused: ${JSON.stringify(body).slice(0, 200)}`);
    times.push(performance.now() - started);
  }
  return times;
}

async function timeWs(url: string, query: string): Promise<number[]> {
  const socket = new WebSocket(`${url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
  await new Promise((resolve) => socket.once('open', resolve));
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: benchHeaders.authorization } }));
  await new Promise((resolve) => socket.once('message', resolve));
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const started = performance.now();
    // Keep-alive pings come and go meanwhile: the answer is the message for this id.
    const answer = new Promise<string>((resolve) => {
      const onMessage = (data: Buffer) => {
        const text = data.toString();
        if (!text.includes(`"id":"${i}"`)) return;
        socket.off('message', onMessage);
        resolve(text);
      };
      socket.on('message', onMessage);
    });
    socket.send(JSON.stringify({ id: String(i), type: 'subscribe', payload: { query } }));
    const text = await answer;
    if (!text.includes('QUERY_TOO_COMPLEX')) throw new Error(`not refused: ${text.slice(0, 200)}`);
    times.push(performance.now() - started);
  }
  socket.close();
  return times;
}

async function main(): Promise<void> {
  const env = await createBenchEnv();
  const app = benchServer(env, { rateLimitPerMinute: 60_000 });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  try {
    const rows = [];
    for (const [name, query] of [
      ['40 levels deep', deep],
      ['1,000 aliases', aliases],
      ['1 MiB of tokens', huge],
    ] as const) {
      for (const [transport, run] of [
        ['http', timeHttp],
        ['graphql-ws', timeWs],
      ] as const) {
        await run(url, query); // warm-up round
        const before = heapMb();
        const times = await run(url, query);
        rows.push({ document: name, transport, medianMs: percentile(times, 50).toFixed(1), p99Ms: percentile(times, 99).toFixed(1), heapDeltaMb: (heapMb() - before).toFixed(1) });
      }
    }
    console.table(rows);
  } finally {
    await app.close();
    await env.close();
  }
}

await main();
