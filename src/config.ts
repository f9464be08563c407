import { SecretKeys } from './secrets/secretKeys.js';
import { resolve } from 'node:path';
import { QUERY_BOUND_DEFAULTS, QUERY_BOUND_MAXIMA, QUERY_BOUND_VARIABLES, type QueryBounds } from './api/guards/queryBounds.js';
import { DEFAULT_RATE_LIMIT_PER_MINUTE, MAX_RATE_LIMIT_PER_MINUTE } from './api/guards/requestRate.js';
import { MAX_EXPRESSION_TIMEOUT_MS } from './runtime/expressions/expressionBounds.js';
import { HTTP_NODE_DEFAULTS } from './nodes/http.js';
import { DEFAULT_PAYLOAD_INLINE_BYTES, MAX_PAYLOAD_INLINE_BYTES, MIN_PAYLOAD_INLINE_BYTES } from './payloads/payloads.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  /** PostgreSQL for events and read models; null: embedded PGlite under `dataDir`. */
  databaseUrl: string | null;
  dataDir: string;
  /** EventStoreDB for the events; null: the events live in the same PostgreSQL. */
  eventStoreUrl: string | null;
  port: number;
  host: string;
  logLevel: LogLevel;
  /** How many nodes this process runs at once; undefined: the engine's default. */
  nodeConcurrency: number | undefined;
  /** Read-model rows of executions finished longer ago than this are removed (their events stay); undefined: kept forever. */
  retentionDays: number | undefined;
  /** How long an idempotency key answers with the execution it started; undefined: the engine's default (24). */
  idempotencyWindowHours: number | undefined;
  /** Time bound of one expression evaluation; undefined: the engine's default (1000 ms). */
  expressionTimeoutMs: number | undefined;
  /** Each `http` node request is aborted after this long (HTTP_NODE_TIMEOUT_MS). */
  httpNodeTimeoutMs: number;
  /** An `http` node whose response body is larger fails with HTTP_RESPONSE_TOO_LARGE (HTTP_NODE_MAX_RESPONSE_BYTES). */
  httpNodeMaxResponseBytes: number;
  /** With HTTP_NODE_BLOCK_PRIVATE=true, `http` nodes reach public addresses only (link-local is refused always). */
  httpNodeBlockPrivate: boolean;
  /** GRAPHQL_MAX_DEPTH, GRAPHQL_MAX_ALIASES, GRAPHQL_MAX_COST, GRAPHQL_MAX_TOKENS. */
  queryBounds: QueryBounds;
  /** Requests per minute per token, client address or webhook path (RATE_LIMIT_PER_MINUTE). */
  rateLimitPerMinute: number;
  /** CASCADE_SECRETS_KEY: the keys of the secrets (the first encrypts); null: the data directory's own on the embedded default, no secrets with DATABASE_URL. */
  secretsKey: string | null;
  /** CASCADE_ADMIN_KEY: an ADMIN key of the tenant default with this value exists once the server has started. */
  adminKey: string | null;
  /** AUTH_JWKS_URL: JWTs are verified with this JSON Web Key Set. */
  jwtJwksUrl: string | null;
  /** AUTH_JWT_SECRET: JWTs are verified with this HMAC secret (HS256/384/512). */
  jwtSecret: string | null;
  /** AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE: a JWT must name them (when set). */
  jwtIssuer: string | null;
  jwtAudience: string | null;
  /** GRAPHIQL=false: no GraphiQL page. */
  graphiql: boolean;
  /** PAYLOAD_INLINE_BYTES: trigger data and node outputs (or parts of them) larger than this are stored once in `payloads` and referred to from events. */
  payloadInlineBytes: number;
}

/** An hour: a request that takes longer belongs to an external worker, not to a node holding a slot. */
const MAX_HTTP_NODE_TIMEOUT_MS = 3_600_000;
/** 100 MiB: every response body is kept in the event log, and the process holds it while it runs. */
const MAX_HTTP_NODE_RESPONSE_BYTES = 100 * 1024 * 1024;

/** Every problem of the environment at once, so that one restart fixes them all. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Thirty days: keys are rows, and a longer window only grows the table. */
export const MAX_IDEMPOTENCY_WINDOW_HOURS = 720;

type Env = Record<string, string | undefined>;

/** Unset and empty are the same: `PORT= npm start` means the default, not an error. */
const read = (env: Env, name: string): string | undefined => {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
};

