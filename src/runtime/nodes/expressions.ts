import { ExpressionError } from '../expressions/expressionError.js';
import type { ExpressionEvaluator } from '../expressions/expressionPool.js';
import { PermanentNodeError, type NodeRunContext } from './nodeExecutor.js';

/**
 * A node's expression sees `{ trigger, input, nodes }`; `nodes` is built (and sent to the
 * evaluator) only when the expression mentions it. Past a bound the attempt fails for good with
 * EXPRESSION_LIMIT; an invalid expression or a failed evaluation fails it for good, uncoded.
 */
export async function evaluateExpression(evaluator: ExpressionEvaluator, expression: string, context: NodeRunContext): Promise<unknown> {
  const nodes = expression.includes('nodes') ? context.nodeOutputs() : {};
  try {
    return await evaluator.evaluate(expression, { trigger: context.triggerData, input: context.input, nodes }, context.signal);
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    throw error.limit ? new PermanentNodeError(error.detail, 'EXPRESSION_LIMIT') : new PermanentNodeError(error.message);
  }
}
