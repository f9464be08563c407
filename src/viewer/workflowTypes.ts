/** The parts of the GraphQL answers the viewer reads. */
export interface WorkflowNode {
  id: string;
  type: string;
  name: string | null;
}
export interface WorkflowConnection {
  source: string;
  target: string;
  sourceOutput: string | null;
}
export interface Workflow {
  id: string;
  name: string;
  version: number;
  nodes: WorkflowNode[];
  connections: WorkflowConnection[];
}

export const WORKFLOW_FIELDS = 'id name version nodes { id type name } connections { source target sourceOutput }';

export const isTrigger = (node: WorkflowNode): boolean => node.type.startsWith('trigger.');
