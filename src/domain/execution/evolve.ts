import { SETTLED_NODE_STATUSES as SETTLED, type ExecutionEvent, type ExecutionStarted, type NodeReused, type NodeStatus } from './events.js';
import { tenantOf } from '../tenants.js';
import { buildGraph } from '../workflow/graph.js';
import { idleNode, type ExecutionState, type NodeState } from './state.js';

/**
 * Folds one event into the state. The state is owned by the fold: evolve updates it in place and
 * returns it, so that a 10,000-node execution costs O(1) per event instead of a copy of every
 * node per event. Callers that need an earlier state fold a fresh one (see `foldExecution`).
 */
export function evolve(state: ExecutionState | null, event: ExecutionEvent): ExecutionState {
  if (event.type === 'ExecutionStarted') return started(event);
  if (!state) throw new Error(`${event.type} before ExecutionStarted`);
  state.version += 1;
  applyTo(state, event);
  return state;
}

export function foldExecution(events: Iterable<ExecutionEvent>): ExecutionState | null {
  let state: ExecutionState | null = null;
  for (const event of events) state = evolve(state, event);
  return state;
}

function started({ data }: ExecutionStarted): ExecutionState {
  const state: ExecutionState = {
    id: data.executionId,
    workflowId: data.workflowId,
    workflowVersion: data.workflowVersion,
    triggerNodeId: data.triggerNodeId,
    triggerType: data.triggerType,
    triggerData: data.triggerData,
    status: data.waitsForSlot ? 'QUEUED' : 'RUNNING',
    settings: data.settings,
    recovery: data.settings.recovery ?? {},
    graph: buildGraph(data.nodes, data.connections),
    nodes: new Map(data.nodes.map((node) => [node.id, idleNode(node.id)])),
    candidates: new Set([data.triggerNodeId, ...(data.rerunFrom ? [data.rerunFrom.nodeId] : [])]),
    unsettledDependencies: new Map(data.nodes.map((node) => [node.id, 0])),
    settledCount: 0,
    failedCount: 0,
    executionPath: [],
    startedAt: data.at,
    finishedAt: null,
    error: null,
    errorCode: null,
    rerunOf: data.rerunOf,
    rerunFrom: data.rerunFrom ?? null,
    userId: data.userId,
    parent: data.parent ?? null,
    tenantId: tenantOf(data),
    version: 1,
  };
  for (const [id, dependencies] of state.graph.dependencies) state.unsettledDependencies.set(id, dependencies.length);
  return state;
}

function applyTo(state: ExecutionState, event: Exclude<ExecutionEvent, ExecutionStarted>): void {
  switch (event.type) {
    case 'ExecutionAdmitted':
    case 'ExecutionResumed':
      state.status = 'RUNNING';
      return;
    case 'ExecutionPaused':
      state.status = 'PAUSED';
      return;
    case 'ExecutionReopened':
      state.status = 'RUNNING';
      state.finishedAt = null;
      state.error = null;
      state.errorCode = null;
      return;
    case 'ExecutionCompleted':
      finish(state, event.data.status, event.data.at);
      return;
    case 'ExecutionFailed':
      finish(state, 'FAILED', event.data.at);
      state.error = event.data.error;
      state.errorCode = event.data.code;
      return;
    case 'ExecutionCancelled':
      finish(state, 'CANCELLED', event.data.at);
      state.error = event.data.reason;
      return;
    case 'NodeQueued':
      update(state, event.data.nodeId, (node) => {
        node.status = 'QUEUED';
        node.attempt = event.data.attempt;
        node.input = event.data.input;
        node.queuedAt = event.data.at;
      });
      state.candidates.delete(event.data.nodeId);
      return;
    case 'NodeStarted':
      update(state, event.data.nodeId, (node) => {
        node.status = 'RUNNING';
        node.attempt = event.data.attempt;
        node.workerId = event.data.workerId;
        node.leaseExpiresAt = event.data.leaseExpiresAt;
        node.leaseMs = event.data.leaseExpiresAt === null ? null : Date.parse(event.data.leaseExpiresAt) - Date.parse(event.data.at);
        node.startedAt = event.data.at;
        node.retryAt = null;
        node.progress = 0;
      });
      return;
    case 'NodeProgressed':
      update(state, event.data.nodeId, (node) => {
        if (event.data.progress !== null) node.progress = event.data.progress;
        if (event.data.message !== null) node.message = event.data.message;
        if (event.data.leaseExpiresAt !== null) node.leaseExpiresAt = event.data.leaseExpiresAt;
      });
      return;
    case 'NodeCompleted':
      settle(state, event.data.nodeId, 'COMPLETED', event.data.at, (node) => {
        node.attempt = event.data.attempt;
        node.output = event.data.output;
        node.outputName = event.data.outputName;
        node.progress = 100;
        node.error = null;
        node.errorCode = null;
        if (!node.startedAt) node.startedAt = event.data.at;
      });
      state.executionPath.push(event.data.nodeId);
      return;
    case 'NodeRetryScheduled':
      update(state, event.data.nodeId, (node) => {
        node.status = 'QUEUED';
        node.failures += 1;
        node.error = event.data.error;
        node.errorCode = event.data.errorCode ?? null;
        node.attempt = event.data.nextAttempt;
        node.retryAt = event.data.retryAt;
        node.workerId = null;
        node.leaseExpiresAt = null;
      });
      return;
    case 'NodeFailed':
      settle(state, event.data.nodeId, 'FAILED', event.data.at, (node) => {
        node.failures += 1;
        node.error = event.data.error;
        node.errorCode = event.data.errorCode ?? null;
        node.output = { error: event.data.error };
      });
      return;
    case 'NodeSkipped':
      settle(state, event.data.nodeId, 'SKIPPED', event.data.at, (node) => {
        node.skipReason = event.data.reason;
      });
      return;
    case 'NodeCancelled':
      settle(state, event.data.nodeId, 'CANCELLED', event.data.at, (node) => {
        node.error = event.data.reason;
      });
      return;
    case 'NodeReleased':
      update(state, event.data.nodeId, (node) => {
        node.status = 'QUEUED';
        node.attempt = event.data.nextAttempt;
        if (event.data.leaseLost) node.lostLeases += 1;
        node.workerId = null;
        node.leaseExpiresAt = null;
      });
      return;
    case 'NodeReset':
      reset(state, event.data.nodeId);
      return;
    case 'NodeReused':
      reuse(state, event);
      return;
  }
}

