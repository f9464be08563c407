import type { NodeDefinition } from '../domain/workflow/workflow.js';
import { nameSchema } from './names.js';
import { DEFAULT_OUTPUTS, type NodeType } from './nodeType.js';
import { emitTriggerData } from './passThrough.js';

const TYPE = 'trigger.event';

/** Whether an execution was started by an event trigger (its recorded trigger type). */
export const isEventTriggerType = (type: string): boolean => type === TYPE;

export const isEventTrigger = (node: NodeDefinition): boolean => isEventTriggerType(node.type);

export const eventTrigger: NodeType = {
  type: TYPE,
  description: 'Started by emitEvent(name, data) and by execution.* events of other workflows; output = the event data',
  parameters: {
    type: 'object',
    required: ['event'],
    properties: {
      event: nameSchema('the event name'),
      // Narrows an execution.* trigger to the executions of one workflow.
      workflowId: nameSchema('only events whose data names this workflow'),
    },
  },
  outputs: DEFAULT_OUTPUTS,
  sideEffects: false,
  runs: 'trigger',
  execute: emitTriggerData,
};
