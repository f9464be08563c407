// Parameters are checked when a workflow is saved (validateWorkflow), so these String() calls see strings.
/* eslint-disable @typescript-eslint/no-base-to-string */
import type { ExpressionEvaluator } from '../expressions/expressionPool.js';
import { evaluateExpression } from './expressions.js';
import type { NodeExecutor } from './nodeExecutor.js';

const passInput: NodeExecutor = async ({ input }) => ({ output: input });
const emitTriggerData: NodeExecutor = async ({ triggerData }) => ({ output: triggerData });

const condition =
  (evaluator: ExpressionEvaluator): NodeExecutor =>
  async (context) => {
    const result = await evaluateExpression(evaluator, String(context.node.parameters?.condition ?? 'false'), context);
    return { output: context.input, outputName: result ? 'true' : 'false' };
  };

const transform =
  (evaluator: ExpressionEvaluator): NodeExecutor =>
  async (context) => ({
    output: (await evaluateExpression(evaluator, String(context.node.parameters?.mapping ?? 'input'), context)) ?? null,
  });

/** Fails its first `failTimes` attempts (every attempt when absent): for testing recovery paths. */
const fail: NodeExecutor = async ({ node, attempt, input }) => {
  const failTimes = node.parameters?.failTimes;
  const message = String(node.parameters?.message ?? `node ${node.id} failed`);
  if (failTimes === undefined || attempt <= Number(failTimes)) throw new Error(message);
  return { output: input };
};

/**
 * The executors the runtime runs itself, their expressions evaluated by `evaluator`; `delay`
 * nodes are timers (see delayNode) and `external` nodes wait for workers. `http` takes the
 * engine's bounds, so the engine adds it (httpNode).
 */
export const builtinExecutors = (evaluator: ExpressionEvaluator): ReadonlyMap<string, NodeExecutor> =>
  new Map([
    ['trigger.manual', emitTriggerData],
    ['trigger.webhook', emitTriggerData],
    ['trigger.schedule', emitTriggerData],
    ['trigger.event', emitTriggerData],
    ['noop', passInput],
    ['merge', passInput],
    ['if', condition(evaluator)],
    ['transform', transform(evaluator)],
    ['fail', fail],
  ]);

/** Types whose executor only computes from its input, so running one twice harms nothing. */
export const SIDE_EFFECT_FREE_TYPES: ReadonlySet<string> = new Set([
  'trigger.manual',
  'trigger.webhook',
  'trigger.schedule',
  'trigger.event',
  'noop',
  'merge',
  'if',
  'transform',
  'fail',
]);
