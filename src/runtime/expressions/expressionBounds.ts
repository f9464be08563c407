/** What bounds one evaluation of an expression; every evaluation runs under all of them. */
export interface ExpressionBounds {
  /** Longest an evaluation may run (EXPRESSION_TIMEOUT_MS). */
  timeoutMs: number;
  /** Deepest nesting of evaluation steps (recursion counts each level). */
  maxDepth: number;
  /** Heap of one evaluation worker, in MB; an evaluation that needs more ends its worker. */
  memoryMb: number;
}

export const DEFAULT_EXPRESSION_TIMEOUT_MS = 1000;
/** A longer bound would let one expression hold a worker (and its node) for longer than any sensible mapping takes. */
export const MAX_EXPRESSION_TIMEOUT_MS = 60_000;

export const DEFAULT_EXPRESSION_BOUNDS: ExpressionBounds = {
  timeoutMs: DEFAULT_EXPRESSION_TIMEOUT_MS,
  // A recursive function costs a handful of steps per call: a few hundred calls deep still fit.
  maxDepth: 2000,
  memoryMb: 128,
};
