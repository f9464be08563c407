import { MAX_ID_LENGTH } from '../domain/limits.js';
import type { NodeDefinition } from '../domain/workflow/workflow.js';
import { DEFAULT_OUTPUTS, type NodeType } from './nodeType.js';
import { emitTriggerData } from './passThrough.js';

const TYPE = 'trigger.webhook';

export const isWebhookTrigger = (node: NodeDefinition): boolean => node.type === TYPE;

/** The path under /webhooks/ the node answers on. */
export function webhookPathOf(node: NodeDefinition): string | undefined {
  const path = isWebhookTrigger(node) ? node.parameters?.path : undefined;
  return typeof path === 'string' ? path : undefined;
}

/** An empty secret would be no secret at all: such a webhook is treated as unsigned. */
export function webhookSecretOf(node: NodeDefinition): string | null {
  const secret = node.parameters?.secret;
  return typeof secret === 'string' && secret !== '' ? secret : null;
}

export const webhookTrigger: NodeType = {
  type: TYPE,
  description: 'Started by an HTTP POST to /webhooks/<path>; output = the JSON body',
  parameters: {
    type: 'object',
    required: ['path'],
    properties: {
      path: {
        type: 'string',
        format: 'webhook-path',
        description: 'the URL path under /webhooks/',
        problem: `must be a URL path of at most ${MAX_ID_LENGTH} letters, digits and "-_/." without empty segments`,
      },
      secret: { type: 'string', description: 'HMAC-SHA256 key of the X-Cascade-Signature header', problem: 'must be a string' },
    },
  },
  outputs: DEFAULT_OUTPUTS,
  sideEffects: false,
  runs: 'trigger',
  execute: emitTriggerData,
  webhookPath: webhookPathOf,
  writeOnlyParameters: ['secret'],
};
