import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type Backend } from '../support/backends.js';
import { startApi, type Api } from './apiHarness.js';

describe('GraphiQL works offline', () => {
  let backend: Backend;
  let api: Api;
  beforeAll(async () => {
    backend = await BACKENDS.find(({ name }) => name === 'pglite')!.create();
    api = await startApi(backend);
  });
  afterAll(async () => {
    await api?.close();
    await backend?.dispose();
  });

  it('serves the page and every script and stylesheet it references from this server', async () => {
    const page = await fetch(`${api.url}/graphiql`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    const references = [...html.matchAll(/<(?:script[^>]*\bsrc|link[^>]*\bhref)="([^"]+)"/g)].map((match) => match[1]!);
    expect(references.length).toBeGreaterThanOrEqual(4);
    for (const reference of references) {
      const url = new URL(reference, `${api.url}/graphiql`);
      expect(url.origin, reference).toBe(api.url);
      const asset = await fetch(url);
      expect(asset.status, reference).toBe(200);
      expect((await asset.arrayBuffer()).byteLength, reference).toBeGreaterThan(0);
    }
  });

  it('the script that starts GraphiQL loads nothing from another host', async () => {
    const start = await (await fetch(`${api.url}/graphiql/start.js`)).text();
    expect(start).toContain('GraphiQL.createFetcher');
    expect(start).not.toMatch(/https?:\/\//);
  });

  it('asks for a key once per tab and sends it on HTTP and graphql-ws, while the page itself needs none', async () => {
    const start = await (await fetch(`${api.url}/graphiql/start.js`)).text();
    expect(start).toContain('window.prompt');
    expect(start).toContain('sessionStorage');
    expect(start).toMatch(/headers: authorization/);
    expect(start).toMatch(/wsConnectionParams: authorization/);
  });
});
