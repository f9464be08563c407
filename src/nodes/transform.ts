import { DEFAULT_OUTPUTS, type NodeType } from './nodeType.js';
import { jsonataSchema } from './jsonataParameter.js';

export const transformNode: NodeType = {
  type: 'transform',
  description: 'Output = the value of its mapping',
  parameters: { type: 'object', required: ['mapping'], properties: { mapping: jsonataSchema('JSONata over { trigger, input, nodes, execution }') } },
  outputs: DEFAULT_OUTPUTS,
  sideEffects: false,
  runs: 'in-process',
  expressionParameters: ['mapping'],
  execute: async ({ parameters, evaluate }) => ({ output: (await evaluate(String(parameters.mapping))) ?? null }),
};
