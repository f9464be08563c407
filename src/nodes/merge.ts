import { DEFAULT_OUTPUTS, type NodeType } from './nodeType.js';
import { NO_PARAMETERS, passInput } from './passThrough.js';

/** Joins branches: its input holds the output of every dependency by node id. */
export const mergeNode: NodeType = {
  type: 'merge',
  description: 'Joins branches; output = the outputs of its dependencies by node id',
  parameters: NO_PARAMETERS,
  outputs: DEFAULT_OUTPUTS,
  sideEffects: false,
  runs: 'in-process',
  execute: passInput,
};
