import type { FastifyBaseLogger } from 'fastify';
import { GraphQLError, type ExecutionResult, type GraphQLFormattedError } from 'graphql';
import { isDatabaseFault } from '../db/databaseFaults.js';
import { DomainError } from '../domain/errors.js';
import { ConcurrencyError } from '../eventstore/eventStore.js';
import { REQUEST_ERRORS, statusOf, type RequestErrorCode } from '../errors/catalogue.js';

/** Any request code of the catalogue (src/errors/catalogue.ts). */
export type ApiErrorCode = RequestErrorCode;

/** An error raised by the API layer itself, with the code clients see. */
export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const notImplemented = (what: string): ApiError => new ApiError('NOT_IMPLEMENTED', `${what} is not implemented yet`);

/** graphql's own refusal when its parser's `maxTokens` is reached (its wording, typo included). */
const TOKEN_LIMIT_MESSAGE = /^Syntax Error: Document contains more that \d+ tokens/;

export const isTokenLimitMessage = (message: string): boolean => TOKEN_LIMIT_MESSAGE.test(message);

export const tooManyTokens = (maxTokens: number): ApiError =>
  new ApiError('QUERY_TOO_COMPLEX', `the document has more than ${maxTokens} tokens (GRAPHQL_MAX_TOKENS)`, { maxTokens });

interface Described {
  message: string;
  extensions: Record<string, unknown> & { code: ApiErrorCode };
  /** HTTP status when the whole request fails with this error. */
  statusCode: number;
  locations?: GraphQLFormattedError['locations'];
}

/** An answer made of the code, with the catalogue's status and, unless told, its message. */
const described = (code: ApiErrorCode, message: string = REQUEST_ERRORS[code].message): Described => ({ message, extensions: { code }, statusCode: statusOf(code) });

const INTERNAL = described('INTERNAL_SERVER_ERROR');

/**
 * The database connection was lost or refused (a failover, a restart): nothing about the request
 * is wrong, and the same request may succeed a moment later. A command whose commit was cut off
 * may or may not have happened; reading its target tells which.
 */
const DATABASE_UNAVAILABLE = described('DATABASE_UNAVAILABLE');

/** The codes of the statuses Fastify itself refuses a request with; any other 4xx is BAD_REQUEST. */
const TRANSPORT_CODES: readonly ApiErrorCode[] = ['METHOD_NOT_ALLOWED', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'RATE_LIMITED'];

/** The code of a 4xx status that Fastify (body limit, content type, method) answered with. */
export const codeOfStatus = (status: number): ApiErrorCode => TRANSPORT_CODES.find((code) => statusOf(code) === status) ?? 'BAD_REQUEST';

/** A request refused as a whole for one of these gets the code's HTTP status; other coded errors answer 200 as GraphQL results do. */
const WHOLE_REQUEST_CODES: ReadonlySet<ApiErrorCode> = new Set(['QUERY_TOO_COMPLEX']);

const hasStatusCode = (error: object): error is Error & { statusCode: number } => 'statusCode' in error && typeof error.statusCode === 'number';

/**
 * graphql's classes are matched by shape, not instanceof: under a bundler (vitest) graphql's ESM
 * and CommonJS builds both load, and mercurius makes its errors with the CommonJS one.
 */
type GraphQLErrorLike = Pick<GraphQLError, 'message' | 'originalError' | 'path'> & { locations?: GraphQLError['locations'] };

/** mercurius wraps parse and validation failures in one error that lists them. */
function requestErrors(error: Error & { code?: unknown; errors?: unknown }, maxTokens: number): Described[] | null {
  if (error.code !== 'MER_ERR_GQL_VALIDATION' || !Array.isArray(error.errors)) return null;
  return (error.errors as GraphQLErrorLike[]).map(({ message, locations }) => {
    if (isTokenLimitMessage(message)) {
      const refusal = tooManyTokens(maxTokens);
      return { message: refusal.message, extensions: { ...refusal.details, code: refusal.code }, statusCode: statusOf(refusal.code) };
    }
    return {
      ...described(message.startsWith('Syntax Error') ? 'GRAPHQL_PARSE_FAILED' : 'GRAPHQL_VALIDATION_FAILED', message),
      ...(locations ? { locations } : {}),
    };
  });
}

/** The request bounds error messages name. */
export interface RequestLimits {
  bodyLimit: number;
  maxTokens: number;
}

function classify(error: GraphQLErrorLike, { bodyLimit, maxTokens }: RequestLimits): Described[] {
  const original = error.originalError;
  // graphql itself rejected an argument or variable value while executing.
  if (original === undefined || original === null) return [described('BAD_USER_INPUT', error.message)];
  // A field's error: GraphQL over HTTP answers 200 whatever the code.
  if (original instanceof DomainError || original instanceof ApiError) {
    return [
      { message: original.message, extensions: { ...original.details, code: original.code }, statusCode: WHOLE_REQUEST_CODES.has(original.code) ? statusOf(original.code) : 200 },
    ];
  }
  if (original instanceof ConcurrencyError) {
    return [{ message: original.message, extensions: { code: original.code }, statusCode: 200 }];
  }
  if (isDatabaseFault(original)) return [DATABASE_UNAVAILABLE];
  const request = requestErrors(original, maxTokens);
  if (request) return request;
  if (hasStatusCode(original) && original.statusCode >= 400 && original.statusCode < 500) {
    const code = codeOfStatus(original.statusCode);
    const message = code === 'PAYLOAD_TOO_LARGE' ? `Request body is larger than the limit of ${bodyLimit} bytes` : original.message;
    return [{ ...described(code, message), statusCode: original.statusCode }];
  }
  return [INTERNAL];
}

/**
 * mercurius `errorFormatter`: every error gets `extensions.code`; internal errors are logged
 * with their stack and reach the client only as INTERNAL_SERVER_ERROR. The HTTP status stays
 * 200 for results that have data, as GraphQL over HTTP asks; a failed request gets the status
 * of its first error (400 for a parse or validation failure, 413 for an oversized body, ...).
 */
export function createErrorFormatter(limits: RequestLimits) {
  return (execution: ExecutionResult, context: { app: { log: FastifyBaseLogger } }) => {
    const described = (execution.errors ?? []).flatMap((error) => {
      const result = classify(error, limits);
      if (result[0] === INTERNAL) context.app.log.error({ err: error.originalError ?? error, path: error.path }, 'internal error in a GraphQL request');
      return result.map((each) => ({ ...each, path: error.path }));
    });
    const errors: GraphQLFormattedError[] = described.map(({ message, locations, path, extensions }) => ({
      message,
      ...(locations ? { locations } : {}),
      ...(path ? { path } : {}),
      extensions,
    }));
    const statusCode = execution.data ? 200 : (described[0]?.statusCode ?? 200);
    return { statusCode, response: { data: execution.data ?? null, errors } };
  };
}

/**
 * Errors thrown while a subscription starts reach the client without the formatter, so a
 * subscribe function turns them into a GraphQLError that already carries its code.
 */
export function toCodedGraphQLError(error: unknown, log: FastifyBaseLogger): GraphQLError {
  const original = error instanceof Error ? error : new Error(String(error));
  const [described = INTERNAL] = classify({ message: original.message, originalError: original, path: undefined }, { bodyLimit: 0, maxTokens: 0 });
  if (described === INTERNAL) log.error({ err: error }, 'internal error starting a subscription');
  return new GraphQLError(described.message, { extensions: described.extensions });
}
