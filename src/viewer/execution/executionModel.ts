/** What the execution page reads from the API, and the queries it reads it with. */
export interface NodeState {
  nodeId: string;
  status: string;
  attempt: number;
}
export interface NodeDetail extends NodeState {
  progress: number;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  error: string | null;
  errorCode: string | null;
  input: unknown;
  output: unknown;
  outputName: string | null;
  skipReason: string | null;
  message: string | null;
  reusedFrom: string | null;
  dependencies: string[];
  dependents: string[];
}
export interface Metrics {
  totalNodes: number;
  completedNodes: number;
  failedNodes: number;
  averageNodeDurationMs: number | null;
  longestRunningNode: string | null;
  bottleneckNodes: string[];
  parallelismUtilization: number | null;
}
export interface ExecutionSummary {
  id: string;
  workflowId: string;
  status: string;
  progress: number;
  triggerNodeId: string;
  estimatedTimeRemainingMs: number | null;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  error: string | null;
  errorCode: string | null;
  streamVersion: number;
  rerunOf: string | null;
  metrics: Metrics;
}
export interface RecordedEvent {
  eventNumber: number;
  type: string;
  data: { nodeId?: string; attempt?: number; [key: string]: unknown };
  recordedAt: string;
  causationId: string | null;
}

const SUMMARY = `id workflowId status progress triggerNodeId estimatedTimeRemainingMs startedAt finishedAt durationMs error errorCode streamVersion rerunOf
  metrics { totalNodes completedNodes failedNodes averageNodeDurationMs longestRunningNode bottleneckNodes parallelismUtilization }`;

/** The parent is read once: it never changes, so live messages do not carry it. */
export const LOAD = `query Load($id: ID!) { execution(id: $id) { ${SUMMARY} parentExecutionId parentNodeId itemIndex nodeStates { nodeId status attempt dependencies } } }`;

export const WORKFLOW = `query Workflow($id: ID!) { workflow(id: $id) { nodes { id type name } connections { source target sourceOutput } } }`;

/** Only the changed nodes' ids and states: a thousand-node execution sends a few nodes per message. */
export const LIVE = `subscription Live($id: ID!) { executionUpdated(executionId: $id) { changedNodes { nodeId status attempt } execution { ${SUMMARY} } } }`;

export const AT = `query At($id: ID!, $eventNumber: Int!) { executionAt(executionId: $id, eventNumber: $eventNumber) { ${SUMMARY} nodeStates { nodeId status attempt } } }`;

export const EVENTS = `query Events($id: ID!, $after: Int!, $first: Int!) { executionEvents(executionId: $id, after: $after, first: $first) { eventNumber type data recordedAt causationId } }`;

const DETAIL =
  'nodeStates { nodeId status attempt progress startedAt finishedAt durationMs error errorCode input output outputName skipReason message reusedFrom dependencies dependents }';
const CAUSATION = `nodeCausation(executionId: $id, nodeId: $nodeId) { decision decidedAtEvent queuedAtEvent triggerRule ruleHeld skipReason skippedByNodes reusedFrom
  dependencies { nodeId status settledAtEvent } incomingEdges { source sourceOutput active } }`;
export const NODE_NOW = `query Node($id: ID!, $nodeId: ID!) { execution(id: $id) { ${DETAIL} } ${CAUSATION} }`;
export const NODE_AT = `query NodeAt($id: ID!, $nodeId: ID!, $eventNumber: Int!) { execution: executionAt(executionId: $id, eventNumber: $eventNumber) { ${DETAIL} } ${CAUSATION} }`;

export interface Causation {
  decision: string;
  decidedAtEvent: number | null;
  queuedAtEvent: number | null;
  triggerRule: string;
  ruleHeld: boolean | null;
  skipReason: string | null;
  skippedByNodes: string[];
  reusedFrom: string | null;
  dependencies: Array<{ nodeId: string; status: string; settledAtEvent: number | null }>;
  incomingEdges: Array<{ source: string; sourceOutput: string | null; active: boolean }>;
}

export const CONTROL = {
  Pause: 'mutation($id: ID!) { pauseExecution(id: $id) { id status } }',
  Resume: 'mutation($id: ID!) { resumeExecution(id: $id) { id status } }',
  Cancel: 'mutation($id: ID!) { cancelExecution(id: $id) { id status } }',
} as const;
export const RETRY = 'mutation($id: ID!, $nodeId: ID!) { retryNode(executionId: $id, nodeId: $nodeId) { id status } }';
export const SKIP = 'mutation($id: ID!, $nodeId: ID!, $output: JSON) { skipNode(executionId: $id, nodeId: $nodeId, output: $output) { id status } }';
export const RERUN = 'mutation($id: ID!, $nodeId: ID!, $data: JSON) { rerunFromNode(executionId: $id, nodeId: $nodeId, data: $data) { id } }';

export const FINISHED = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'PARTIAL']);
