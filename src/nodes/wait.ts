import { MAX_WAIT_TIMEOUT_MS } from '../domain/limits.js';
import type { WaitSpec } from '../domain/execution/waiting.js';
import { jsonataSchema } from './jsonataParameter.js';
import { nameSchema } from './names.js';
import { DEFAULT_OUTPUTS, type JsonSchema, type NodeType } from './nodeType.js';

/** The parameters of every wait-run type (`wait`, `approval`). */
export const WAIT_PARAMETERS: JsonSchema = {
  type: 'object',
  properties: {
    event: nameSchema('the emitEvent name that completes it (absent: only signalNode does)'),
    match: jsonataSchema('JSONata over { event, trigger, input }: an event of that name completes it only when this holds (absent: any does)'),
    timeoutMs: {
      type: 'integer',
      minimum: 1,
      maximum: MAX_WAIT_TIMEOUT_MS,
      description: 'fails with WAIT_TIMEOUT after this long (a durable timer)',
      problem: `must be an integer between 1 and ${MAX_WAIT_TIMEOUT_MS}`,
    },
  },
};

/** What an attempt waits for, from its resolved parameters. */
export const waitSpecOf = (parameters: Record<string, unknown>): WaitSpec => ({
  event: typeof parameters.event === 'string' ? parameters.event : null,
  match: typeof parameters.match === 'string' ? parameters.match : null,
  timeoutMs: typeof parameters.timeoutMs === 'number' ? parameters.timeoutMs : null,
});

/**
 * A `wait` node has no executor: once started it is a row of the waits table (src/runtime/waits)
 * until a matching emitEvent or a signalNode completes it with their data, or its timeout timer
 * fails it. No process holds anything for it meanwhile, so it survives restarts at no cost.
 */
export const waitNode: NodeType = {
  type: 'wait',
  description: 'Waits for a matching emitEvent (output = the event data) or a signalNode (output = its data); fails with WAIT_TIMEOUT after timeoutMs',
  parameters: WAIT_PARAMETERS,
  outputs: DEFAULT_OUTPUTS,
  sideEffects: false,
  runs: 'wait',
  expressionParameters: ['match'],
  waitFor: waitSpecOf,
};
