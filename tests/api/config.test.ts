import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, configFrom, loadConfig } from '../../src/config.js';

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

describe('loadConfig', () => {
  it('defaults to embedded PGlite under ./data on port 4000', () => {
    expect(loadConfig({})).toEqual({
      databaseUrl: null,
      dataDir: resolve('./data'),
      eventStoreUrl: null,
      port: 4000,
      host: '0.0.0.0',
      logLevel: 'info',
      nodeConcurrency: undefined,
      httpNodeTimeoutMs: 30_000,
      httpNodeMaxResponseBytes: 10 * 1024 * 1024,
      httpNodeBlockPrivate: false,
      queryBounds: { maxDepth: 20, maxAliases: 50, maxCost: 1000, maxTokens: 20_000 },
      rateLimitPerMinute: 1200,
      secretsKey: null,
      adminKey: null,
      jwtJwksUrl: null,
      jwtSecret: null,
      jwtIssuer: null,
      jwtAudience: null,
      graphiql: true,
      payloadInlineBytes: 262_144,
    });
  });

  it('bounds PAYLOAD_INLINE_BYTES between 1 KiB and 64 MiB', () => {
    expect(loadConfig({ PAYLOAD_INLINE_BYTES: '1024' })).toMatchObject({ payloadInlineBytes: 1024 });
    expect(configFrom({ payloadInlineBytes: 67_108_864 })).toMatchObject({ payloadInlineBytes: 67_108_864 });
    expect(() => loadConfig({ PAYLOAD_INLINE_BYTES: '1023' })).toThrow(/PAYLOAD_INLINE_BYTES must be an integer between 1024 and 67108864/);
    expect(() => loadConfig({ PAYLOAD_INLINE_BYTES: '67108865' })).toThrow(/PAYLOAD_INLINE_BYTES/);
  });

  it('checks the authentication settings: a short admin key or JWT secret, two ways to verify JWTs, an issuer without one, a bad GRAPHIQL', () => {
    expect(() => loadConfig({ CASCADE_ADMIN_KEY: 'short' })).toThrow(/CASCADE_ADMIN_KEY must be at least 8 characters/);
    expect(() => loadConfig({ AUTH_JWT_SECRET: 'too short' })).toThrow(/AUTH_JWT_SECRET must be at least 32 characters/);
    expect(() => loadConfig({ AUTH_JWT_SECRET: 'x'.repeat(32), AUTH_JWKS_URL: 'https://issuer.example/jwks' })).toThrow(/not both/);
    expect(() => loadConfig({ AUTH_JWT_ISSUER: 'me' })).toThrow(/need AUTH_JWKS_URL or AUTH_JWT_SECRET/);
    expect(() => loadConfig({ AUTH_JWKS_URL: 'ftp://x' })).toThrow(/AUTH_JWKS_URL must be a URL/);
    expect(() => loadConfig({ GRAPHIQL: 'no' })).toThrow(/GRAPHIQL must be true or false/);
    expect(loadConfig({ GRAPHIQL: 'false', CASCADE_ADMIN_KEY: 'test-key' })).toMatchObject({ graphiql: false, adminKey: 'test-key' });
  });

  it('refuses a CASCADE_SECRETS_KEY that is not a list of 32-byte base64 keys, without quoting it', () => {
    const bad = 'c2hvcnQ=,not-a-key-at-all';
    expect(() => loadConfig({ CASCADE_SECRETS_KEY: bad })).toThrow(/CASCADE_SECRETS_KEY must be a comma-separated list/);
    expect(() => loadConfig({ CASCADE_SECRETS_KEY: bad })).not.toThrow(/not-a-key-at-all/);
  });

  it('reads the GraphQL bounds, the request rate and HTTP_NODE_BLOCK_PRIVATE, refusing values past their maxima', () => {
    const env = {
      GRAPHQL_MAX_DEPTH: '10',
      GRAPHQL_MAX_ALIASES: '5',
      GRAPHQL_MAX_COST: '300',
      GRAPHQL_MAX_TOKENS: '4000',
      RATE_LIMIT_PER_MINUTE: '60',
      HTTP_NODE_BLOCK_PRIVATE: 'true',
    };
    expect(loadConfig(env)).toMatchObject({
      queryBounds: { maxDepth: 10, maxAliases: 5, maxCost: 300, maxTokens: 4000 },
      rateLimitPerMinute: 60,
      httpNodeBlockPrivate: true,
    });
    expect(
      problemsOf({
        GRAPHQL_MAX_DEPTH: '101',
        GRAPHQL_MAX_ALIASES: '0',
        GRAPHQL_MAX_COST: '100001',
        GRAPHQL_MAX_TOKENS: '500001',
        RATE_LIMIT_PER_MINUTE: '60001',
        HTTP_NODE_BLOCK_PRIVATE: 'yes',
      }),
    ).toEqual([
      'HTTP_NODE_BLOCK_PRIVATE must be true or false, got "yes"',
      'GRAPHQL_MAX_DEPTH must be an integer between 1 and 100, got "101"',
      'GRAPHQL_MAX_ALIASES must be an integer between 1 and 1000, got "0"',
      'GRAPHQL_MAX_COST must be an integer between 1 and 100000, got "100001"',
      'GRAPHQL_MAX_TOKENS must be an integer between 1 and 500000, got "500001"',
      'RATE_LIMIT_PER_MINUTE must be an integer between 1 and 60000, got "60001"',
    ]);
  });

  it('bounds http nodes by HTTP_NODE_TIMEOUT_MS and HTTP_NODE_MAX_RESPONSE_BYTES, refusing values above their maxima', () => {
    expect(loadConfig({ HTTP_NODE_TIMEOUT_MS: '5000', HTTP_NODE_MAX_RESPONSE_BYTES: '1024' })).toMatchObject({ httpNodeTimeoutMs: 5000, httpNodeMaxResponseBytes: 1024 });
    expect(() => loadConfig({ HTTP_NODE_TIMEOUT_MS: '3600001', HTTP_NODE_MAX_RESPONSE_BYTES: '1e9' })).toThrow(
      /HTTP_NODE_TIMEOUT_MS must be an integer between 1 and 3600000[\s\S]*HTTP_NODE_MAX_RESPONSE_BYTES must be an integer between 1 and 104857600/,
    );
  });

  it('reads every variable, treating empty as unset', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/cascade',
      EVENTSTORE_URL: 'esdb://localhost:2113?tls=false',
      DATA_DIR: '/tmp/cascade',
      PORT: '8080',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'debug',
      NODE_CONCURRENCY: '',
    });
    expect(config).toMatchObject({ port: 8080, host: '127.0.0.1', logLevel: 'debug', dataDir: '/tmp/cascade', nodeConcurrency: undefined });
    expect(config.databaseUrl).toMatch(/^postgres:/);
    expect(config.eventStoreUrl).toMatch(/^esdb:/);
  });

  it('keeps read-model rows forever unless RETENTION_DAYS says otherwise', () => {
    expect(loadConfig({}).retentionDays).toBeUndefined();
    expect(loadConfig({ RETENTION_DAYS: '30' }).retentionDays).toBe(30);
    expect(problemsOf({ RETENTION_DAYS: '0' })).toEqual(['RETENTION_DAYS must be an integer between 1 and 36500, got "0"']);
  });

  it('takes IDEMPOTENCY_WINDOW_HOURS between 1 and 720, the engine default (24) when unset', () => {
    expect(loadConfig({}).idempotencyWindowHours).toBeUndefined();
    expect(loadConfig({ IDEMPOTENCY_WINDOW_HOURS: '48' }).idempotencyWindowHours).toBe(48);
    expect(problemsOf({ IDEMPOTENCY_WINDOW_HOURS: '721' })).toEqual(['IDEMPOTENCY_WINDOW_HOURS must be an integer between 1 and 720, got "721"']);
  });

  it('bounds expressions by EXPRESSION_TIMEOUT_MS, up to 60000 ms (unset: the engine default of 1000)', () => {
    expect(loadConfig({}).expressionTimeoutMs).toBeUndefined();
    expect(loadConfig({ EXPRESSION_TIMEOUT_MS: '250' }).expressionTimeoutMs).toBe(250);
    expect(problemsOf({ EXPRESSION_TIMEOUT_MS: '60001' })).toEqual(['EXPRESSION_TIMEOUT_MS must be an integer between 1 and 60000, got "60001"']);
  });

  it('reports every bad value at once, saying what it got', () => {
    expect(problemsOf({ PORT: 'abc', NODE_CONCURRENCY: '0', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x', EVENTSTORE_URL: 'http://x' })).toEqual([
      'DATABASE_URL must be a URL starting with postgres:// or postgresql://, got "mysql://x"',
      'EVENTSTORE_URL must be a URL starting with esdb:// or esdb+discover://, got "http://x"',
      'PORT must be an integer between 0 and 65535, got "abc"',
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
      'NODE_CONCURRENCY must be an integer between 1 and 10000, got "0"',
    ]);
    expect(problemsOf({ PORT: '70000' })).toEqual(['PORT must be an integer between 0 and 65535, got "70000"']);
    expect(problemsOf({ PORT: '80.5' })).toHaveLength(1);
  });
});
