import type { NodeErrorCode } from '../../domain/errors.js';
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

/** A failure with a catalogue code: the attempt records it as its errorCode, and the message starts with it ("CODE: ..."). */
export class CodedNodeError extends Error {
  override name = 'CodedNodeError';

  constructor(
    message: string,
    readonly code: NodeErrorCode | null,
    readonly retryable: boolean,
  ) {
    super(code === null ? message : `${code}: ${message}`);
  }
}

/** A failure that retrying cannot fix (bad configuration, a bad expression), with a code when it has one. */
export class PermanentNodeError extends CodedNodeError {
  override name = 'PermanentNodeError';

  constructor(message: string, code: NodeErrorCode | null = null) {
    super(message, code, false);
  }
}
