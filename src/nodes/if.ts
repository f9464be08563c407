import type { NodeType } from './nodeType.js';
import { jsonataSchema } from './jsonataParameter.js';

export const ifNode: NodeType = {
  type: 'if',
  description: 'Output = input, on output "true" or "false" as its condition says',
  parameters: { type: 'object', required: ['condition'], properties: { condition: jsonataSchema('JSONata over { trigger, input, nodes, execution }') } },
  outputs: ['true', 'false'],
  sideEffects: false,
  runs: 'in-process',
  expressionParameters: ['condition'],
  execute: async ({ parameters, input, evaluate }) => ({ output: input, outputName: (await evaluate(String(parameters.condition))) ? 'true' : 'false' }),
};
