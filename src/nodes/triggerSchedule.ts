import type { NodeDefinition } from '../domain/workflow/workflow.js';
import { DEFAULT_OUTPUTS, type NodeType } from './nodeType.js';
import { emitTriggerData } from './passThrough.js';

const TYPE = 'trigger.schedule';

export const isScheduleTrigger = (node: NodeDefinition): boolean => node.type === TYPE;

export const scheduleTrigger: NodeType = {
  type: TYPE,
  description: 'Started on a cron schedule, durable across restarts; output = { scheduledAt, firedAt }',
  parameters: {
    type: 'object',
    required: ['cron'],
    properties: {
      cron: {
        type: 'string',
        format: 'cron',
        description: 'a recurring cron pattern (5 or 6 fields, or @daily and the like)',
        problem: 'must be a recurring cron pattern (5 or 6 fields or a nickname such as @daily, without ":" or "?")',
      },
      timezone: { type: 'string', format: 'time-zone', description: 'an IANA time zone name; default UTC', problem: 'must be an IANA time zone name' },
    },
  },
  outputs: DEFAULT_OUTPUTS,
  sideEffects: false,
  runs: 'trigger',
  execute: emitTriggerData,
};
