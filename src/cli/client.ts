import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { postGraphQL, type GraphQLAnswer } from '../client/graphqlOverHttp.js';
import { CliError } from './cliError.js';

/** The server's GraphQL API, over HTTP and graphql-ws: the CLI never opens the database. */
export interface Client {
  url: string;
  request<T>(query: string, variables?: Record<string, unknown>): Promise<T>;
  subscribe<T>(query: string, variables: Record<string, unknown>, onData: (data: T) => void): Promise<void>;
}

const DEFAULT_URL = 'http://localhost:4000';
/** A request that takes longer is reported instead of hanging the terminal. */
const REQUEST_TIMEOUT_MS = 30_000;

function serverUrl(env: NodeJS.ProcessEnv): URL {
  const raw = env.CASCADE_URL?.trim() || DEFAULT_URL;
  const url = URL.canParse(raw) ? new URL(raw) : null;
  if (!url || !['http:', 'https:'].includes(url.protocol)) throw new CliError('BAD_USER_INPUT', `CASCADE_URL must be an http:// or https:// URL, got "${raw}"`);
  return url;
}

const unreachable = (url: string, error: unknown): CliError => {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : error instanceof Error ? error.message : String(error);
  return new CliError('UNREACHABLE', `cannot reach the Cascade server at ${url} (${cause}); set CASCADE_URL`);
};

const answerError = (errors: NonNullable<GraphQLAnswer<unknown>['errors']>): CliError => new CliError(errors[0]!.extensions?.code ?? 'INTERNAL_ERROR', errors[0]!.message);

export function createApiClient(env: NodeJS.ProcessEnv = process.env): Client {
  const base = serverUrl(env);
  const endpoint = new URL('/graphql', base).href;
  const authorization = `Bearer ${env.CASCADE_API_KEY ?? ''}`;
  return {
    url: base.href,
    async request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
      const { status, answer } = await postGraphQL<T>(endpoint, authorization, { query, variables }, REQUEST_TIMEOUT_MS).catch((error: unknown) => {
        throw unreachable(base.href, error);
      });
      if (!answer) throw new CliError(status === 401 ? 'UNAUTHENTICATED' : 'INTERNAL_ERROR', `the server answered HTTP ${status} without GraphQL`);
      if (answer.errors?.length) throw answerError(answer.errors);
      return answer.data as T;
    },
    subscribe<T>(query: string, variables: Record<string, unknown>, onData: (data: T) => void): Promise<void> {
      const client = createClient({
        url: endpoint.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        connectionParams: { authorization },
        // A command reports a lost connection rather than retrying behind the user's back.
        retryAttempts: 0,
      });
      return new Promise<void>((resolve, reject) => {
        client.subscribe<T>(
          { query, variables },
          {
            next: (answer) => (answer.errors?.length ? reject(answerError(answer.errors as NonNullable<GraphQLAnswer<T>['errors']>)) : answer.data && onData(answer.data)),
            error: (error) => reject(error instanceof CliError ? error : unreachable(base.href, error instanceof Error ? error : new Error(describeClose(error)))),
            complete: resolve,
          },
        );
      }).finally(() => void client.dispose());
    },
  };
}

/** graphql-ws reports a closed socket as a CloseEvent or an ErrorEvent, not an Error. */
function describeClose(event: unknown): string {
  const close = event as { code?: number; reason?: string; message?: string; error?: unknown };
  if (close.error instanceof Error) return close.error.message;
  if (close.code !== undefined) return `socket closed with ${close.code}${close.reason ? `: ${close.reason}` : ''}`;
  return close.message ?? 'connection failed';
}
