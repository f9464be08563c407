import jsonata from 'jsonata';
import { PermanentNodeError, type NodeRunContext } from './nodeExecutor.js';

type Compiled = ReturnType<typeof jsonata>;
const compiled = new Map<string, Compiled>();

/** JSONata sees `{ trigger, input, nodes }`; compiled expressions are kept, as workflows reuse them. */
export async function evaluateExpression(expression: string, context: NodeRunContext): Promise<unknown> {
  let program = compiled.get(expression);
  if (!program) {
    try {
      program = jsonata(expression);
    } catch (error) {
      throw new PermanentNodeError(`invalid expression ${JSON.stringify(expression)}: ${(error as Error).message}`);
    }
    compiled.set(expression, program);
  }
  const nodes = expression.includes('nodes') ? context.nodeOutputs() : {};
  return program.evaluate({ trigger: context.triggerData, input: context.input, nodes });
}
