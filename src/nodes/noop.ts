import { DEFAULT_OUTPUTS, type NodeType } from './nodeType.js';
import { NO_PARAMETERS, passInput } from './passThrough.js';

export const noopNode: NodeType = {
  type: 'noop',
  description: 'Passes its input on',
  parameters: NO_PARAMETERS,
  outputs: DEFAULT_OUTPUTS,
  sideEffects: false,
  runs: 'in-process',
  execute: passInput,
};
