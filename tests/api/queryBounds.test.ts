import { getIntrospectionQuery } from 'graphql';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type Backend } from '../support/backends.js';
import { startApi, type Api } from './apiHarness.js';

const [postgres] = BACKENDS;

/** `{ a { a { ... } } }`, `levels` fields deep: no such field exists, so only a bound that comes before validation can answer QUERY_TOO_COMPLEX alone. */
const deep = (levels: number, operation = '') => `${operation}{ ${'a { '.repeat(levels - 1)}a${' }'.repeat(levels - 1)} }`;
/** Each fragment spreads the one before twice: 12 fragments select 2^12 workflow lists from a document of 60 lines. */
const FAN_OUT = [
  'fragment F0 on Query { workflows { id } }',
  ...Array.from({ length: 12 }, (_, i) => `fragment F${i + 1} on Query { ...F${i} ...F${i} }`),
  'query { ...F12 }',
].join('\n');

const workflowCount = async (api: Api) => (await api.gql('{ workflows { id } }')).data.workflows.length as number;

/** Messages of one subscription until it errors or completes. */
function subscribe(client: Client, query: string) {
  return new Promise<{ errors?: Array<{ message: string; extensions?: Record<string, unknown> }>; data?: unknown }>((resolve) => {
    client.subscribe(
      { query },
      {
        next: (data) => resolve({ data }),
        error: (errors) => resolve({ errors: errors as Array<{ message: string; extensions?: Record<string, unknown> }> }),
        complete: () => resolve({}),
      },
    );
  });
}

describe('GraphQL depth, alias, cost and token bounds (defaults)', () => {
  let backend: Backend;
  let api: Api;
  beforeAll(async () => {
    backend = await postgres!.create();
    api = await startApi(backend);
  }, 120_000);
  afterAll(async () => {
    await api?.close();
    await backend?.dispose();
  });

  it('refuses a query 40 levels deep with QUERY_TOO_COMPLEX (HTTP 400), before validation', async () => {
    const response = await api.gql(deep(40));
    expect(response.status).toBe(400);
    expect(response.errors).toEqual([expect.objectContaining({ message: "the query's depth is 40, over the limit of 20 (GRAPHQL_MAX_DEPTH)" })]);
    expect(response.errors![0]!.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', depth: 40, limit: 20 });
  });

  it('refuses 1,000 aliased createWorkflow mutations and runs none of them', async () => {
    const before = await workflowCount(api);
    const mutation = `mutation($input: WorkflowInput!) { ${Array.from({ length: 1000 }, (_, i) => `w${i}: createWorkflow(input: $input) { id }`).join('\n')} }`;
    const response = await api.gql(mutation, { input: { name: 'alias', nodes: [{ id: 'start', type: 'trigger.manual' }], connections: [] } });
    expect(response.status).toBe(400);
    expect(response.errors![0]!.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', aliases: 1000, limit: 50 });
    expect(response.errors![0]!.message).toContain('GRAPHQL_MAX_ALIASES');
    expect(await workflowCount(api)).toBe(before);
  });

  it('counts fragments where they are spread: 12 doubling fragments are refused for their cost', async () => {
    const response = await api.gql(FAN_OUT);
    expect(response.errors![0]!.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', cost: 2 * 2 ** 12, depth: 2, aliases: 0 });
    expect(response.errors![0]!.message).toContain('GRAPHQL_MAX_COST');
  });

  it('stops parsing a document past 20,000 tokens', async () => {
    const response = await api.gql(`{ ${'__typename '.repeat(30_000)}}`);
    expect(response.status).toBe(400);
    expect(response.errors).toEqual([{ message: 'the document has more than 20000 tokens (GRAPHQL_MAX_TOKENS)', extensions: { code: 'QUERY_TOO_COMPLEX', maxTokens: 20_000 } }]);
  });

  it("answers what clients send within the bounds: GraphiQL's introspection query, and 50 aliases", async () => {
    const introspection = await api.gql(getIntrospectionQuery());
    expect(introspection.errors).toBeUndefined();
    expect(introspection.data.__schema.queryType.name).toBe('Query');
    const aliased = await api.gql(`{ ${Array.from({ length: 50 }, (_, i) => `h${i}: __typename`).join(' ')} }`);
    expect(aliased.errors).toBeUndefined();
    expect(Object.keys(aliased.data)).toHaveLength(50);
  });

  it('refuses a subscription past a bound over graphql-ws with QUERY_TOO_COMPLEX, on a socket that goes on serving', async () => {
    const client = api.wsClient();
    let connections = 0;
    client.on('connected', () => connections++);
    const created = await api.gql('mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id } }', {
      input: { name: 'watched', nodes: [{ id: 'start', type: 'trigger.manual' }], connections: [] },
    });
    const workflowId = created.data.createWorkflow.id as string;
    const updates: unknown[] = [];
    const open = client.subscribe(
      { query: `subscription { workflowExecutions(workflowId: "${workflowId}") { executionId } }` },
      { next: (each) => updates.push(each), error: () => {}, complete: () => {} },
    );
    const tooDeep = await subscribe(client, deep(40, 'subscription '));
    expect(tooDeep.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'QUERY_TOO_COMPLEX', depth: 40 }) })]);
    const tooLong = await subscribe(client, `subscription { ${'__typename '.repeat(30_000)}}`);
    expect(tooLong.errors).toEqual([{ message: 'the document has more than 20000 tokens (GRAPHQL_MAX_TOKENS)', extensions: { code: 'QUERY_TOO_COMPLEX', maxTokens: 20_000 } }]);
    // The subscription opened before the refusals still hears of a new execution, over the same socket.
    await api.gql(`mutation { startTrigger(workflowId: "${workflowId}", triggerNodeId: "start") { id } }`);
    await expect.poll(() => updates.length, { timeout: 30_000 }).toBeGreaterThan(0);
    expect(connections).toBe(1);
    open();
  });
});

describe('GraphQL bounds set by the server options', () => {
  let backend: Backend;
  let api: Api;
  beforeAll(async () => {
    backend = await postgres!.create();
    api = await startApi(backend, { queryBounds: { maxDepth: 3, maxAliases: 2, maxCost: 10, maxTokens: 100 } });
  }, 120_000);
  afterAll(async () => {
    await api?.close();
    await backend?.dispose();
  });

  it('holds every bound at its configured value', async () => {
    expect((await api.gql('{ workflows { nodes { id } } }')).errors).toBeUndefined();
    expect((await api.gql('{ workflows { nodes { parameters id } id } }')).errors).toBeUndefined();
    const codes = async (query: string) => (await api.gql(query)).errors?.map((error) => [error.extensions.code, error.message]);
    expect(await codes(deep(4))).toEqual([['QUERY_TOO_COMPLEX', "the query's depth is 4, over the limit of 3 (GRAPHQL_MAX_DEPTH)"]]);
    expect(await codes('{ a: __typename b: __typename c: __typename }')).toEqual([['QUERY_TOO_COMPLEX', "the query's aliases is 3, over the limit of 2 (GRAPHQL_MAX_ALIASES)"]]);
    expect(await codes(`{ ${'__typename '.repeat(11)}}`)).toEqual([['QUERY_TOO_COMPLEX', "the query's cost (fields selected) is 11, over the limit of 10 (GRAPHQL_MAX_COST)"]]);
    expect(await codes(`{ ${'__typename '.repeat(100)}}`)).toEqual([['QUERY_TOO_COMPLEX', 'the document has more than 100 tokens (GRAPHQL_MAX_TOKENS)']]);
  });
});
