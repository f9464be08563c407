import type { NodeDefinition } from './workflow.js';

/**
 * How the engine runs a node of a type: `trigger` starts executions and emits their trigger data,
 * `in-process` runs its executor in the runtime, `timer` completes by a durable timer, `worker`
 * waits in a queue for an external worker to settle it, `wait` waits (as a row, nothing in memory) for
 * a matching emitEvent or a signalNode, `child` starts child executions and settles when they end
 * (src/runtime/subflows).
 */
export type RunMode = 'trigger' | 'in-process' | 'timer' | 'worker' | 'wait' | 'child';

/**
 * What the domain knows of a node type: data handed to the validator and the decider by whoever
 * holds the registry (src/nodes), so that the rules never name a type.
 */
export interface NodeCapabilities {
  readonly type: string;
  readonly runs: RunMode;
  /** false: running an attempt twice harms nothing; true: at-least-once, under a lease. */
  readonly sideEffects: boolean;
  /** The outputs a connection from such a node may name; one output: connections name none. */
  readonly outputs: readonly string[];
  /** Problems with a node's parameters as saved (empty when acceptable). */
  checkParameters(parameters: unknown): string[];
  /** The path under /webhooks/ a node of this type claims, when it claims one. */
  webhookPath?(node: NodeDefinition): string | undefined;
}

/** Every registered type by name. */
export type NodeTypeLookup = ReadonlyMap<string, NodeCapabilities>;

export const isTriggerOf = (nodeTypes: NodeTypeLookup, type: string): boolean => nodeTypes.get(type)?.runs === 'trigger';
