import { describe, expect, it } from 'vitest';
import { jsonProblem, storableString } from '../../src/domain/jsonHygiene.js';

const nested = (depth: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
};

describe('jsonProblem', () => {
  it.each([null, 0, 'text', 'emoji \uD83D\uDE00', [[]], {}, { a: [1, { b: 'c' }], d: true }, nested(64)])('accepts %j', (value) => {
    expect(jsonProblem(value)).toBeNull();
  });

  it.each([
    ['a NUL in a string', { a: [1, { b: 'x\u0000y' }] }, '$.a[1].b contains a NUL character at position 1'],
    ['a NUL in a key', { 'k\u0000': 1 }, '$["k\\u0000"]: its key contains a NUL character'],
    ['a lone high surrogate', ['ok', 'a\uD800'], '$[1] contains a lone surrogate at position 1'],
    ['a lone low surrogate', '\uDC00', '$ contains a lone surrogate at position 0'],
    ['65 levels', nested(65), 'is nested deeper than 64 levels'],
    ['NaN', { n: Number.NaN }, '$.n holds NaN'],
    ['a function', { f: () => 1 }, '$.f holds a function'],
    ['a bigint', [10n], '$[0] holds a bigint'],
  ])('refuses %s, saying where', (_, value, message) => {
    expect(jsonProblem(value)).toContain(message);
  });

  it('refuses a cycle', () => {
    const value: Record<string, unknown> = { child: {} };
    (value.child as Record<string, unknown>).parent = value;
    expect(jsonProblem(value)).toBe('$.child.parent refers back to an enclosing value (a cycle)');
  });

  it('walks 100,000 levels and a 2^60-leaf value of shared parts without recursion or blow-up', () => {
    expect(jsonProblem(nested(100_000))).toMatch(/nested deeper than 64 levels$/);
    expect(jsonProblem(JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`))).toMatch(/nested deeper than 64 levels$/);
    let shared: unknown = 'leaf';
    for (let i = 0; i < 60; i++) shared = [shared, shared];
    expect(jsonProblem(shared)).toBeNull();
    expect(jsonProblem(Array.from({ length: 10 }, () => ({ deeper: nested(63) })))).toContain('$[0].deeper');
  });

  it('storableString replaces what cannot be stored and keeps the rest', () => {
    expect(storableString('a\u0000b\uD800c \uD83D\uDE00')).toBe('a\uFFFDb\uFFFDc \uD83D\uDE00');
  });
});
