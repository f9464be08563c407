import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowDefinition } from '../../src/domain/workflow/workflow.js';
import { BACKENDS } from '../support/backends.js';
import { useHarness } from '../support/engineHarness.js';
import { startHangingServer, type HangingServer } from '../support/hangingServer.js';

const HUNDRED_MB = 100 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 'x');

/** A local server: /big streams 100 MB (counting what it managed to send), /loop redirects to itself, /hops/<n> redirects n times, /nul answers a NUL. */
async function startServer() {
  const stats = { bigSent: 0, bigClosed: false, loopHits: 0 };
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname === '/big') {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.on('close', () => (stats.bigClosed = true));
      // Written as the client drains it: what was sent is what the client read, plus socket buffers.
      const pump = () => {
        while (stats.bigSent < HUNDRED_MB && !response.destroyed) {
          stats.bigSent += CHUNK.length;
          if (!response.write(CHUNK)) return void response.once('drain', pump);
        }
        response.end();
      };
      return pump();
    }
    if (url.pathname === '/loop') {
      stats.loopHits++;
      return void response.writeHead(302, { location: '/loop' }).end();
    }
    const hops = /^\/hops\/(\d+)$/.exec(url.pathname);
    if (hops) {
      const left = Number(hops[1]);
      if (left === 0) return void response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ arrived: true, method: request.method }));
      return void response.writeHead(left % 2 === 0 ? 301 : 307, { location: `/hops/${left - 1}` }).end();
    }
    if (url.pathname === '/nul') return void response.writeHead(200, { 'content-type': 'text/plain' }).end('a\u0000b');
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const httpFlow = (url: string): WorkflowDefinition => ({
  name: 'http bounds',
  nodes: [
    { id: 'start', type: 'trigger.manual' },
    { id: 'call', type: 'http', parameters: { url } },
  ],
  connections: [{ source: 'start', target: 'call', sourceOutput: null }],
});

describe.each(BACKENDS)('http node bounds on $name', ({ create }) => {
  // A request timeout shorter than the default, so that the silent server is found out within the
  // test's time, yet long enough for 10 MiB over loopback on a loaded machine; the size bound keeps its default.
  const harness = useHarness(create, { http: { timeoutMs: 10_000 } });
  let server: Awaited<ReturnType<typeof startServer>>;
  let hanging: HangingServer;
  beforeAll(async () => {
    server = await startServer();
    hanging = await startHangingServer();
  });
  afterAll(async () => {
    await server?.close();
    await hanging?.close();
  });

  it('fails a 100 MB answer with HTTP_RESPONSE_TOO_LARGE, having read little more than the 10 MiB bound', async () => {
    const state = await harness.run(httpFlow(`${server.url}/big`));
    const node = state.nodes.get('call')!;
    expect(node).toMatchObject({ status: 'FAILED', errorCode: 'HTTP_RESPONSE_TOO_LARGE' });
    expect(node.error).toMatch(/^HTTP_RESPONSE_TOO_LARGE: response body is larger than 10485760 bytes/);
    await expect.poll(() => server.stats.bigClosed, { timeout: 10_000 }).toBe(true);
    // The client stopped reading: what was sent is the bound plus what socket buffers held, far from 100 MB.
    expect(server.stats.bigSent).toBeLessThan(40 * 1024 * 1024);
    expect(state.status).toBe('FAILED');
  });

  it('follows up to 5 redirects by hand and fails a redirect loop after 5 hops', async () => {
    const arrived = await harness.run(httpFlow(`${server.url}/hops/5`));
    expect(arrived.nodes.get('call')).toMatchObject({ status: 'COMPLETED', output: { status: 200, body: { arrived: true, method: 'GET' } } });
    const looped = await harness.run(httpFlow(`${server.url}/loop`));
    expect(looped.nodes.get('call')).toMatchObject({ status: 'FAILED', errorCode: 'HTTP_TOO_MANY_REDIRECTS' });
    expect(looped.nodes.get('call')!.error).toMatch(/^HTTP_TOO_MANY_REDIRECTS: more than 5 redirects/);
    expect(server.stats.loopHits).toBe(6);
  });

  it('times out a server that never answers (HTTP_NODE_TIMEOUT_MS), and drops the connection', async () => {
    const before = hanging.requests.length;
    const state = await harness.run(httpFlow(hanging.url));
    const node = state.nodes.get('call')!;
    expect(node).toMatchObject({ status: 'FAILED', errorCode: 'HTTP_TIMEOUT' });
    expect(node.error).toMatch(/^HTTP_TIMEOUT: no complete answer from .* within 10000 ms/);
    await expect.poll(() => hanging.requests[before]?.closedAt, { timeout: 10_000 }).not.toBeNull();
  });

  it('fails a node whose output holds a NUL with INVALID_OUTPUT instead of leaving the execution RUNNING', async () => {
    const state = await harness.run(httpFlow(`${server.url}/nul`));
    const node = state.nodes.get('call')!;
    expect(node).toMatchObject({ status: 'FAILED', errorCode: 'INVALID_OUTPUT' });
    expect(node.error).toBe('INVALID_OUTPUT: output $.body contains a NUL character at position 1');
    expect(state.status).toBe('FAILED');
  });
});
