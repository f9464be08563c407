import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Auth } from './auth.js';
import type { Identity } from './identity.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by authentication on the routes that need a credential. */
    identity?: Identity;
  }
}

/**
 * Only GraphQL answers data; the other routes are public by design: /health, the webhooks (they
 * carry their own signature), and the viewer's and GraphiQL's static pages, which ask for a key
 * and send it with their GraphQL requests. A graphql-ws upgrade authenticates in connection_init.
 */
const needsCredential = (request: FastifyRequest): boolean => request.routeOptions.url === '/graphql' && request.headers.upgrade?.toLowerCase() !== 'websocket';

const MESSAGE = 'missing or invalid credentials: send Authorization: Bearer <API key or JWT>';

/**
 * A preParsing hook: after the rate limit (a route-level onRequest hook, so it runs after every
 * global one), before the body is read. No or bad credential is HTTP 401 with UNAUTHENTICATED as
 * a GraphQL error, and an audit entry.
 */
export function httpAuthentication(app: FastifyInstance, { authenticator, audit }: Auth): void {
  app.addHook('preParsing', async (request, reply, payload) => {
    if (!needsCredential(request)) return payload;
    const identity = await authenticator.authenticate(request.headers.authorization);
    if (identity) {
      request.identity = identity;
      return payload;
    }
    audit.record({
      actor: 'anonymous',
      tenantId: 'default',
      action: `${request.method} ${request.routeOptions.url ?? request.url}`,
      targetIds: [],
      outcome: 'UNAUTHENTICATED',
      requestId: request.id,
    });
    await reply
      .code(401)
      .header('www-authenticate', 'Bearer')
      .send({ data: null, errors: [{ message: MESSAGE, extensions: { code: 'UNAUTHENTICATED' } }] });
    return payload;
  });
}
