import { createClient, type Client } from 'graphql-ws';
import { apiKey } from './session.js';

/** A GraphQL error the server answered, with its `extensions.code`. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

interface Answer<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

const authorization = (): string => `Bearer ${apiKey() ?? ''}`;

/** Called when the server refuses the key: the app goes back to the sign-in form. */
let onUnauthenticated: () => void = () => undefined;
export const whenUnauthenticated = (handler: () => void): void => void (onUnauthenticated = handler);

export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: authorization() },
    body: JSON.stringify({ query, variables }),
  });
  const answer = (await response.json().catch(() => ({ errors: [{ message: `HTTP ${response.status}` }] }))) as Answer<T>;
  const error = answer.errors?.[0];
  if (error) {
    const code = error.extensions?.code ?? (response.status === 401 ? 'UNAUTHENTICATED' : 'INTERNAL_ERROR');
    if (code === 'UNAUTHENTICATED') onUnauthenticated();
    throw new ApiError(error.message, code);
  }
  return answer.data as T;
}

let client: Client | null = null;

/** One graphql-ws connection for the whole tab; the key goes in connection_init. */
function wsClient(): Client {
  client ??= createClient({
    url: new URL('/graphql', location.href).href.replace(/^http/, 'ws'),
    connectionParams: () => ({ authorization: authorization() }),
    // Reconnects after a restart of the server; a resubscription starts with a fresh snapshot.
    retryAttempts: 30,
    on: { closed: (event) => (event as CloseEvent).code === 4401 && onUnauthenticated() },
  });
  return client;
}

export interface Subscriber<T> {
  data: (data: T) => void;
  /** The server ended it (executionUpdated ends with its execution), or it failed. */
  ended: (error: string | null) => void;
}

/** Subscribes; returns the function that ends the subscription. */
export function subscribe<T>(query: string, variables: Record<string, unknown>, subscriber: Subscriber<T>): () => void {
  return wsClient().subscribe<T>(
    { query, variables },
    {
      next: (answer) => (answer.errors?.length ? subscriber.ended(answer.errors[0]!.message) : answer.data && subscriber.data(answer.data)),
      error: (error) => subscriber.ended(error instanceof Error ? error.message : 'subscription closed'),
      complete: () => subscriber.ended(null),
    },
  );
}

/** Ends the connection (signing out). */
export function closeSubscriptions(): void {
  void client?.dispose();
  client = null;
}
