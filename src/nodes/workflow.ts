import { nameSchema } from './names.js';
import { DEFAULT_OUTPUTS, type NodeType } from './nodeType.js';

/**
 * A sub-workflow: starts one child execution of `workflowId` at `triggerNodeId` with `data` (the
 * node's input when absent) and stays RUNNING until the child ends; its output is the child's
 * leaf nodes' outputs by id. A failed child fails the node, and a retry starts a new child.
 */
export const workflowNode: NodeType = {
  type: 'workflow',
  description: "Runs another workflow as a child execution; output = the child's leaf nodes' outputs by id",
  parameters: {
    type: 'object',
    required: ['workflowId', 'triggerNodeId'],
    properties: {
      workflowId: nameSchema('the workflow the child execution runs'),
      triggerNodeId: nameSchema('the trigger node of that workflow the child starts at'),
      data: { description: "the child's trigger data (default: the node's input)" },
    },
  },
  outputs: DEFAULT_OUTPUTS,
  sideEffects: true,
  runs: 'child',
  children: (parameters, { input }) => ({
    workflowId: String(parameters.workflowId),
    triggerNodeId: String(parameters.triggerNodeId),
    triggers: ['data' in parameters ? parameters.data : input],
    concurrency: 1,
    keepFailures: false,
    collect: 'one',
  }),
};
