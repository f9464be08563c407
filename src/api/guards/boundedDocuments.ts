import type {} from '@fastify/websocket';
import type { FastifyPluginAsync } from 'fastify';
import { parse, type GraphQLFormattedError } from 'graphql';
import type { RawData, WebSocket, WebSocketServer } from 'ws';
import { ApiError, isTokenLimitMessage, tooManyTokens } from '../errors.js';
import { checkQueryBounds, type QueryBounds } from './queryBounds.js';

/** graphql-ws `subscribe` and the older subscriptions-transport-ws `start` carry a document. */
const DOCUMENT_MESSAGES: ReadonlySet<unknown> = new Set(['subscribe', 'start']);

interface Refusal {
  id: unknown;
  error: GraphQLFormattedError;
}

const formatted = (error: ApiError): GraphQLFormattedError => ({ message: error.message, extensions: { ...error.details, code: error.code } });

/** The bound a document breaks, parsed under the token bound; null for what mercurius handles itself (no document, a syntax error). */
function documentRefusal(query: string, bounds: QueryBounds): ApiError | null {
  try {
    checkQueryBounds(parse(query, { maxTokens: bounds.maxTokens }), bounds);
    return null;
  } catch (error) {
    if (error instanceof ApiError) return error;
    return error instanceof Error && isTokenLimitMessage(error.message) ? tooManyTokens(bounds.maxTokens) : null;
  }
}

function refusalOf(data: RawData, bounds: QueryBounds): Refusal | null {
  let message: unknown;
  try {
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    message = JSON.parse(bytes.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof message !== 'object' || message === null || !('type' in message) || !DOCUMENT_MESSAGES.has(message.type)) return null;
  const { id, payload } = message as { id?: unknown; payload?: { query?: unknown } };
  if (typeof payload?.query !== 'string') return null;
  const refusal = documentRefusal(payload.query, bounds);
  return refusal && { id, error: formatted(refusal) };
}

/**
 * mercurius parses a subscription's document with no token bound, and a 1 MiB message of
 * single-token fields takes seconds to parse: so each socket's messages are screened before
 * mercurius sees them (its listener is attached after the server's `connection` event), and a
 * document past a bound is answered with an `error` message for its id and goes no further.
 */
function screenSubscriptions(server: WebSocketServer, bounds: QueryBounds): void {
  server.on('connection', (socket: WebSocket) => {
    const emit = socket.emit.bind(socket) as (event: string | symbol, ...args: unknown[]) => boolean;
    socket.emit = ((event: string | symbol, ...args: unknown[]) => {
      const refusal = event === 'message' ? refusalOf(args[0] as RawData, bounds) : null;
      if (refusal === null) return emit(event, ...args);
      socket.send(JSON.stringify({ type: 'error', id: refusal.id, payload: [refusal.error] }));
      return true;
    }) as WebSocket['emit'];
  });
}

/**
 * Depth, alias and cost bounds, decided on the parsed document before validation and execution
 * (HTTP: mercurius' preValidation hook; its parser has the token bound), and the same for
 * subscriptions over graphql-ws. Register after @fastify/websocket and mercurius.
 */
export const boundedDocuments: FastifyPluginAsync<{ bounds: QueryBounds }> = async (app, { bounds }) => {
  app.graphql.addHook('preValidation', async (_schema, document) => checkQueryBounds(document, bounds));
  screenSubscriptions(app.websocketServer, bounds);
};
