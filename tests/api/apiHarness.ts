import type { AddressInfo } from 'node:net';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { buildServer, type ServerOptions } from '../../src/api/server.js';
import type { FastifyInstance } from 'fastify';
import { createPostgresEventStore } from '../../src/eventstore/postgresEventStore.js';
import { migrate } from '../../src/db/migrator.js';
import { ProjectionRunner } from '../../src/projections/projectionRunner.js';
import { ReadModel } from '../../src/projections/readModel.js';
import { Engine, type EngineOptions } from '../../src/runtime/engine.js';
import type { Backend } from '../support/backends.js';

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
  gql<T = any>(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>>;
  /** A graphql-ws client on /graphql; closed with the harness. */
  wsClient(): Client;
  /** Resolves once the read model has everything committed so far. */
  caughtUp(): Promise<void>;
  close(): Promise<void>;
}

export interface ApiOptions extends Pick<ServerOptions, 'coalesceMs'> {
  /** Engine settings beyond the store and database (a clock, a window, ...). */
  engine?: Partial<EngineOptions>;
}

export async function startApi(backend: Backend, { engine: engineOptions, ...options }: ApiOptions = {}): Promise<Api> {
  const db = backend.db;
  await migrate(db);
  const store = createPostgresEventStore(db);
  const readModel = new ReadModel(db);
  const projections = new ProjectionRunner({ store, db });
  const engine = new Engine({ ...engineOptions, store, db });
  await projections.start();
  await engine.start();
  const app = buildServer({ engine, readModel, projections, store, db, ...options });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const clients: Client[] = [];
  return {
    url,
    app,
    engine,
    async gql(query, variables) {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, ...((await response.json()) as object) };
    },
    caughtUp: () => projections.caughtUp(),
    wsClient() {
      const client = createClient({ url: `${url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
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
