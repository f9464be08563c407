import type { AddressInfo } from 'node:net';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, afterEach, beforeAll } from 'vitest';
import WebSocket from 'ws';
import { buildServer, type ServerOptions } from '../../src/api/server.js';
import type { FastifyInstance } from 'fastify';
import { createPostgresEventStore } from '../../src/eventstore/postgresEventStore.js';
import { migrate } from '../../src/db/migrator.js';
import { ProjectionRunner } from '../../src/projections/projectionRunner.js';
import { ReadModel } from '../../src/projections/readModel.js';
import { Engine, type EngineOptions } from '../../src/runtime/engine.js';
import { newSecretKey, SecretKeys } from '../../src/secrets/secretKeys.js';
import { SecretStore } from '../../src/secrets/secretStore.js';
import type { Backend } from '../support/backends.js';
import type { SqlClient } from '../../src/db/sqlClient.js';
import { createAuth, NO_JWT, type Auth } from '../../src/auth/auth.js';
import type { JwtSettings } from '../../src/auth/jwtVerifier.js';

export interface GraphQLResponse<T = any> {
  status: number;
  data?: T | null;
  errors?: Array<{ message: string; path?: string[]; extensions: { code: string } & Record<string, unknown> }>;
}

/** The whole server on a real port, over one of the backends, with an HTTP and a graphql-ws client. */
export interface Api {
  url: string;
  app: FastifyInstance;
  engine: Engine;
  /** The database the server runs on (to look at its tables). */
  db: SqlClient;
  /** A GraphQL request with the admin key (or `key`: another key, null for none). */
  gql<T = any>(query: string, variables?: Record<string, unknown>, key?: string | null): Promise<GraphQLResponse<T>>;
  /** A graphql-ws client on /graphql with the admin key (or `key`); closed with the harness. */
  wsClient(key?: string | null): Client;
  /** The ADMIN key of the tenant default the harness made at start. */
  adminKey: string;
  /** A new key (createApiKey's input), its secret answered. */
  createKey(input: Record<string, unknown>): Promise<string>;
  auth: Auth;
  /** Resolves once the read model has everything committed so far. */
  caughtUp(): Promise<void>;
  /** Every SQL statement the server's read model sent, in order (a counting wrapper around the real client). */
  readModelQueries: string[];
  close(): Promise<void>;
}

export interface ApiOptions extends Pick<ServerOptions, 'coalesceMs' | 'queryBounds' | 'rateLimitPerMinute' | 'slowSubscribers' | 'logger' | 'nodeJobs'> {
  /** Engine settings beyond the store and database (a clock, a window, ...). */
  engine?: Partial<EngineOptions>;
  /** JWT verification (AUTH_JWT_*); default: none. */
  jwt?: JwtSettings;
}

export async function startApi(backend: Backend, { engine: engineOptions, jwt, ...options }: ApiOptions = {}): Promise<Api> {
  const db = backend.db;
  await migrate(db);
  const store = createPostgresEventStore(db);
  const readModelQueries: string[] = [];
  const readModel = new ReadModel({
    query: (text, params) => {
      readModelQueries.push(text);
      return db.query(text, params);
    },
  });
  const projections = new ProjectionRunner({ store, db });
  const secrets = new SecretStore(db, new SecretKeys(newSecretKey()));
  const engine = new Engine({ secrets, ...engineOptions, store, db });
  await projections.start();
  await engine.start();
  const auth = createAuth(db, jwt ?? NO_JWT, (error) => console.error('audit log error', error));
  const { secret: adminKey } = await auth.keys.create({ name: 'harness admin', roles: ['ADMIN'], tenantId: 'default', canViewPayloads: true });
  const app = buildServer({ engine, readModel, projections, store, db, secrets, auth, ...options });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const clients: Client[] = [];
  const api: Api = {
    url,
    app,
    engine,
    db,
    adminKey,
    auth,
    async gql(query, variables, key = adminKey) {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key === null ? {} : { authorization: `Bearer ${key}` }) },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, ...((await response.json()) as object) };
    },
    caughtUp: () => projections.caughtUp(),
    readModelQueries,
    async createKey(input) {
      const answer = await api.gql<{ createApiKey: { secret: string } }>('mutation ($input: ApiKeyInput!) { createApiKey(input: $input) { secret } }', { input });
      if (!answer.data) throw new Error(`createApiKey failed: ${JSON.stringify(answer.errors)}`);
      return answer.data.createApiKey.secret;
    },
    wsClient(key = adminKey) {
      const client = createClient({
        url: `${url.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        connectionParams: key === null ? {} : { authorization: `Bearer ${key}` },
      });
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map(async (client) => client.dispose()));
      await app.close();
      await engine.stop();
      await projections.stop();
      await store.close();
    },
  };
  return api;
}

/** Collects every message of one subscription until it completes (or fails). */
export function collect<T>(client: Client, query: string, variables: Record<string, unknown>) {
  const messages: T[] = [];
  let stop: () => void = () => {};
  const done = new Promise<T[]>((resolve, reject) => {
    stop = client.subscribe<T>(
      { query, variables },
      {
        next: (message) => (message.errors ? reject(Object.assign(new Error('subscription error'), { errors: message.errors })) : messages.push(message.data as T)),
        error: (error) => reject(Object.assign(new Error('subscription error'), { cause: error })),
        complete: () => resolve(messages),
      },
    );
  });
  return { messages, done, stop: () => stop() };
}

/** Stands for what `get` gives once the suite's beforeAll made it: usable as a const at the top of a describe block. */
function once<T extends object>(get: () => T | undefined, what: string): T {
  return new Proxy({} as T, {
    get: (_, property) => {
      const target = get();
      if (!target) throw new Error(`${what} is used before the suite's beforeAll made it`);
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** One server on one fresh database for a whole describe block (`const { api, backend } = apiPerSuite(create)`), closed after it. */
export function apiPerSuite(create: () => Promise<Backend>, options?: ApiOptions): { api: Api; backend: Backend } {
  const held: { api?: Api; backend?: Backend } = {};
  beforeAll(async () => {
    held.backend = await create();
    held.api = await startApi(held.backend, options);
  });
  afterAll(async () => {
    await held.api?.close();
    await held.backend?.dispose();
  });
  return { api: once(() => held.api, 'the API'), backend: once(() => held.backend, 'the backend') };
}

/** Starts a server on a fresh database per test (`await start(create, options)`), and closes both after each test. */
export function apiPerTest(timeoutMs: number): (create: () => Promise<Backend>, options?: ApiOptions) => Promise<Api> {
  let held: { backend: Backend; api?: Api } | undefined;
  afterEach(async () => {
    await held?.api?.close();
    await held?.backend.dispose();
    held = undefined;
  }, timeoutMs);
  return async (create, options) => {
    held = { backend: await create() };
    held.api = await startApi(held.backend, options);
    return held.api;
  };
}
