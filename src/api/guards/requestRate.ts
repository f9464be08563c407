import { createHash } from 'node:crypto';
import type { RateLimitPluginOptions } from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import { DEFAULT_TENANT } from '../../domain/tenants.js';

export const DEFAULT_RATE_LIMIT_PER_MINUTE = 1_200;
/** A thousand requests a second from one token: past that the limit no longer limits anything this server can serve. */
export const MAX_RATE_LIMIT_PER_MINUTE = 60_000;

/** Buckets kept in memory (least recently used first out): each is a few dozen bytes. */
const BUCKETS = 10_000;

/** `/webhooks/<path>` (the tenant default's) and `/tenants/<tenant>/webhooks/<path>`. */
const WEBHOOK_URL = /^(?:\/tenants\/([^/]+))?\/webhooks\/(.*)$/;

/**
 * The bucket a request counts against. A credential is keyed by its SHA-256, so that no token is
 * kept in memory or reaches a log; a request without one counts against its client address.
 * Webhooks carry no credential of ours: each path has its bucket, which bounds how fast one
 * webhook starts executions whoever calls it (a path per tenant: both URLs of a default one share it).
 */
export function requestRateKey(request: FastifyRequest): string {
  const webhook = WEBHOOK_URL.exec(request.url.split('?', 1)[0] ?? '');
  if (webhook) return `webhook:${JSON.stringify([webhook[1] ?? DEFAULT_TENANT, webhook[2]])}`;
  const { authorization } = request.headers;
  if (authorization) return `token:${createHash('sha256').update(authorization).digest('base64url')}`;
  return `address:${request.ip}`;
}

/**
 * At most `perMinute` requests per bucket in a fixed one-minute window; past it, HTTP 429 with
 * `Retry-After`, and code RATE_LIMITED in the answer's shape (GraphQL errors, or a webhook's
 * `{ error }`). The counts live in this process: several processes each allow `perMinute`.
 * Routes opt out with `config: { rateLimit: false }` (/health). The options of @fastify/rate-limit,
 * registered before the routes.
 */
export function requestRateOptions(perMinute: number): RateLimitPluginOptions {
  return {
    max: perMinute,
    timeWindow: 60_000,
    cache: BUCKETS,
    keyGenerator: requestRateKey,
    errorResponseBuilder: (_request, context) =>
      Object.assign(new Error(`more than ${perMinute} requests in a minute (RATE_LIMIT_PER_MINUTE); retry in ${context.after}`), { statusCode: context.statusCode }),
  };
}
