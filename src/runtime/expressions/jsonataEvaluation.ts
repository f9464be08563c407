import jsonata from 'jsonata';
import type { ExpressionBounds } from './expressionBounds.js';
import type { EvaluationReply, EvaluationRequest } from './evaluationMessages.js';
import { quoted } from './expressionError.js';

/** Workflows reuse their expressions; the bound keeps a stream of distinct ones from filling the heap. */
const MAX_COMPILED = 1000;

type Compiled = ReturnType<typeof jsonata>;

class Invalid extends Error {}
class TooLarge extends Error {}

/** JSONata throws plain objects with a code and a message, not Errors. */
const messageOf = (error: unknown): string => (error !== null && typeof error === 'object' && 'message' in error ? String(error.message) : String(error));
const codeOf = (error: unknown): string | undefined => (error !== null && typeof error === 'object' && 'code' in error ? String(error.code) : undefined);

/** A RangeError is the engine refusing to grow further: the stack, or a string or array past its largest size. */
const rangeBound = (error: unknown): string | undefined =>
  error instanceof RangeError ? (/call stack/i.test(error.message) ? 'its stack' : `the largest size of a value (${error.message})`) : undefined;

/**
 * JSONata under `bounds`, in the thread that calls it: its own guardrails stop time and depth
 * overruns (checked at every step), sequences are bounded, and a result becomes JSON text.
 */
export function jsonataEvaluation(bounds: ExpressionBounds): (request: EvaluationRequest) => Promise<EvaluationReply> {
  const compiled = new Map<string, Compiled>();
  /** JSONata codes of its guardrails: stack depth, timeout, the range operator's and the sequence bound. */
  const limits: Record<string, string> = {
    D1011: `its depth bound of ${bounds.maxDepth}`,
    D1012: `its time bound of ${bounds.timeoutMs} ms`,
    D2014: 'the range bound of 1e7 items',
    D2015: `its sequence bound of ${bounds.maxSequence} items`,
  };

  const compile = (expression: string): Compiled => {
    const cached = compiled.get(expression);
    if (cached) return cached;
    let program: Compiled;
    try {
      program = jsonata(expression, { timeout: bounds.timeoutMs, stack: bounds.maxDepth, sequence: bounds.maxSequence });
    } catch (error) {
      throw new Invalid(`invalid expression ${quoted(expression)}: ${messageOf(error)}`);
    }
    if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
    compiled.set(expression, program);
    return program;
  };

  /**
   * The JSON text of a result. A function is not data: like a JavaScript function in JSON, a
   * JSONata function (a lambda, a built-in) becomes null as a value or in an array, and is left
   * out of an object. The size is counted on the way, so that an oversized result is refused
   * before its text is built.
   */
  const toJson = (result: unknown): string | undefined => {
    let size = 0;
    const json = JSON.stringify(result, (_key, value: unknown) => {
      size += typeof value === 'string' ? value.length + 2 : 8;
      if (size > bounds.maxResultChars) throw new TooLarge();
      return value !== null && typeof value === 'object' && ('_jsonata_lambda' in value || '_jsonata_function' in value) ? undefined : value;
    });
    if (json !== undefined && json.length > bounds.maxResultChars) throw new TooLarge();
    return json;
  };

  return async ({ id, expression, context, bindings }) => {
    try {
      const result: unknown = await compile(expression).evaluate(context, bindings);
      return { id, ok: true, json: toJson(result) };
    } catch (error) {
      if (error instanceof Invalid) return { id, ok: false, limit: false, message: error.message };
      const bound = limits[codeOf(error) ?? ''] ?? (error instanceof TooLarge ? `its result bound of ${bounds.maxResultChars} characters` : rangeBound(error));
      if (bound) return { id, ok: false, limit: true, message: `expression ${quoted(expression)} went past ${bound}` };
      return { id, ok: false, limit: false, message: `expression ${quoted(expression)} failed: ${messageOf(error)}` };
    }
  };
}
