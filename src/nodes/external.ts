import { nameSchema } from './names.js';
import { DEFAULT_OUTPUTS, type NodeType } from './nodeType.js';

/** Waits in its queue for a worker: claimNodes leases it, completeNode / failNode settle it. */
export const externalNode: NodeType = {
  type: 'external',
  description: 'Waits for a worker on its queue (claimNodes, reportNodeProgress, completeNode, failNode)',
  parameters: { type: 'object', required: ['queue'], properties: { queue: nameSchema('the work queue workers claim from') } },
  outputs: DEFAULT_OUTPUTS,
  sideEffects: true,
  runs: 'worker',
};

/** The queue a worker-run node waits in: its `queue` parameter, as every worker-run type names it. */
export const queueOf = (parameters: Record<string, unknown> | undefined): string => String(parameters?.queue);
