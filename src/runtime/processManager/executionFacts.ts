import type { ExecutionState } from '../../domain/execution/state.js';
import type { NodeDefinition } from '../../domain/workflow/workflow.js';

/** What planning the runtime's tables needs to know of an execution besides its events. */
export interface ExecutionFacts {
  executionId: string;
  /** The affected nodes' definitions: fixed when the execution started. */
  nodes: ReadonlyMap<string, NodeDefinition>;
  /** The current state, loaded only when a batch needs it (a resume). */
  current: ExecutionState | null;
}
