import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { DEFAULT_TENANT } from '../domain/tenants.js';
import { isDatabaseFault } from '../db/databaseFaults.js';
import { DomainError } from '../domain/errors.js';
import { REQUEST_ERRORS, statusOf } from '../errors/catalogue.js';
import type { Engine } from '../runtime/engine.js';
import { SIGNATURE_HEADER } from '../runtime/triggers/webhookSignature.js';
import { idempotencyKeyOfHeader } from '../runtime/idempotency/idempotencyKey.js';
import { codeOfStatus, type ApiErrorCode } from './errors.js';

export interface WebhookRoutesOptions {
  engine: Pick<Engine, 'startWebhook'>;
  /** Largest body, in bytes; larger ones get 413. Default 1 MiB. */
  bodyLimit?: number;
}

const ONE_MIB = 1024 * 1024;
const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json$/i;

/**
 * `POST /webhooks/<path>` (the tenant default's) and `POST /tenants/<tenantId>/webhooks/<path>`
 * (any tenant's): starts the workflow of that tenant whose webhook trigger has that path, with the JSON
 * body as trigger data, and answers 202 `{ executionId }`. Errors answer `{ error: { code, message } }`
 * with the code's status in src/errors/catalogue.ts,
 * checked in this order: 413 too large, 415 not JSON, 404 unknown path, 401 missing or bad
 * signature, 400 malformed JSON or idempotency key. With an `Idempotency-Key` header, a retried
 * call answers 202 with the execution the first call started. The body is kept raw (the
 * signature covers the exact bytes), so the plugin replaces the body parsers for its own routes:
 * register it as is, encapsulated (not wrapped in fastify-plugin), and the rest of the server
 * keeps its JSON parser.
 */
export const webhookRoutes: FastifyPluginAsync<WebhookRoutesOptions> = async (app, { engine, bodyLimit = ONE_MIB }) => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, body));
  app.setErrorHandler((error: FastifyError, _request, reply) => replyWithError(reply, error));

  const call = async (request: FastifyRequest, reply: FastifyReply, tenantId: string, path: string) => {
    const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const mediaType = request.headers['content-type']?.split(';')[0]?.trim() ?? '';
    if (rawBody.length > 0 && !JSON_MEDIA_TYPE.test(mediaType)) {
      return sendError(reply, 'UNSUPPORTED_MEDIA_TYPE', `webhook bodies must be JSON, got ${mediaType || 'no content type'}`);
    }
    const signature = request.headers[SIGNATURE_HEADER];
    const idempotencyKey = idempotencyKeyOfHeader(request.headers['idempotency-key']);
    const state = await engine.startWebhook(
      path,
      rawBody,
      typeof signature === 'string' ? signature : undefined,
      { causationId: `webhook:${request.id}`, tenantId },
      idempotencyKey,
    );
    return reply.code(202).send({ executionId: state.id });
  };
  // The tenant default's paths keep their URL; every tenant's (default too) are under /tenants/<id>/.
  app.post<{ Params: { '*': string } }>('/webhooks/*', { bodyLimit }, (request, reply) => call(request, reply, DEFAULT_TENANT, request.params['*']));
  app.post<{ Params: { tenantId: string; '*': string } }>('/tenants/:tenantId/webhooks/*', { bodyLimit }, (request, reply) =>
    call(request, reply, request.params.tenantId, request.params['*']),
  );
};

function replyWithError(reply: FastifyReply, error: FastifyError): FastifyReply {
  if (error instanceof DomainError) return sendError(reply, error.code, error.message);
  if (isDatabaseFault(error)) return sendError(reply, 'DATABASE_UNAVAILABLE');
  const status = error.statusCode ?? 500;
  if (status >= 500) {
    reply.log.error({ err: error }, 'webhook failed');
    return sendError(reply, 'INTERNAL_SERVER_ERROR');
  }
  return sendError(reply, codeOfStatus(status), error.message, status);
}

function sendError(reply: FastifyReply, code: ApiErrorCode, message: string = REQUEST_ERRORS[code].message, status = statusOf(code)): FastifyReply {
  return reply.code(status).send({ error: { code, message } });
}
