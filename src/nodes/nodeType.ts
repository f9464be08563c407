import type { WaitSpec } from '../domain/execution/waiting.js';
import type { RunMode } from '../domain/workflow/nodeCapabilities.js';
import type { NodeDefinition } from '../domain/workflow/workflow.js';

/** A JSON Schema (draft 2020-12 as ajv reads it) of a node type's parameters. */
export type JsonSchema = Record<string, unknown>;

/** Where the attempt runs: the execution and node it belongs to. */
export interface AttemptExecution {
  id: string;
  workflowId: string;
  attempt: number;
}

export interface NodeLog {
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

/** What `execute` sees for one attempt. */
export interface ExecuteContext<P = Record<string, unknown>> {
  /** The outputs of the node's dependencies by node id (the merged input). */
  input: Record<string, unknown>;
  /** The node's parameters, their expressions resolved and checked against the type's schema. */
  parameters: P;
  /** 1 for the first attempt. */
  attempt: number;
  /** Aborted when the execution is cancelled, the node times out (`timeoutMs`) or the runtime stops. */
  signal: AbortSignal;
  /** Progress (0-100) and a message; recorded for side-effecting types (a no-op for the others, which are recorded once done). */
  reportProgress: (progress: number | null, message?: string | null) => Promise<void>;
  log: NodeLog;
  nodeId: string;
  execution: AttemptExecution;
  /** The execution's trigger data. */
  trigger: unknown;
  /** Outputs of every completed node of the execution by node id, large payloads loaded; built when first called. */
  nodes: () => Promise<Record<string, unknown>>;
  /**
   * Evaluates a JSONata expression over `{ trigger, input, nodes, execution }` under the engine's
   * bounds (EXPRESSION_LIMIT past one).
   */
  evaluate: (expression: string) => Promise<unknown>;
}

export interface NodeResult {
  output: unknown;
  /** One of the type's `outputs`; absent: the first. */
  outputName?: string | null;
}

export type NodeExecute<P = Record<string, unknown>> = (context: ExecuteContext<P>) => Promise<NodeResult>;

/** A user's node type, as DESIGN section 7 defines it. */
export interface NodeTypeDefinition<P = Record<string, unknown>> {
  /** Namespaced with a dot (`acme.upper`): the names without one belong to the built-ins. */
  type: string;
  description?: string;
  /** JSON Schema of the parameters (an object schema). */
  parameters: JsonSchema;
  /** Named outputs; default ['default']. */
  outputs?: readonly string[];
  /** false: safe to run again (the in-process fast path); true: at-least-once, leased like http. */
  sideEffects: boolean;
  execute: NodeExecute<P>;
}

/** A registered node type: a definition and how the engine runs it. */
export interface NodeType {
  readonly type: string;
  readonly description: string | null;
  readonly parameters: JsonSchema;
  readonly outputs: readonly string[];
  readonly sideEffects: boolean;
  readonly runs: RunMode;
  /** Parameters that hold JSONata the type evaluates itself: left as written, never resolved as `{{ }}`. */
  readonly expressionParameters?: readonly string[];
  /** Absent for types the runtime does not run itself (timer and worker types). */
  readonly execute?: NodeExecute;
  /** Timer types: how long after its start an attempt completes, from its resolved parameters. */
  readonly waitMs?: (parameters: Record<string, unknown>) => number;
  /** Wait types: what an attempt waits for (an event, a signal, a deadline), from its resolved parameters. */
  readonly waitFor?: (parameters: Record<string, unknown>) => WaitSpec;
  readonly webhookPath?: (node: NodeDefinition) => string | undefined;
  /** Parameters the API takes and never answers (a webhook's HMAC secret). */
  readonly writeOnlyParameters?: readonly string[];
  /** Child types (`runs: 'child'`): the child executions an attempt starts, from its resolved parameters. */
  readonly children?: (parameters: Record<string, unknown>, context: ChildContext) => ChildPlan;
}

/** What a child type's plan may depend on besides its parameters. */
export interface ChildContext {
  /** The node's input (the outputs of its dependencies by id). */
  input: Record<string, unknown>;
  /** The workflow's recovery setting of that name. */
  continueOnNodeFailure: boolean;
}

/**
 * The child executions of one attempt of a child type (src/runtime/subflows runs them): one per
 * entry of `triggers`, at most `concurrency` running at once, each started at `triggerNodeId` of
 * `workflowId`. Each child's result is its leaf nodes' outputs by id.
 */
export interface ChildPlan {
  workflowId: string;
  triggerNodeId: string;
  /** Each child's trigger data, in order. */
  triggers: unknown[];
  concurrency: number;
  /** A failed child's result is `{ error }` instead of failing the node (and cancelling the rest). */
  keepFailures: boolean;
  /** `one`: the output is the only child's result; `all`: the results in order. */
  collect: 'one' | 'all';
}

export const DEFAULT_OUTPUTS: readonly string[] = ['default'];

/** A user node type: always run in-process, by the runtime, with its parameters checked against `parameters`. */
export function defineNodeType<P = Record<string, unknown>>(definition: NodeTypeDefinition<P>): NodeType {
  return {
    type: definition.type,
    description: definition.description ?? null,
    parameters: definition.parameters,
    outputs: definition.outputs ?? DEFAULT_OUTPUTS,
    sideEffects: definition.sideEffects,
    runs: 'in-process',
    execute: definition.execute as NodeExecute,
  };
}
