import type { ExecutionState } from '../../domain/execution/state.js';
import { PermanentNodeError } from '../../nodes/nodeErrors.js';
import type { AttemptExecution } from '../../nodes/nodeType.js';
import { ExpressionError } from '../expressions/expressionError.js';
import type { ExpressionEvaluator } from '../expressions/expressionPool.js';

/**
 * The `$variables` every expression of an attempt may read. `$secrets` is the hook of the secrets
 * store (DESIGN section 8): its values live only in memory while the expression runs, and never
 * in events, since what is recorded is the parameters as written.
 */
/** `tenantId`: the execution's tenant, the only one whose secrets it reads. */
export type ExpressionBindings = (execution: AttemptExecution, tenantId: string) => Promise<{ secrets: Record<string, string> }>;

export const NO_SECRETS: ExpressionBindings = async () => ({ secrets: {} });

const NO_VARIABLES = { secrets: {} };

/**
 * The names an expression reads as `$secrets.NAME` (the plain-path form secret names are made
 * for); `$exists($secrets.NAME)` asks whether one is set, and is no read.
 */
const SECRET_READS = /(?<!\$exists\(\s*)\$secrets\.([A-Za-z_][A-Za-z0-9_]*)/g;

/**
 * A secret that is not set fails the attempt for good: read as empty, it would send a request
 * without its token (or with `Bearer ` alone) and fail somewhere far from the cause.
 */
function checkSecretsSet(expression: string, secrets: Record<string, string>): void {
  for (const [, name] of expression.matchAll(SECRET_READS))
    if (!Object.hasOwn(secrets, name!)) throw new PermanentNodeError(`secret ${name} is not set in this tenant`, 'SECRET_NOT_FOUND');
}

/** Puts large payloads back where a state holds their references (src/payloads). */
export interface PayloadResolver {
  resolve(tenantId: string, value: unknown): Promise<unknown>;
}

const INLINE: PayloadResolver = { resolve: async (_, value) => value };

/** What one attempt's expressions see: `{ trigger, input, nodes, execution }`, under the engine's bounds. */
export interface AttemptScope {
  execution: AttemptExecution;
  trigger: unknown;
  input: Record<string, unknown>;
  /** Every completed node's output by id, large payloads loaded: once per attempt, when first asked. */
  nodes(): Promise<Record<string, unknown>>;
  evaluate(expression: string): Promise<unknown>;
  /** The secret values this attempt's expressions were given so far: masked out of what it records. */
  secretsRead(): string[];
}

function completedOutputs(state: ExecutionState): Record<string, unknown> {
  const outputs: Record<string, unknown> = {};
  for (const [id, node] of state.nodes) if (node.status === 'COMPLETED') outputs[id] = node.output;
  return outputs;
}

/**
 * `nodes` is built (and sent to the evaluator) only when an expression mentions it or `execute`
 * asks for it, its large payloads loaded once per attempt. The trigger data and the input are
 * loaded when the scope is made. Past a bound the attempt fails for good with EXPRESSION_LIMIT;
 * an invalid expression or a failed evaluation fails it for good, uncoded.
 */
export async function attemptScope(
  state: ExecutionState,
  nodeId: string,
  attempt: number,
  evaluator: ExpressionEvaluator,
  bindings: ExpressionBindings,
  signal: AbortSignal,
  payloads: PayloadResolver = INLINE,
): Promise<AttemptScope> {
  const execution = { id: state.id, workflowId: state.workflowId, attempt };
  const trigger = await payloads.resolve(state.tenantId, state.triggerData);
  const input = (await payloads.resolve(state.tenantId, state.nodes.get(nodeId)!.input ?? {})) as Record<string, unknown>;
  let loadedNodes: Promise<Record<string, unknown>> | undefined;
  const nodes = () => (loadedNodes ??= payloads.resolve(state.tenantId, completedOutputs(state)) as Promise<Record<string, unknown>>);
  // Loaded once per attempt, and only for an expression that mentions them: most read none.
  let variables: ReturnType<ExpressionBindings> | undefined;
  let secrets: Record<string, string> = {};
  const variablesOf = async (expression: string) => {
    if (!expression.includes('$secrets')) return NO_VARIABLES;
    variables ??= bindings(execution, state.tenantId);
    const loaded = await variables;
    secrets = loaded.secrets;
    checkSecretsSet(expression, secrets);
    return loaded;
  };
  const evaluate = async (expression: string) => {
    const context = { trigger, input, nodes: expression.includes('nodes') ? await nodes() : {}, execution };
    try {
      return await evaluator.evaluate(expression, context, signal, await variablesOf(expression));
    } catch (error) {
      if (!(error instanceof ExpressionError)) throw error;
      throw error.limit ? new PermanentNodeError(error.detail, 'EXPRESSION_LIMIT') : new PermanentNodeError(error.message);
    }
  };
  return { execution, trigger, input, nodes, evaluate, secretsRead: () => Object.values(secrets) };
}
