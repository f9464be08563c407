import type { ExecutionState } from '../../domain/execution/state.js';
import type { NodeTypeLookup, RunMode } from '../../domain/workflow/nodeCapabilities.js';
import type { NodeDefinition } from '../../domain/workflow/workflow.js';

/** What planning the runtime's tables needs to know of an execution besides its events. */
export interface ExecutionFacts {
  executionId: string;
  /** The affected nodes' definitions: fixed when the execution started. */
  nodes: ReadonlyMap<string, NodeDefinition>;
  nodeTypes: NodeTypeLookup;
  /** Its tenant: the tenant of the jobs it offers. */
  tenantId: string;
  /** The current state, loaded only when a batch needs it (a resume). */
  current: ExecutionState | null;
}

/** How a node of the execution runs; undefined for a node or type it does not know. */
export function runModeOf({ nodes, nodeTypes }: ExecutionFacts, nodeId: string): RunMode | undefined {
  const type = nodes.get(nodeId)?.type;
  return type === undefined ? undefined : nodeTypes.get(type)?.runs;
}
