import { MAX_DELAY_MS } from '../domain/limits.js';
import { DEFAULT_OUTPUTS, type NodeType } from './nodeType.js';

/**
 * A `delay` node has no executor: the runner starts it, and a durable timer completes it `ms`
 * after it started (passing its input on), so that a restart neither loses the wait nor starts it over.
 */
export const delayNode: NodeType = {
  type: 'delay',
  description: 'Completes after ms milliseconds (a durable timer); output = input',
  parameters: {
    type: 'object',
    required: ['ms'],
    properties: { ms: { type: 'integer', minimum: 0, maximum: MAX_DELAY_MS, description: 'how long to wait', problem: `must be an integer between 0 and ${MAX_DELAY_MS}` } },
  },
  outputs: DEFAULT_OUTPUTS,
  sideEffects: false,
  runs: 'timer',
  waitMs: (parameters) => Number(parameters.ms),
};
