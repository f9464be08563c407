import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type Backend } from '../support/backends.js';
import { startApi, type Api } from './apiHarness.js';

const [postgres] = BACKENDS;
const LIMIT = 5;
const TOKEN = 'csk_rate-test-token-that-must-never-be-logged';
const ANOTHER = 'csk_another-rate-test-token';

describe('request rate per token, client address and webhook path (RATE_LIMIT_PER_MINUTE)', () => {
  let backend: Backend;
  let api: Api;
  const logLines: string[] = [];
  beforeAll(async () => {
    backend = await postgres!.create();
    const sink = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        logLines.push(chunk.toString('utf8'));
        done();
      },
    });
    api = await startApi(backend, { rateLimitPerMinute: LIMIT, logger: pino({ level: 'trace' }, sink) });
    // Straight into the store: a createApiKey request would count against the admin key's bucket.
    for (const secret of [TOKEN, ANOTHER]) await api.auth.keys.create({ name: secret.slice(-8), roles: ['VIEWER'], tenantId: 'default' }, secret);
  }, 120_000);
  afterAll(async () => {
    await api?.close();
    await backend?.dispose();
  });

  const query = (authorization?: string) =>
    fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body: JSON.stringify({ query: '{ __typename }' }),
    });

  it('answers 429 RATE_LIMITED past the limit of one token, with Retry-After, while another token and the address go on', async () => {
    for (let i = 0; i < LIMIT; i++) expect((await query(`Bearer ${TOKEN}`)).status).toBe(200);
    const refused = await query(`Bearer ${TOKEN}`);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await refused.json()) as { data: null; errors: Array<{ message: string; extensions: { code: string } }> };
    expect(body.errors[0]!.extensions.code).toBe('RATE_LIMITED');
    expect(body.errors[0]!.message).toMatch(/^more than 5 requests in a minute \(RATE_LIMIT_PER_MINUTE\); retry in /);
    expect((await query(`Bearer ${ANOTHER}`)).status).toBe(200);
    // Without a credential: refused as such (401), but not yet limited.
    expect((await query()).status).toBe(401);
  });

  it('counts requests without a credential against the client address', async () => {
    const statuses = [];
    for (let i = 0; i < LIMIT + 1; i++) statuses.push((await query()).status);
    expect(statuses.at(-1)).toBe(429);
  });

  it('never limits /health', async () => {
    for (let i = 0; i < LIMIT * 3; i++) expect((await fetch(`${api.url}/health`)).status).toBe(200);
  });

  it('limits each webhook path on its own, answering { error: { code: RATE_LIMITED } }', async () => {
    const post = (path: string) => fetch(`${api.url}/webhooks/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    for (let i = 0; i < LIMIT; i++) expect((await post('flooded')).status).toBe(404);
    const refused = await post('flooded');
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
    expect((await post('other')).status).toBe(404);
  });

  it('keeps the token out of every log line', () => {
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.join('\n')).not.toContain(TOKEN);
  });
});
