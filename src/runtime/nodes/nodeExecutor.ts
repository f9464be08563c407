import type { NodeDefinition } from '../../domain/workflow/workflow.js';

/** What a built-in node sees when it runs one attempt. */
export interface NodeRunContext {
  node: NodeDefinition;
  attempt: number;
  input: Record<string, unknown>;
  triggerData: unknown;
  /** Outputs of every completed node of the execution, by node id; built only when asked for. */
  nodeOutputs: () => Record<string, unknown>;
  /** Aborted when the execution is cancelled, the node times out or the runtime stops. */
  signal: AbortSignal;
}

export interface NodeResult {
  output: unknown;
  outputName?: string | null;
}

export type NodeExecutor = (context: NodeRunContext) => Promise<NodeResult>;

/**
 * A failure with a catalogue code (EXPRESSION_LIMIT, EXECUTION_TIMEOUT, ...): the attempt records
 * it as its errorCode, and its message starts with the code.
 */
export class CodedNodeError extends Error {
  override readonly name = 'CodedNodeError';
  constructor(
    readonly code: string,
    detail: string,
    readonly retryable: boolean,
  ) {
    super(`${code}: ${detail}`);
  }
}

/** A failure that retrying cannot fix (bad configuration, a bad expression). */
export class PermanentNodeError extends Error {
  override readonly name = 'PermanentNodeError';
}
