import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowDefinition } from '../../src/domain/workflow/workflow.js';
import { AddressBlockedError, blockedReason, guardedDispatcher } from '../../src/nodes/addressRules.js';
import { BACKENDS } from '../support/backends.js';
import { useHarness } from '../support/engineHarness.js';

/** A local server that counts its requests: /ok answers, /to?url= redirects there; it closes every connection, so each request is a new one. */
async function startServer() {
  const hits: string[] = [];
  const server: Server = createServer((request, response) => {
    hits.push(request.url ?? '');
    response.setHeader('connection', 'close');
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname === '/to') return void response.writeHead(302, { location: url.searchParams.get('url') ?? '/' }).end();
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"reached":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { port, hits, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const httpFlow = (url: string): WorkflowDefinition => ({
  name: 'address rules',
  nodes: [
    { id: 'start', type: 'trigger.manual' },
    // Retries would hide a refusal that is not permanent: it must fail at its first attempt.
    { id: 'call', type: 'http', parameters: { url }, retry: { maxAttempts: 3, initialDelayMs: 0 } },
  ],
  connections: [{ source: 'start', target: 'call', sourceOutput: null }],
});

describe('blockedReason', () => {
  const open = { blockPrivate: false };
  const closed = { blockPrivate: true };
  it.each([
    ['169.254.169.254', 'link-local', 'link-local'],
    ['::ffff:169.254.169.254', 'link-local', 'link-local'],
    ['fe80::1', 'link-local', 'link-local'],
    ['127.0.0.1', null, 'loopback'],
    ['::1', null, 'loopback'],
    ['::ffff:127.0.0.1', null, 'loopback'],
    ['10.1.2.3', null, 'private'],
    ['172.16.0.1', null, 'private'],
    ['192.168.1.1', null, 'private'],
    ['fc00::1', null, 'uniqueLocal'],
    ['0.0.0.0', null, 'unspecified'],
    ['100.64.0.1', null, 'carrierGradeNat'],
    ['93.184.216.34', null, null],
    ['2606:2800:220:1::1', null, null],
  ])('%s: %s by default, %s with HTTP_NODE_BLOCK_PRIVATE', (address, byDefault, blockingPrivate) => {
    expect(blockedReason(address, open)).toBe(byDefault);
    expect(blockedReason(address, closed)).toBe(blockingPrivate);
  });
});

describe('the guarded connection pool', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => (server = await startServer()));
  afterAll(async () => server?.close());

  it('checks the address at every connection, so a name that rebinds to link-local is refused on its next connection', async () => {
    const answers = [['127.0.0.1'], ['169.254.169.254']];
    const dispatcher = guardedDispatcher({ blockPrivate: false }, (_host, _options, callback) =>
      callback(
        null,
        (answers.shift() ?? []).map((address) => ({ address, family: 4 })),
      ),
    );
    const url = `http://rebinding.test:${server.port}/ok`;
    expect((await fetch(url, { dispatcher })).status).toBe(200);
    const refused = await fetch(url, { dispatcher }).catch((error: unknown) => error);
    expect((refused as Error).cause).toBeInstanceOf(AddressBlockedError);
    expect(((refused as Error).cause as Error).message).toBe(
      'HTTP_ADDRESS_BLOCKED: rebinding.test resolves to 169.254.169.254, a link-local address that http nodes may not reach',
    );
    expect(server.hits).toEqual(['/ok']);
    await dispatcher.close();
  });
});

describe.each([BACKENDS[0]!])('http node address rules on $name', ({ create }) => {
  let server: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => (server = await startServer()));
  afterAll(async () => server?.close());

  describe('by default', () => {
    const harness = useHarness(create);

    it.each(['http://169.254.169.254/latest/meta-data/', 'http://[::ffff:169.254.169.254]/', 'http://[fe80::1]/'])(
      'never reaches the link-local %s: a permanent HTTP_ADDRESS_BLOCKED at the first attempt',
      async (url) => {
        const state = await harness.run(httpFlow(url));
        expect(state.nodes.get('call')).toMatchObject({ status: 'FAILED', attempt: 1, errorCode: 'HTTP_ADDRESS_BLOCKED' });
        expect(state.nodes.get('call')!.error).toMatch(/^HTTP_ADDRESS_BLOCKED: .* a link-local address that http nodes may not reach$/);
      },
    );

    it('refuses a redirect to a link-local address, and reaches loopback by name', async () => {
      const redirected = await harness.run(httpFlow(`http://localhost:${server.port}/to?url=${encodeURIComponent('http://169.254.169.254/')}`));
      expect(redirected.nodes.get('call')).toMatchObject({ status: 'FAILED', attempt: 1, errorCode: 'HTTP_ADDRESS_BLOCKED' });
      const reached = await harness.run(httpFlow(`http://localhost:${server.port}/ok`));
      expect(reached.nodes.get('call')).toMatchObject({ status: 'COMPLETED', output: { status: 200, body: { reached: true } } });
    });
  });

  describe('with HTTP_NODE_BLOCK_PRIVATE', () => {
    const harness = useHarness(create, { http: { blockPrivate: true } });

    it.each([
      [
        'localhost, which resolves to loopback',
        (port: number) => `http://localhost:${port}/ok`,
        /^HTTP_ADDRESS_BLOCKED: localhost resolves to (127\.0\.0\.1|::1), a loopback address/,
      ],
      ['a loopback literal', (port: number) => `http://127.0.0.1:${port}/ok`, /^HTTP_ADDRESS_BLOCKED: 127\.0\.0\.1 resolves to 127\.0\.0\.1, a loopback address/],
      ['a private literal', () => 'http://10.0.0.1/', /^HTTP_ADDRESS_BLOCKED: 10\.0\.0\.1 resolves to 10\.0\.0\.1, a private address/],
    ])('refuses %s without sending anything', async (_, url, message) => {
      const before = server.hits.length;
      const state = await harness.run(httpFlow(url(server.port)));
      expect(state.nodes.get('call')).toMatchObject({ status: 'FAILED', attempt: 1, errorCode: 'HTTP_ADDRESS_BLOCKED' });
      expect(state.nodes.get('call')!.error).toMatch(message);
      expect(server.hits.length).toBe(before);
    });
  });
});
