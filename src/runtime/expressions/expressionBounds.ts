/** What bounds one evaluation of an expression; every evaluation runs under all of them. */
export interface ExpressionBounds {
  /** Longest an evaluation may run (EXPRESSION_TIMEOUT_MS). */
  timeoutMs: number;
  /** Deepest nesting of evaluation steps (recursion counts each level). */
  maxDepth: number;
  /**
   * Longest sequence (array) an evaluation may build. It keeps single allocations far below the
   * heap bound: one allocation larger than what is left of the heap ends the whole process, not
   * only its worker (V8 cannot stop it in time).
   */
  maxSequence: number;
  /** Longest JSON text of a result, in characters: what may travel back to the engine and into an event. */
  maxResultChars: number;
  /**
   * Heap of one evaluation worker, in MB; an evaluation that needs more ends its worker. V8 ends
   * the whole process instead when one allocation is larger than what is left of the heap, and
   * the largest one an expression can make is a string of 2^29 characters (1 GB when two-byte):
   * the default stays above that.
   */
  memoryMb: number;
}

export const DEFAULT_EXPRESSION_TIMEOUT_MS = 1000;
/** A longer bound would let one expression hold a worker (and its node) for longer than any sensible mapping takes. */
export const MAX_EXPRESSION_TIMEOUT_MS = 60_000;

export const DEFAULT_EXPRESSION_BOUNDS: ExpressionBounds = {
  timeoutMs: DEFAULT_EXPRESSION_TIMEOUT_MS,
  // A recursive function costs a handful of steps per call: a few hundred calls deep still fit.
  maxDepth: 2000,
  maxSequence: 1_000_000,
  maxResultChars: 64 * 1024 * 1024,
  memoryMb: 1280,
};
