import { parentPort, workerData } from 'node:worker_threads';
import jsonata from 'jsonata';
import type { ExpressionBounds } from './expressionBounds.js';
import type { EvaluationReply, EvaluationRequest } from './evaluationMessages.js';
import { quoted } from './expressionError.js';

/**
 * The entry of an evaluation worker: evaluates each batch it is sent, in order, one reply per
 * request. JSONata's own guardrails stop time and depth overruns here; the pool terminates a
 * worker that does not stop by itself (a backtracking regular expression) or runs out of memory.
 */
const bounds = workerData as ExpressionBounds;
/** JSONata codes of its guardrails: stack depth, timeout, and the range operator's size bound. */
const LIMIT_CODES: Record<string, string> = {
  D1011: `its depth bound of ${bounds.maxDepth}`,
  D1012: `its time bound of ${bounds.timeoutMs} ms`,
  D2014: 'the range bound of 1e7 items',
};
/** Workflows reuse their expressions; the bound keeps a stream of distinct ones from filling the heap. */
const MAX_COMPILED = 1000;

type Compiled = ReturnType<typeof jsonata>;
const compiled = new Map<string, Compiled>();

class Invalid extends Error {}

function compile(expression: string): Compiled {
  const cached = compiled.get(expression);
  if (cached) return cached;
  let program: Compiled;
  try {
    program = jsonata(expression, { timeout: bounds.timeoutMs, stack: bounds.maxDepth });
  } catch (error) {
    throw new Invalid(`invalid expression ${quoted(expression)}: ${messageOf(error)}`);
  }
  if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
  compiled.set(expression, program);
  return program;
}

/** JSONata throws plain objects with a code and a message, not Errors. */
const messageOf = (error: unknown): string =>
  error !== null && typeof error === 'object' && 'message' in error ? String(error.message) : String(error);
const codeOf = (error: unknown): string | undefined =>
  error !== null && typeof error === 'object' && 'code' in error ? String(error.code) : undefined;

/**
 * A function is not data: like a JavaScript function in JSON, a JSONata function (a lambda, a
 * built-in) becomes null as a value or in an array, and is left out of an object.
 */
const withoutFunctions = (_key: string, value: unknown): unknown =>
  value !== null && typeof value === 'object' && ('_jsonata_lambda' in value || '_jsonata_function' in value) ? undefined : value;

async function evaluate({ id, expression, context }: EvaluationRequest): Promise<EvaluationReply> {
  try {
    const result = await compile(expression).evaluate(context);
    return { id, ok: true, json: JSON.stringify(result, withoutFunctions) };
  } catch (error) {
    if (error instanceof Invalid) return { id, ok: false, limit: false, message: error.message };
    const bound = LIMIT_CODES[codeOf(error) ?? ''] ?? (error instanceof RangeError ? 'its stack' : undefined);
    if (bound) return { id, ok: false, limit: true, message: `expression ${quoted(expression)} went past ${bound}` };
    return { id, ok: false, limit: false, message: `expression ${quoted(expression)} failed: ${messageOf(error)}` };
  }
}

parentPort!.on('message', async (batch: EvaluationRequest[]) => {
  for (const request of batch) parentPort!.postMessage(await evaluate(request));
});
// Loading this file is not part of any evaluation's time: the pool starts the clock from here.
parentPort!.postMessage('ready');
