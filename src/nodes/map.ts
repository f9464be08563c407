import { MAX_MAP_CONCURRENCY, MAX_MAP_ITEMS } from '../domain/limits.js';
import { nameSchema } from './names.js';
import { PermanentNodeError } from './nodeErrors.js';
import { DEFAULT_OUTPUTS, type NodeType } from './nodeType.js';

export const DEFAULT_MAP_CONCURRENCY = 10;

/**
 * Fans out over a list known at run time: one child execution of `workflowId` per item (trigger
 * data `{ item, index }`), at most `concurrency` at once; output: the children's results in item
 * order. The first failed item fails the node and cancels the rest, unless the workflow's
 * `continueOnNodeFailure` is set: then that item's result is `{ error }`.
 */
export const mapNode: NodeType = {
  type: 'map',
  description: 'Runs a workflow once per item (trigger data { item, index }), concurrency at a time; output = the results in item order',
  parameters: {
    type: 'object',
    required: ['items', 'workflowId', 'triggerNodeId'],
    properties: {
      items: { type: 'array', description: 'the items, usually an expression: "{{ input.start.orders }}"', problem: 'must be an array (or an expression giving one)' },
      workflowId: nameSchema('the workflow each item runs'),
      triggerNodeId: nameSchema('the trigger node of that workflow each child starts at'),
      concurrency: {
        type: 'integer',
        minimum: 1,
        maximum: MAX_MAP_CONCURRENCY,
        description: `children running at once (default ${DEFAULT_MAP_CONCURRENCY})`,
        problem: `must be an integer between 1 and ${MAX_MAP_CONCURRENCY}`,
      },
    },
  },
  outputs: DEFAULT_OUTPUTS,
  sideEffects: true,
  runs: 'child',
  children: (parameters, { continueOnNodeFailure }) => {
    const items = parameters.items as unknown[];
    if (items.length > MAX_MAP_ITEMS) throw new PermanentNodeError(`map has ${items.length} items, more than ${MAX_MAP_ITEMS}`, 'MAP_TOO_MANY_ITEMS');
    return {
      workflowId: String(parameters.workflowId),
      triggerNodeId: String(parameters.triggerNodeId),
      triggers: items.map((item, index) => ({ item, index })),
      concurrency: Number(parameters.concurrency ?? DEFAULT_MAP_CONCURRENCY),
      keepFailures: continueOnNodeFailure,
      collect: 'all',
    };
  },
};
