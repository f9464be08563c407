// Parameters are checked when a workflow is saved (validateWorkflow), so these String() calls see strings.
/* eslint-disable @typescript-eslint/no-base-to-string */
import { evaluateExpression } from './expressions.js';
import { PermanentNodeError, type NodeExecutor } from './nodeExecutor.js';

const passInput: NodeExecutor = async ({ input }) => ({ output: input });
const emitTriggerData: NodeExecutor = async ({ triggerData }) => ({ output: triggerData });

const condition: NodeExecutor = async (context) => {
  const result = await evaluateExpression(String(context.node.parameters?.condition ?? 'false'), context);
  return { output: context.input, outputName: result ? 'true' : 'false' };
};

const transform: NodeExecutor = async (context) => ({
  output: (await evaluateExpression(String(context.node.parameters?.mapping ?? 'input'), context)) ?? null,
});

/** Fails its first `failTimes` attempts (every attempt when absent): for testing recovery paths. */
const fail: NodeExecutor = async ({ node, attempt, input }) => {
  const failTimes = node.parameters?.failTimes;
  const message = String(node.parameters?.message ?? `node ${node.id} failed`);
  if (failTimes === undefined || attempt <= Number(failTimes)) throw new Error(message);
  return { output: input };
};

const http: NodeExecutor = async ({ node, signal }) => {
  const parameters = node.parameters ?? {};
  if (typeof parameters.url !== 'string') throw new PermanentNodeError('http node needs a url');
  const body = parameters.body === undefined ? undefined : typeof parameters.body === 'string' ? parameters.body : JSON.stringify(parameters.body);
  const response = await fetch(parameters.url, {
    method: String(parameters.method ?? 'GET'),
    headers: { ...(body && typeof parameters.body !== 'string' ? { 'content-type': 'application/json' } : {}), ...(parameters.headers as Record<string, string>) },
    body,
    signal,
  });
  const text = await response.text();
  const json = (response.headers.get('content-type') ?? '').includes('json');
  return { output: { status: response.status, headers: Object.fromEntries(response.headers), body: json && text ? (JSON.parse(text) as unknown) : text } };
};

/** The executors the runtime runs itself; `delay` nodes are timers (see delayNode) and `external` nodes wait for workers. */
export const BUILTIN_EXECUTORS: ReadonlyMap<string, NodeExecutor> = new Map([
  ['trigger.manual', emitTriggerData],
  ['trigger.webhook', emitTriggerData],
  ['trigger.schedule', emitTriggerData],
  ['trigger.event', emitTriggerData],
  ['noop', passInput],
  ['merge', passInput],
  ['if', condition],
  ['transform', transform],
  ['http', http],
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
