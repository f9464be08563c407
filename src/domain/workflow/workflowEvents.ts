import type { Workflow } from './workflow.js';

/** A workflow's stream `workflow-<id>` holds every version it had; executions keep the one they started with. */
export type WorkflowEvent = { type: 'WorkflowCreated'; data: { workflow: Workflow; at: string } } | { type: 'WorkflowUpdated'; data: { workflow: Workflow; at: string } };

export const workflowStreamId = (workflowId: string): string => `workflow-${workflowId}`;
export const WORKFLOW_STREAM_PREFIX = 'workflow-';