function integer(env: Env, name: string, min: number, max: number, problems: string[]): number | undefined {
  const raw = read(env, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (/^\d+$/.test(raw) && value >= min && value <= max) return value;
  problems.push(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  return undefined;
}

function boolean(env: Env, name: string, problems: string[]): boolean {
  const raw = read(env, name) ?? 'false';
  if (raw === 'true' || raw === 'false') return raw === 'true';
  problems.push(`${name} must be true or false, got "${raw}"`);
  return false;
}

function queryBounds(env: Env, problems: string[]): QueryBounds {
  const bound = (name: keyof QueryBounds) => integer(env, QUERY_BOUND_VARIABLES[name], 1, QUERY_BOUND_MAXIMA[name], problems) ?? QUERY_BOUND_DEFAULTS[name];
  return { maxDepth: bound('maxDepth'), maxAliases: bound('maxAliases'), maxCost: bound('maxCost'), maxTokens: bound('maxTokens') };
}

function url(env: Env, name: string, protocols: string[], problems: string[]): string | null {
  const raw = read(env, name);
  if (raw === undefined) return null;
  const protocol = URL.canParse(raw) ? new URL(raw).protocol : null;
  if (protocol !== null && protocols.includes(protocol)) return raw;
  problems.push(`${name} must be a URL starting with ${protocols.map((each) => `${each}//`).join(' or ')}, got "${raw}"`);
  return null;
}

function logLevel(env: Env, problems: string[]): LogLevel {
  const raw = read(env, 'LOG_LEVEL') ?? 'info';
  if ((LOG_LEVELS as readonly string[]).includes(raw)) return raw as LogLevel;
  problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${raw}"`);
  return 'info';
}

/** Checked here, so that a bad key stops the start with the other problems; the message never quotes it. */
function secretsKey(env: Env, problems: string[]): string | null {
  const raw = read(env, 'CASCADE_SECRETS_KEY') ?? null;
  if (raw === null) return null;
  try {
    new SecretKeys(raw);
  } catch (error) {
    problems.push((error as Error).message);
  }
  return raw;
}

/** Short keys are guessable; the bootstrap key opens everything. */
const MIN_ADMIN_KEY = 8;
/** HS256 wants at least its own 256 bits of key. */
const MIN_JWT_SECRET = 32;

function minLength(env: Env, name: string, min: number, problems: string[]): string | null {
  const raw = read(env, name) ?? null;
  if (raw !== null && raw.length < min) problems.push(`${name} must be at least ${min} characters`);
  return raw;
}

/** One way to verify JWTs, and issuer or audience only with one. */
function jwtProblems(config: Pick<Config, 'jwtJwksUrl' | 'jwtSecret' | 'jwtIssuer' | 'jwtAudience'>, problems: string[]): void {
  if (config.jwtJwksUrl && config.jwtSecret) problems.push('set AUTH_JWKS_URL or AUTH_JWT_SECRET, not both');
  if (!config.jwtJwksUrl && !config.jwtSecret && (config.jwtIssuer || config.jwtAudience))
    problems.push('AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE need AUTH_JWKS_URL or AUTH_JWT_SECRET');
}

/** The variable each setting is read from: startCascade's options are checked by the same rules. */
export const ENVIRONMENT_NAMES: Readonly<Record<Exclude<keyof Config, 'queryBounds'>, string>> = {
  databaseUrl: 'DATABASE_URL',
  dataDir: 'DATA_DIR',
  eventStoreUrl: 'EVENTSTORE_URL',
  port: 'PORT',
  host: 'HOST',
  logLevel: 'LOG_LEVEL',
  nodeConcurrency: 'NODE_CONCURRENCY',
  retentionDays: 'RETENTION_DAYS',
  idempotencyWindowHours: 'IDEMPOTENCY_WINDOW_HOURS',
  expressionTimeoutMs: 'EXPRESSION_TIMEOUT_MS',
  httpNodeTimeoutMs: 'HTTP_NODE_TIMEOUT_MS',
  httpNodeMaxResponseBytes: 'HTTP_NODE_MAX_RESPONSE_BYTES',
  httpNodeBlockPrivate: 'HTTP_NODE_BLOCK_PRIVATE',
  rateLimitPerMinute: 'RATE_LIMIT_PER_MINUTE',
  secretsKey: 'CASCADE_SECRETS_KEY',
  adminKey: 'CASCADE_ADMIN_KEY',
  jwtJwksUrl: 'AUTH_JWKS_URL',
  jwtSecret: 'AUTH_JWT_SECRET',
  jwtIssuer: 'AUTH_JWT_ISSUER',
  jwtAudience: 'AUTH_JWT_AUDIENCE',
  graphiql: 'GRAPHIQL',
  payloadInlineBytes: 'PAYLOAD_INLINE_BYTES',
};

type Setting = string | number | boolean | null | undefined;

/** startCascade's settings: each variable as a typed field; the GraphQL bounds (GRAPHQL_MAX_*) as one object. */
export type Settings = Partial<Record<keyof typeof ENVIRONMENT_NAMES, Setting>> & { queryBounds?: Partial<QueryBounds> };

/** Settings given as typed fields, as the environment would give them (absent and null: the default). */
export function configFrom({ queryBounds: bounds = {}, ...settings }: Settings): Config {
  const env: Env = {};
  const put = (name: string | undefined, value: Setting) => {
    if (name !== undefined && value !== null && value !== undefined) env[name] = String(value);
  };
  for (const [key, value] of Object.entries(settings)) put(ENVIRONMENT_NAMES[key as keyof typeof ENVIRONMENT_NAMES], value);
  for (const [key, value] of Object.entries(bounds)) put(QUERY_BOUND_VARIABLES[key as keyof QueryBounds], value);
  return loadConfig(env);
}

export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const config: Config = {
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:'], problems),
    dataDir: resolve(read(env, 'DATA_DIR') ?? './data'),
    eventStoreUrl: url(env, 'EVENTSTORE_URL', ['esdb:', 'esdb+discover:'], problems),
    // 0: a free port, as the operating system picks it.
    port: integer(env, 'PORT', 0, 65_535, problems) ?? 4000,
    host: read(env, 'HOST') ?? '0.0.0.0',
    logLevel: logLevel(env, problems),
    nodeConcurrency: integer(env, 'NODE_CONCURRENCY', 1, 10_000, problems),
    retentionDays: integer(env, 'RETENTION_DAYS', 1, 36_500, problems),
    idempotencyWindowHours: integer(env, 'IDEMPOTENCY_WINDOW_HOURS', 1, MAX_IDEMPOTENCY_WINDOW_HOURS, problems),
    expressionTimeoutMs: integer(env, 'EXPRESSION_TIMEOUT_MS', 1, MAX_EXPRESSION_TIMEOUT_MS, problems),
    httpNodeTimeoutMs: integer(env, 'HTTP_NODE_TIMEOUT_MS', 1, MAX_HTTP_NODE_TIMEOUT_MS, problems) ?? HTTP_NODE_DEFAULTS.timeoutMs,
    httpNodeMaxResponseBytes: integer(env, 'HTTP_NODE_MAX_RESPONSE_BYTES', 1, MAX_HTTP_NODE_RESPONSE_BYTES, problems) ?? HTTP_NODE_DEFAULTS.maxResponseBytes,
    httpNodeBlockPrivate: boolean(env, 'HTTP_NODE_BLOCK_PRIVATE', problems),
    queryBounds: queryBounds(env, problems),
    rateLimitPerMinute: integer(env, 'RATE_LIMIT_PER_MINUTE', 1, MAX_RATE_LIMIT_PER_MINUTE, problems) ?? DEFAULT_RATE_LIMIT_PER_MINUTE,
    secretsKey: secretsKey(env, problems),
    adminKey: minLength(env, 'CASCADE_ADMIN_KEY', MIN_ADMIN_KEY, problems),
    jwtJwksUrl: url(env, 'AUTH_JWKS_URL', ['https:', 'http:'], problems),
    jwtSecret: minLength(env, 'AUTH_JWT_SECRET', MIN_JWT_SECRET, problems),
    jwtIssuer: read(env, 'AUTH_JWT_ISSUER') ?? null,
    jwtAudience: read(env, 'AUTH_JWT_AUDIENCE') ?? null,
    graphiql: read(env, 'GRAPHIQL') === undefined ? true : boolean(env, 'GRAPHIQL', problems),
    payloadInlineBytes: integer(env, 'PAYLOAD_INLINE_BYTES', MIN_PAYLOAD_INLINE_BYTES, MAX_PAYLOAD_INLINE_BYTES, problems) ?? DEFAULT_PAYLOAD_INLINE_BYTES,
  };
  jwtProblems(config, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
