import { DEFAULT_OUTPUTS, type NodeType } from './nodeType.js';
import { emitTriggerData, NO_PARAMETERS } from './passThrough.js';

export const manualTrigger: NodeType = {
  type: 'trigger.manual',
  description: 'Started by startTrigger; output = the trigger data',
  parameters: NO_PARAMETERS,
  outputs: DEFAULT_OUTPUTS,
  sideEffects: false,
  runs: 'trigger',
  execute: emitTriggerData,
};
