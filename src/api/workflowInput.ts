import type { TriggerRule, WorkflowDefinition } from '../domain/workflow/workflow.js';

/** `WorkflowInput` as GraphQL hands it over: an optional field the client left out is null. */
export interface WorkflowInput {
  name: string;
  nodes: Array<{
    id: string;
    type: string;
    name?: string | null;
    parameters?: Record<string, unknown> | null;
    retry?: { maxAttempts: number; initialDelayMs?: number | null; backoffFactor?: number | null; maxDelayMs?: number | null } | null;
    timeoutMs?: number | null;
    triggerRule?: TriggerRule | null;
  }>;
  connections: Array<{ source: string; target: string; sourceOutput?: string | null }>;
  settings?: {
    recovery?: { continueOnNodeFailure?: boolean | null; skipFailedBranches?: boolean | null; retryFailedNodes?: boolean | null; maxRetryAttempts?: number | null } | null;
    executionTimeoutMs?: number | null;
    maxConcurrentExecutions?: number | null;
    maxConcurrentExecutionsPerUser?: number | null;
  } | null;
}

type WithoutNulls<T> = { [K in keyof T]: Exclude<T[K], null> };

/** Drops the keys whose value is null, so that stored definitions say "absent" one way only. */
function withoutNulls<T extends object>(value: T): WithoutNulls<T> {
  return Object.fromEntries(Object.entries(value).filter(([, each]) => each !== null)) as WithoutNulls<T>;
}

/** Node parameters are the user's JSON and are kept as given, nulls included. */
export function toDefinition(input: WorkflowInput): WorkflowDefinition {
  const { settings } = input;
  return {
    name: input.name,
    nodes: input.nodes.map(({ retry, ...node }) => withoutNulls({ ...node, retry: retry ? withoutNulls(retry) : null })),
    connections: input.connections.map(({ source, target, sourceOutput }) => ({ source, target, sourceOutput: sourceOutput ?? null })),
    ...(settings ? { settings: withoutNulls({ ...settings, recovery: settings.recovery ? withoutNulls(settings.recovery) : null }) } : {}),
  };
}
