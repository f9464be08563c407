import { MAX_FAIL_TIMES, MAX_MESSAGE_LENGTH } from '../domain/limits.js';
import { DEFAULT_OUTPUTS, type NodeType } from './nodeType.js';

/** Fails its first `failTimes` attempts (every attempt when absent): for testing recovery paths. */
export const failNode: NodeType = {
  type: 'fail',
  description: 'Fails its first failTimes attempts (every attempt without it); then output = input',
  parameters: {
    type: 'object',
    properties: {
      message: { type: 'string', maxLength: MAX_MESSAGE_LENGTH, description: 'the error message', problem: `must be a string of at most ${MAX_MESSAGE_LENGTH} characters` },
      failTimes: { type: 'integer', minimum: 0, maximum: MAX_FAIL_TIMES, description: 'attempts that fail', problem: `must be an integer between 0 and ${MAX_FAIL_TIMES}` },
    },
  },
  outputs: DEFAULT_OUTPUTS,
  sideEffects: false,
  runs: 'in-process',
  execute: async ({ parameters, attempt, input, nodeId }) => {
    const { failTimes, message } = parameters as { failTimes?: number; message?: string };
    if (failTimes === undefined || attempt <= failTimes) throw new Error(message ?? `node ${nodeId} failed`);
    return { output: input };
  },
};
