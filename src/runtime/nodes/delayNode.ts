import type { NodeDefinition } from '../../domain/workflow/workflow.js';

/**
 * A `delay` node has no executor: the runner starts it, and a durable timer completes it `ms`
 * after it started, so that a restart neither loses the wait nor starts it over.
 */
export const isDelayNode = (node: NodeDefinition | undefined): boolean => node?.type === 'delay';

export const delayEndsAt = (node: NodeDefinition, startedAt: string): Date => new Date(Date.parse(startedAt) + Number(node.parameters?.ms ?? 0));
