/**
 * An expression that could not give a value: `limit` when it went past a bound (time, memory,
 * depth: EXPRESSION_LIMIT), otherwise it is invalid or its evaluation failed. Neither is fixed
 * by evaluating it again on the same data.
 */
export class ExpressionError extends Error {
  override readonly name = 'ExpressionError';
  constructor(
    /** What happened, without the code. */
    readonly detail: string,
    readonly limit: boolean,
  ) {
    super(limit ? `EXPRESSION_LIMIT: ${detail}` : detail);
  }

  get code(): 'EXPRESSION_LIMIT' | null {
    return this.limit ? 'EXPRESSION_LIMIT' : null;
  }
}

/** An expression as messages quote it: long ones are cut, so that an error stays readable. */
export const quoted = (expression: string): string => JSON.stringify(expression.length > 200 ? `${expression.slice(0, 200)}...` : expression);