function finish(state: ExecutionState, status: ExecutionState['status'], at: string): void {
  state.status = status;
  state.finishedAt = at;
}

function update(state: ExecutionState, nodeId: string, change: (node: NodeState) => void): NodeState {
  const node = state.nodes.get(nodeId);
  if (!node) throw new Error(`unknown node ${nodeId} in execution ${state.id}`);
  change(node);
  return node;
}

/** A node reached a settled state: its dependents may have become ready. */
function settle(state: ExecutionState, nodeId: string, status: NodeStatus, at: string, change: (node: NodeState) => void): void {
  update(state, nodeId, (node) => {
    if (!SETTLED.has(node.status)) {
      state.settledCount += 1;
      countDependents(state, nodeId, -1);
    }
    if (node.status !== 'FAILED' && status === 'FAILED') state.failedCount += 1;
    node.status = status;
    node.finishedAt = at;
    node.workerId = null;
    node.leaseExpiresAt = null;
    node.retryAt = null;
    change(node);
  });
  state.candidates.delete(nodeId);
  for (const dependent of state.graph.dependents.get(nodeId) ?? []) {
    if (state.nodes.get(dependent)?.status === 'IDLE') state.candidates.add(dependent);
  }
}

/** Settles the node as the execution it re-runs recorded it, without it having run here. */
function reuse(state: ExecutionState, { data }: NodeReused): void {
  const { attempt, input, output, outputName, error, skipReason, fromExecutionId } = data;
  settle(state, data.nodeId, data.status, data.at, (node) => {
    Object.assign(node, { attempt, input, output, outputName, error, skipReason, progress: data.status === 'COMPLETED' ? 100 : 0, reusedFrom: fromExecutionId });
  });
  if (data.status === 'COMPLETED') state.executionPath.push(data.nodeId);
}

function reset(state: ExecutionState, nodeId: string): void {
  update(state, nodeId, (node) => {
    if (SETTLED.has(node.status)) {
      state.settledCount -= 1;
      countDependents(state, nodeId, +1);
    }
    if (node.status === 'FAILED') state.failedCount -= 1;
    if (node.status === 'COMPLETED') state.executionPath.splice(state.executionPath.lastIndexOf(nodeId), 1);
    Object.assign(node, { ...idleNode(nodeId), attempt: node.attempt });
  });
  state.candidates.add(nodeId);
}

function countDependents(state: ExecutionState, nodeId: string, change: number): void {
  for (const dependent of state.graph.dependents.get(nodeId) ?? []) {
    state.unsettledDependencies.set(dependent, state.unsettledDependencies.get(dependent)! + change);
  }
}
