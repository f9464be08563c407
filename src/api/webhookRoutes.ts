import type { FastifyError, FastifyPluginAsync, FastifyReply } from 'fastify';
import { isDatabaseFault } from '../db/databaseFaults.js';
import { DomainError } from '../domain/errors.js';
import type { Engine } from '../runtime/engine.js';
import { SIGNATURE_HEADER } from '../runtime/triggers/webhookSignature.js';
import { idempotencyKeyOfHeader } from '../runtime/idempotency/idempotencyKey.js';

export interface WebhookRoutesOptions {
  engine: Pick<Engine, 'startWebhook'>;
  /** Largest body, in bytes; larger ones get 413. Default 1 MiB. */
  bodyLimit?: number;
}

const ONE_MIB = 1024 * 1024;
const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json$/i;

const STATUS_OF_CODE: Readonly<Record<string, number>> = { NOT_FOUND: 404, UNAUTHENTICATED: 401, FORBIDDEN: 403, BAD_USER_INPUT: 400 };
const CODE_OF_STATUS: Readonly<Record<number, string>> = { 413: 'PAYLOAD_TOO_LARGE', 415: 'UNSUPPORTED_MEDIA_TYPE', 429: 'RATE_LIMITED' };

/**
 * `POST /webhooks/<path>`: starts the workflow whose webhook trigger has that path, with the JSON
 * body as trigger data, and answers 202 `{ executionId }`. Errors answer `{ error: { code, message } }`,
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

  app.post<{ Params: { '*': string } }>('/webhooks/*', { bodyLimit }, async (request, reply) => {
    const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const mediaType = request.headers['content-type']?.split(';')[0]?.trim() ?? '';
    if (rawBody.length > 0 && !JSON_MEDIA_TYPE.test(mediaType)) {
      return sendError(reply, 415, 'UNSUPPORTED_MEDIA_TYPE', `webhook bodies must be JSON, got ${mediaType || 'no content type'}`);
    }
    const signature = request.headers[SIGNATURE_HEADER];
    const idempotencyKey = idempotencyKeyOfHeader(request.headers['idempotency-key']);
    const state = await engine.startWebhook(
      request.params['*'],
      rawBody,
      typeof signature === 'string' ? signature : undefined,
      { causationId: `webhook:${request.id}` },
      idempotencyKey,
    );
    return reply.code(202).send({ executionId: state.id });
  });
};

function replyWithError(reply: FastifyReply, error: FastifyError): FastifyReply {
  if (error instanceof DomainError) return sendError(reply, STATUS_OF_CODE[error.code] ?? 409, error.code, error.message);
  if (isDatabaseFault(error)) return sendError(reply, 503, 'DATABASE_UNAVAILABLE', 'the database is unavailable for the moment; try again');
  const status = error.statusCode ?? 500;
  if (status >= 500) {
    reply.log.error({ err: error }, 'webhook failed');
    return sendError(reply, 500, 'INTERNAL_SERVER_ERROR', 'internal server error');
  }
  return sendError(reply, status, CODE_OF_STATUS[status] ?? 'BAD_REQUEST', error.message);
}

function sendError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).send({ error: { code, message } });
}
