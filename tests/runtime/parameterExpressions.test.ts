import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineNodeType } from '../../src/index.js';
import { BACKENDS } from '../support/backends.js';
import { useHarness } from '../support/engineHarness.js';
import { eventsOf, flow } from '../support/flows.js';
import { HOSTILE } from '../support/hostileExpressions.js';

interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local server that answers every request with 200 and keeps what it got. */
async function startRecorder() {
  const received: Received[] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, body });
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Gives back its parameters as resolved. */
const echo = defineNodeType({
  type: 'test.echo',
  parameters: { type: 'object', properties: { count: { type: 'integer', maximum: 10 } } },
  sideEffects: false,
  execute: async ({ parameters }) => ({ output: parameters }),
});

describe.each(BACKENDS)('parameter expressions ($name)', (backend) => {
  const h = useHarness(backend.create, { nodeTypes: [echo] });
  let server: Awaited<ReturnType<typeof startRecorder>>;
  beforeAll(async () => (server = await startRecorder()));
  afterAll(() => server.close());

  it('an http node posts what an upstream node computed, to a URL built by a template', async () => {
    const definition = flow(
      [
        { id: 'price', type: 'transform', parameters: { mapping: '{ "orderId": trigger.id, "total": trigger.quantity * trigger.unitPrice }' } },
        {
          id: 'post',
          type: 'http',
          parameters: {
            url: `${server.url}/orders/{{ trigger.id }}/total?attempt={{ execution.attempt }}`,
            method: 'POST',
            headers: { 'x-order': "{{ 'order-' & trigger.id }}" },
            body: '{{ input.price }}',
          },
        },
      ],
      [
        ['start', 'price'],
        ['price', 'post'],
      ],
    );
    const state = await h.run(definition, 'start', { id: 'A17', quantity: 3, unitPrice: 2.5 });
    expect(state.status).toBe('COMPLETED');
    const request = server.received.find((each) => each.path.startsWith('/orders/A17'))!;
    expect(request).toMatchObject({ method: 'POST', path: '/orders/A17/total?attempt=1' });
    expect(request.headers['x-order']).toBe('order-A17');
    expect(request.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request.body)).toEqual({ orderId: 'A17', total: 7.5 });
    expect(state.nodes.get('post')!.output).toMatchObject({ status: 200, body: { ok: true } });
  });

  it('a whole-value expression gives any JSON value; a template joins its parts as text', async () => {
    const definition = flow(
      [
        { id: 'up', type: 'transform', parameters: { mapping: '{ "n": 4, "tags": ["a", "b"] }' } },
        {
          id: 'e',
          type: 'test.echo',
          parameters: {
            count: '{{ nodes.up.n * 2 }}',
            list: '{{ input.up.tags }}',
            text: 'n={{ nodes.up.n }} tags={{ input.up.tags }} none={{ nothing }}',
            nested: ['{{ execution.workflowId = "" }}'],
          },
        },
      ],
      [
        ['start', 'up'],
        ['up', 'e'],
      ],
    );
    const state = await h.run(definition);
    expect(state.nodes.get('e')!.output).toEqual({ count: 8, list: ['a', 'b'], text: 'n=4 tags=["a","b"] none=', nested: [false] });
    // The log keeps the parameters as written: resolved values (secrets one day) are never recorded.
    const [started] = await eventsOf(h, state.id, 'ExecutionStarted');
    expect(started!.data.nodes.find((node) => node.id === 'e')!.parameters!.count).toBe('{{ nodes.up.n * 2 }}');
  });

  it('resolved parameters are checked against the schema: a break fails the node for good with INVALID_PARAMETERS', async () => {
    const state = await h.run(flow([{ id: 'e', type: 'test.echo', parameters: { count: '{{ 11 }}' }, retry: { maxAttempts: 3 } }], [['start', 'e']]));
    expect(state.status).toBe('FAILED');
    expect(state.nodes.get('e')).toMatchObject({ status: 'FAILED', attempt: 1, errorCode: 'INVALID_PARAMETERS' });
    expect(state.nodes.get('e')!.error).toContain('count must be <= 10');
  });

  it('a delay waits as long as its expression says, and a bad one fails it', async () => {
    const ok = await h.run(flow([{ id: 'd', type: 'delay', parameters: { ms: '{{ trigger.wait }}' } }], [['start', 'd']]), 'start', { wait: 50 });
    expect(ok.status).toBe('COMPLETED');
    const [started] = await eventsOf(h, ok.id, 'NodeStarted', 'd');
    expect(Date.parse(started!.data.wakeAt!) - Date.parse(started!.data.at)).toBe(50);
    const bad = await h.run(flow([{ id: 'd', type: 'delay', parameters: { ms: '{{ trigger.wait }}' } }], [['start', 'd']]), 'start', { wait: -1 });
    expect(bad.nodes.get('d')).toMatchObject({ status: 'FAILED', errorCode: 'INVALID_PARAMETERS' });
  });

  it('an expression past its bound fails the node with EXPRESSION_LIMIT', async () => {
    const state = await h.run(flow([{ id: 'e', type: 'test.echo', parameters: { text: `{{ ${HOSTILE.deepRecursion} }}` } }], [['start', 'e']]));
    expect(state.nodes.get('e')).toMatchObject({ status: 'FAILED', errorCode: 'EXPRESSION_LIMIT' });
  });

  it('if.condition stays plain JSONata', async () => {
    const definition = flow(
      [
        { id: 'i', type: 'if', parameters: { condition: 'trigger.n > 1' } },
        { id: 'yes', type: 'noop' },
      ],
      [
        ['start', 'i'],
        ['i', 'yes', 'true'],
      ],
    );
    const state = await h.run(definition, 'start', { n: 2 });
    expect(state.nodes.get('yes')!.status).toBe('COMPLETED');
  });
});
