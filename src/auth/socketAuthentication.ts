import type { WebSocket, WebSocketServer } from 'ws';
import type { Auth } from './auth.js';
import type { Identity } from './identity.js';

/** graphql-ws' close code for a refused connection_init (DESIGN section 8). */
export const UNAUTHORIZED_CLOSE = 4401;

/**
 * graphql-ws sockets authenticate with their connection_init payload `{ authorization }`. The
 * payload is caught as the message arrives (before mercurius sees it); mercurius' subscription
 * context function, which runs on connection_init, then authenticates it: a bad one closes the
 * socket with 4401. A socket authenticated with a key is closed with 4401 once that key is
 * revoked or expires, which ends its subscriptions with an error.
 */
export function socketAuthentication(server: WebSocketServer, { authenticator, audit }: Auth) {
  const payloads = new WeakMap<WebSocket, unknown>();
  server.on('connection', (socket: WebSocket) => {
    const emit = socket.emit.bind(socket) as (event: string | symbol, ...args: unknown[]) => boolean;
    socket.emit = ((event: string | symbol, ...args: unknown[]) => {
      if (event === 'message' && !payloads.has(socket)) payloads.set(socket, initPayload(args[0]));
      return emit(event, ...args);
    }) as WebSocket['emit'];
  });
  return async (socket: WebSocket): Promise<{ identity?: Identity }> => {
    const payload = payloads.get(socket) as { authorization?: unknown } | null | undefined;
    const identity = await authenticator.authenticate(payload?.authorization);
    if (!identity) {
      audit.record({ actor: 'anonymous', tenantId: 'default', action: 'connection_init', targetIds: [], outcome: 'UNAUTHENTICATED', requestId: null });
      socket.close(UNAUTHORIZED_CLOSE, 'Unauthorized');
      return {};
    }
    const stop = authenticator.onRevoked(identity, () => socket.close(UNAUTHORIZED_CLOSE, 'Unauthorized: the key was revoked or expired'));
    socket.once('close', stop);
    return { identity };
  };
}

function initPayload(data: unknown): unknown {
  try {
    const message = JSON.parse(String(data)) as { type?: unknown; payload?: unknown };
    return message.type === 'connection_init' ? (message.payload ?? null) : null;
  } catch {
    return null;
  }
}
