import type { ExecutionState } from './state.js';

/** What an execution produced: the outputs of its completed nodes that have no dependents, by node id. */
export function leafOutputs(state: ExecutionState): Record<string, unknown> {
  const outputs: Record<string, unknown> = {};
  for (const [nodeId, node] of state.nodes) {
    if (node.status === 'COMPLETED' && (state.graph.dependents.get(nodeId) ?? []).length === 0) outputs[nodeId] = node.output;
  }
  return outputs;
}
