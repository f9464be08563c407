import jsonata from 'jsonata';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_EXPRESSION_BOUNDS } from '../../../src/runtime/expressions/expressionBounds.js';
import { ExpressionError } from '../../../src/runtime/expressions/expressionError.js';
import { BoundedEvaluator } from '../../../src/runtime/expressions/boundedEvaluator.js';
import { ExpressionPool, type ExpressionEvaluator } from '../../../src/runtime/expressions/expressionPool.js';
import { HOSTILE } from '../../support/hostileExpressions.js';

const pools: ExpressionEvaluator[] = [];
const newPool = (...args: ConstructorParameters<typeof ExpressionPool>) => {
  const pool = new ExpressionPool(...args);
  pools.push(pool);
  return pool;
};
const newBounded = () => {
  const evaluator = new BoundedEvaluator();
  pools.push(evaluator);
  return evaluator;
};
afterAll(() => Promise.all(pools.map((pool) => pool.close())));

/** Resolves with the error the promise rejected with (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => expect.fail(`resolved with ${JSON.stringify(value)}`),
    (error: unknown) => error,
  );
}

const context = {
  trigger: { quantity: 3, unitPrice: 20, tags: ['a', 'b'] },
  input: { price: { total: 60 }, items: [{ n: 1 }, { n: 2 }, { n: 3 }] },
  nodes: { price: { total: 60 } },
};

// The pool alone, and the engine's evaluator: the in-thread path first, the pool past its budget.
describe.each([
  ['the worker pool', newPool],
  ['the bounded evaluator', newBounded],
])('%s', (_, create) => {
  const pool = create();

  it.each(Object.entries(HOSTILE))('stops the hostile expression %s with EXPRESSION_LIMIT', { timeout: 60_000 }, async (_, expression) => {
    const error = await rejection(pool.evaluate(expression, context));
    expect(error).toBeInstanceOf(ExpressionError);
    expect((error as ExpressionError).limit).toBe(true);
    expect((error as ExpressionError).code).toBe('EXPRESSION_LIMIT');
    expect((error as Error).message).toMatch(/^EXPRESSION_LIMIT: /);
    // The pool serves the next evaluation, on the same worker or on its replacement.
    await expect(pool.evaluate('input.price.total + 1', context)).resolves.toBe(61);
  });

  it('gives the results JSONata gives in process, as plain JSON data', async () => {
    const expressions = [
      'trigger.quantity * trigger.unitPrice',
      'input.price.total > 100',
      "{ 'approval': 'auto', 'total': input.price.total }",
      'input.items.n',
      'input.items[n > 1]',
      'input.items[n > 5]',
      '$sum(input.items.n)',
      'trigger.tags',
      "trigger.tags[0] & '-' & $string(nodes.price.total)",
      '$count(input.items) = 3 ? "three" : "other"',
      'input.missing',
      '[1..5].($ * $)',
      '$map(input.items, function($i) { $i.n * 10 })',
    ];
    for (const expression of expressions) {
      const expected = await jsonata(expression).evaluate(context);
      // What the event log keeps of it: its JSON.
      const plain = expected === undefined ? undefined : JSON.parse(JSON.stringify(expected));
      expect(await pool.evaluate(expression, context), expression).toEqual(plain);
    }
  });

  it('turns functions into null (as a value or in an array) and leaves them out of objects', async () => {
    expect(await pool.evaluate('function($x) { $x }', context)).toBeUndefined();
    expect(await pool.evaluate('$string', context)).toBeUndefined();
    expect(await pool.evaluate('[1, function($x) { $x }, $string]', context)).toEqual([1, null, null]);
    expect(await pool.evaluate('{ "f": function($x) { $x }, "n": 1 }', context)).toEqual({ n: 1 });
  });

  it('answers an invalid expression and a failed evaluation with an uncoded ExpressionError', async () => {
    const invalid = await rejection(pool.evaluate('input.(', context));
    expect(invalid).toBeInstanceOf(ExpressionError);
    expect((invalid as ExpressionError).limit).toBe(false);
    expect((invalid as Error).message).toMatch(/^invalid expression "input\.\(": /);
    const failed = await rejection(pool.evaluate('$nope(1)', context));
    expect((failed as ExpressionError).limit).toBe(false);
    expect((failed as Error).message).toMatch(/^expression "\$nope\(1\)" failed: /);
  });

  it('evaluates many expressions at once, each with its own result', async () => {
    const results = await Promise.all(Array.from({ length: 500 }, (_, i) => pool.evaluate('input.x * 2', { input: { x: i } })));
    expect(results).toEqual(Array.from({ length: 500 }, (_, i) => i * 2));
  });
});

describe('the in-thread path of the bounded evaluator', () => {
  const evaluator = newBounded();

  it('hands an expression that outlasts its in-thread budget to a worker, which finishes it', { timeout: 60_000 }, async () => {
    // 25^3 steps: far more than a few milliseconds, far less than the time bound.
    const items = Array.from({ length: 25 }, (_, n) => ({ n }));
    const expression = '$count(input.items.($$.input.items.($$.input.items.n)))';
    await expect(evaluator.evaluate(expression, { input: { items } })).resolves.toBe(25 ** 3);
  });
});

describe('the result bound', () => {
  const pool = newPool({ size: 1, bounds: { ...DEFAULT_EXPRESSION_BOUNDS, maxResultChars: 1000 } });

  it('refuses a result whose JSON is longer, with EXPRESSION_LIMIT', async () => {
    expect(((await rejection(pool.evaluate('$pad("", 2000)', {}))) as Error).message).toMatch(/^EXPRESSION_LIMIT: .*result bound of 1000 characters/);
    expect(((await rejection(pool.evaluate('[1..500].$string($)', {}))) as Error).message).toMatch(/^EXPRESSION_LIMIT: .*result bound/);
    await expect(pool.evaluate('$pad("", 900)', {})).resolves.toHaveLength(900);
  });
});

describe('aborting an evaluation', () => {
  // One worker and a time bound far beyond the test's: only terminating the worker frees it.
  const pool = newPool({ size: 1, bounds: { ...DEFAULT_EXPRESSION_BOUNDS, timeoutMs: 60_000 } });

  it('terminates the worker evaluating it, and the pool goes on with a fresh one', { timeout: 30_000 }, async () => {
    await pool.evaluate('1', {});
    const controller = new AbortController();
    const spinning = pool.evaluate(HOSTILE.spin, {}, controller.signal);
    const queuedBehind = pool.evaluate('input.n + 1', { input: { n: 41 } });
    controller.abort(new Error('cancelled'));
    expect(await rejection(spinning)).toEqual(new Error('cancelled'));
    // Waited behind the aborted one on the only worker: it runs on the replacement.
    await expect(queuedBehind).resolves.toBe(42);
  });

  it('rejects at once with an already aborted signal', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stopped'));
    expect(await rejection(pool.evaluate('1', {}, controller.signal))).toEqual(new Error('stopped'));
  });
});

describe('the memory bound', () => {
  // A small heap and no time bound to speak of: memory alone stops the growth (10 KB at a time).
  const pool = newPool({ size: 1, bounds: { ...DEFAULT_EXPRESSION_BOUNDS, timeoutMs: 60_000, memoryMb: 64 } });

  it('ends the worker of an expression that needs more, with EXPRESSION_LIMIT, and serves the next one', { timeout: 60_000 }, async () => {
    const error = await rejection(pool.evaluate('[1..20000].[$pad($string($), 10000)]', {}));
    expect((error as Error).message).toMatch(/^EXPRESSION_LIMIT: .*memory bound of 64 MB/);
    await expect(pool.evaluate('1 + 1', {})).resolves.toBe(2);
  });
});
