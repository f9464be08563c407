import { GraphQLError } from 'graphql';
import { describe, expect, it, vi } from 'vitest';
import { createErrorFormatter, notImplemented, toCodedGraphQLError } from '../../src/api/errors.js';
import { DomainError } from '../../src/domain/errors.js';
import { ConcurrencyError } from '../../src/eventstore/eventStore.js';

const logger = () => ({ error: vi.fn() });
const located = (originalError: Error) => new GraphQLError(originalError.message, { path: ['field'], originalError });

describe('the error formatter', () => {
  const format = createErrorFormatter({ bodyLimit: 1024, maxTokens: 20_000 });

  it('gives domain errors their code and details, keeping HTTP 200', () => {
    const log = logger();
    const cycle = new DomainError('CIRCULAR_DEPENDENCY', 'circular dependency: a -> b -> a', { circularDependencies: [{ path: ['a', 'b', 'a'] }] });
    const result = format({ data: null, errors: [located(cycle), located(new ConcurrencyError('s', 1, 2)), located(notImplemented('emitEvent'))] }, { app: { log: log as never } });
    expect(result.statusCode).toBe(200);
    expect(result.response.errors.map((error) => error.extensions)).toEqual([
      { code: 'CIRCULAR_DEPENDENCY', circularDependencies: [{ path: ['a', 'b', 'a'] }] },
      { code: 'CONCURRENT_EXECUTION_CONFLICT' },
      { code: 'NOT_IMPLEMENTED' },
    ]);
    expect(log.error).not.toHaveBeenCalled();
  });

  it('logs internal errors and hides them behind INTERNAL_SERVER_ERROR, without a stack', () => {
    const log = logger();
    const bug = new TypeError('cannot read properties of undefined (secret detail)');
    const result = format({ errors: [located(bug)] }, { app: { log: log as never } });
    expect(result.statusCode).toBe(500);
    expect(result.response.errors).toEqual([{ message: 'Internal server error', path: ['field'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
    expect(JSON.stringify(result.response)).not.toMatch(/secret|stack/);
    expect(log.error).toHaveBeenCalledWith(expect.objectContaining({ err: bug }), expect.any(String));
  });

  it('coded errors for subscriptions carry the same codes', () => {
    const log = logger();
    expect(toCodedGraphQLError(new DomainError('NOT_FOUND', 'execution x not found'), log as never).extensions).toEqual({ code: 'NOT_FOUND' });
    expect(toCodedGraphQLError(new Error('boom'), log as never)).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(log.error).toHaveBeenCalledTimes(1);
  });
});
