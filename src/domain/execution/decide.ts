import { DomainError, invalidState } from '../errors.js';
import { tenantOf } from '../tenants.js';
import { isTriggerOf, type NodeTypeLookup } from '../workflow/nodeCapabilities.js';
import type { ExecutionCommand } from './commands.js';
import { SETTLED_NODE_STATUSES, TERMINAL_EXECUTION_STATUSES, type ExecutionEvent, type ExecutionStarted, type NodeStatus } from './events.js';
import { buildGraph, reachableFrom } from '../workflow/graph.js';
import { readinessOf } from './readiness.js';
import { forcedByRerun, rerunEvents } from './rerun.js';
import { retryDelayMs, retryPolicyOf } from './retryPolicy.js';
import type { ExecutionState, NodeState } from './state.js';
import { signalNode, waitStarted } from './waiting.js';

type Command<T extends ExecutionCommand['type']> = Extract<ExecutionCommand, { type: T }>;

/**
 * The execution decider: what a command does to an execution, as events, or a DomainError
 * saying why it may not. Pure: the clock comes in as `now`, the node types as `nodeTypes`, and
 * `state` is never changed.
 */
export function decide(command: ExecutionCommand, state: ExecutionState | null, now: Date, nodeTypes: NodeTypeLookup): ExecutionEvent[] {
  const at = now.toISOString();
  if (command.type === 'StartExecution') return startExecution(command, state, at, nodeTypes);
  if (!state) throw new DomainError('NOT_FOUND', 'execution not found');
  switch (command.type) {
    case 'AdmitExecution':
      return state.status === 'QUEUED' ? [{ type: 'ExecutionAdmitted', data: { at } }] : [];
    case 'QueueReadyNodes':
      return queueReadyNodes(state, at);
    case 'StartNode':
      return startNode(command, state, now);
    case 'ReportNodeProgress':
      return reportProgress(command, state, now);
    case 'CompleteNode':
      return completeNode(command, state, at, nodeTypes);
    case 'FailNode':
      return failNode(command, state, now, nodeTypes);
    case 'ReleaseNode':
      return releaseNode(command, state, at);
    case 'TimeoutNode':
      return timeoutNode(command, state, now);
    case 'ExpireLease':
      return expireLease(command, state, now, nodeTypes);
    case 'PauseExecution':
      requireStatus(state, ['RUNNING'], 'pause');
      return [{ type: 'ExecutionPaused', data: { at } }];
    case 'ResumeExecution':
      requireStatus(state, ['PAUSED'], 'resume');
      return [{ type: 'ExecutionResumed', data: { at } }];
    case 'CancelExecution':
      requireActive(state, 'cancel');
      return [...cancelUnsettled(state, command.data.reason, at), { type: 'ExecutionCancelled', data: { reason: command.data.reason, at } }];
    case 'TimeoutExecution':
      if (isFinished(state)) return [];
      return [...cancelUnsettled(state, 'execution timed out', at), { type: 'ExecutionFailed', data: { error: 'execution timed out', code: 'EXECUTION_TIMEOUT', at } }];
    case 'FailExecution':
      return failExecution(command, state, at);
    case 'RetryNode':
      return retryNode(command, state, at);
    case 'SkipNode':
      return skipNode(command, state, at);
    case 'SignalNode':
      return signalNode(command, state, at, nodeTypes);
  }
}

function startExecution(command: Command<'StartExecution'>, state: ExecutionState | null, at: string, nodeTypes: NodeTypeLookup): ExecutionEvent[] {
  const { executionId, workflow, triggerNodeId } = command.data;
  if (state) throw invalidState(`execution ${executionId} already exists`);
  const trigger = workflow.nodes.find((node) => node.id === triggerNodeId);
  if (!trigger) throw new DomainError('NOT_FOUND', `workflow ${workflow.id} has no node ${triggerNodeId}`);
  if (!isTriggerOf(nodeTypes, trigger.type)) throw new DomainError('BAD_USER_INPUT', `node ${triggerNodeId} is a ${trigger.type}, not a trigger`);
  const affected = reachableFrom(buildGraph(workflow.nodes, workflow.connections), [triggerNodeId]);
  const started: ExecutionStarted = {
    type: 'ExecutionStarted',
    data: {
      executionId,
      workflowId: workflow.id,
      workflowVersion: workflow.version,
      triggerNodeId,
      triggerType: trigger.type,
      triggerData: command.data.triggerData ?? null,
      nodes: workflow.nodes.filter((node) => affected.has(node.id)),
      connections: workflow.connections.filter((c) => affected.has(c.source) && affected.has(c.target)),
      settings: workflow.settings ?? {},
      waitsForSlot: command.data.waitsForSlot,
      rerunOf: null,
      userId: command.data.userId ?? null,
      ...(command.data.parent ? { parent: command.data.parent } : {}),
      tenantId: tenantOf(workflow),
      at,
    },
  };
  return command.data.rerun ? rerunEvents(started, command.data.rerun) : [started];
}

/**
 * Queues every candidate whose trigger rule holds and skips every one that can never run; a skip
 * makes its dependents candidates within the same decision, so skips propagate at once. Ends the
 * execution when every affected node has settled.
 */
function queueReadyNodes(state: ExecutionState, at: string): ExecutionEvent[] {
  if (state.status !== 'RUNNING') return [];
  const events: ExecutionEvent[] = [];
  const decided = new Map<string, NodeStatus>();
  const statusOf = (id: string) => decided.get(id) ?? state.nodes.get(id)!.status;
  const skippedUpstream = new Map<string, number>();
  const work = [...state.candidates];
  for (let id = work.pop(); id !== undefined; id = work.pop()) {
    if (statusOf(id) !== 'IDLE') continue;
    const unsettled = state.unsettledDependencies.get(id)! - (skippedUpstream.get(id) ?? 0);
    const readiness = forcedByRerun(state, id) ?? readinessOf(state, id, statusOf, unsettled);
    if (readiness.kind === 'ready') {
      decided.set(id, 'QUEUED');
      events.push({ type: 'NodeQueued', data: { nodeId: id, attempt: state.nodes.get(id)!.attempt + 1, input: readiness.input, at } });
    } else if (readiness.kind === 'skip') {
      decided.set(id, 'SKIPPED');
      events.push({ type: 'NodeSkipped', data: { nodeId: id, reason: readiness.reason, at } });
      for (const dependent of state.graph.dependents.get(id) ?? []) {
        skippedUpstream.set(dependent, (skippedUpstream.get(dependent) ?? 0) + 1);
        work.push(dependent);
      }
    }
  }
  const skipped = events.filter((event) => event.type === 'NodeSkipped').length;
  if (state.settledCount + skipped === state.nodes.size) {
    events.push({ type: 'ExecutionCompleted', data: { status: state.failedCount > 0 ? 'PARTIAL' : 'COMPLETED', at } });
  }
  return events;
}

function startNode(command: Command<'StartNode'>, state: ExecutionState, now: Date): ExecutionEvent[] {
  const { nodeId, attempt, workerId, leaseMs, waitMs, wait } = command.data;
  requireStatus(state, ['RUNNING'], 'start a node of');
  const node = nodeIn(state, nodeId);
  if (node.status !== 'QUEUED' || node.attempt !== attempt) {
    throw invalidState(`node ${nodeId} attempt ${attempt} cannot start: it is ${node.status} at attempt ${node.attempt}`);
  }
  if (node.retryAt && Date.parse(node.retryAt) > now.getTime()) throw invalidState(`node ${nodeId} waits to retry until ${node.retryAt}`);
  const timed = waitMs === undefined ? {} : { wakeAt: new Date(now.getTime() + waitMs).toISOString() };
  const waiting = wait === undefined ? {} : { wait: waitStarted(wait, now) };
  return [{ type: 'NodeStarted', data: { nodeId, attempt, workerId, leaseExpiresAt: leaseUntil(now, leaseMs), ...timed, ...waiting, at: now.toISOString() } }];
}

function reportProgress(command: Command<'ReportNodeProgress'>, state: ExecutionState, now: Date): ExecutionEvent[] {
  const { nodeId, attempt, progress, message, leaseMs } = command.data;
  requireStatus(state, ['RUNNING', 'PAUSED'], 'report progress to');
  const node = nodeIn(state, nodeId);
  if (node.status !== 'RUNNING') throw invalidState(`node ${nodeId} is ${node.status}, not RUNNING: ${ATTEMPT_OVER}`);
  if (attempt !== undefined && attempt !== node.attempt) throw attemptOver(nodeId, attempt, node);
  if (progress !== null && !(progress >= 0 && progress <= 100)) throw new DomainError('BAD_USER_INPUT', 'progress must be between 0 and 100');
  return [
    {
      type: 'NodeProgressed',
      data: { nodeId, attempt: node.attempt, progress, message, leaseExpiresAt: leaseUntil(now, leaseMs ?? node.leaseMs), at: now.toISOString() },
    },
  ];
}

function completeNode(command: Command<'CompleteNode'>, state: ExecutionState, at: string, nodeTypes: NodeTypeLookup): ExecutionEvent[] {
  const { nodeId, output, outputName } = command.data;
  const node = settleableNode(state, nodeId, command.data.attempt, 'complete', nodeTypes);
  return [{ type: 'NodeCompleted', data: { nodeId, attempt: node.attempt, output: output ?? null, outputName, at } }];
}

function failNode(command: Command<'FailNode'>, state: ExecutionState, now: Date, nodeTypes: NodeTypeLookup): ExecutionEvent[] {
  const { nodeId, error, retryable, errorCode } = command.data;
  const node = settleableNode(state, nodeId, command.data.attempt, 'fail', nodeTypes);
  return failAttempt(state, node, { error, errorCode: errorCode ?? null }, retryable, now);
}

/** Why an attempt failed: the message, and the catalogue code when the failure has one. */
interface AttemptFailure {
  error: string;
  errorCode: string | null;
}

/** A failed attempt retries by policy; a spent node fails, and by default takes the execution with it. */
function failAttempt(state: ExecutionState, node: NodeState, { error, errorCode }: AttemptFailure, retryable: boolean, now: Date): ExecutionEvent[] {
  const { nodeId } = node;
  const at = now.toISOString();
  const policy = retryPolicyOf(state.graph.nodes.get(nodeId)!, state.recovery);
  const failures = node.failures + 1;
  if (retryable && failures < policy.maxAttempts) {
    const delayMs = retryDelayMs(policy, failures);
    const retryAt = new Date(now.getTime() + delayMs).toISOString();
    return [{ type: 'NodeRetryScheduled', data: { nodeId, attempt: node.attempt, error, errorCode, nextAttempt: node.attempt + 1, delayMs, retryAt, at } }];
  }
  const failed: ExecutionEvent = { type: 'NodeFailed', data: { nodeId, attempt: node.attempt, error, errorCode, at } };
  const { continueOnNodeFailure, skipFailedBranches } = state.recovery;
  if (continueOnNodeFailure || skipFailedBranches) return [failed];
  return [
    failed,
    ...cancelUnsettled(state, `node ${nodeId} failed`, at, nodeId),
    { type: 'ExecutionFailed', data: { error: `node ${nodeId} failed: ${error}`, code: 'NODE_FAILED', at } },
  ];
}

/** Timers may fire late, twice, or after the attempt ended: only a running attempt past its deadline fails. */
function timeoutNode(command: Command<'TimeoutNode'>, state: ExecutionState, now: Date): ExecutionEvent[] {
  const { nodeId, attempt } = command.data;
  const node = runningAttempt(state, nodeId, attempt);
  const timeoutMs = state.graph.nodes.get(nodeId)?.timeoutMs;
  if (!node?.startedAt || !timeoutMs || Date.parse(node.startedAt) + timeoutMs > now.getTime()) return [];
  const error = `EXECUTION_TIMEOUT: node ${nodeId} timed out after ${timeoutMs} ms`;
  return failAttempt(state, node, { error, errorCode: 'EXECUTION_TIMEOUT' }, true, now);
}

/**
 * Only a lease that really ran out ends the attempt (a heartbeat may have renewed it since the
 * timer was set). An external worker that went silent counts as a failed attempt, retried by
 * policy; a built-in node was run by a runtime that died, which is no fault of the node, so it
 * goes back to the queue as a new attempt, as when a runtime stops.
 */
/** How many runtimes may die holding one built-in node before the node counts as failed. */
export const MAX_LOST_LEASES = 3;

function expireLease(command: Command<'ExpireLease'>, state: ExecutionState, now: Date, nodeTypes: NodeTypeLookup): ExecutionEvent[] {
  const { nodeId, attempt } = command.data;
  const node = runningAttempt(state, nodeId, attempt);
  if (!node?.leaseExpiresAt || Date.parse(node.leaseExpiresAt) > now.getTime()) return [];
  const reason = `the lease of worker ${node.workerId} expired at ${node.leaseExpiresAt}`;
  if (runsOnWorker(state, nodeId, nodeTypes)) return failAttempt(state, node, { error: reason, errorCode: 'LEASE_EXPIRED' }, true, now);
  // A built-in node whose runtime died holding it again and again may be what kills the runtime:
  // it fails for good instead of taking down runtime after runtime.
  if (node.lostLeases + 1 >= MAX_LOST_LEASES) {
    const error = `${reason}; its runtime was lost ${MAX_LOST_LEASES} times running this node`;
    return failAttempt(state, node, { error, errorCode: 'LEASE_EXPIRED' }, false, now);
  }
  return [{ type: 'NodeReleased', data: { nodeId, attempt, nextAttempt: attempt + 1, reason, leaseLost: true, at: now.toISOString() } }];
}

function runningAttempt(state: ExecutionState, nodeId: string, attempt: number): NodeState | null {
  if (state.status !== 'RUNNING' && state.status !== 'PAUSED') return null;
  const node = nodeIn(state, nodeId);
  return node.status === 'RUNNING' && node.attempt === attempt ? node : null;
}

function releaseNode(command: Command<'ReleaseNode'>, state: ExecutionState, at: string): ExecutionEvent[] {
  const { nodeId, attempt, reason } = command.data;
  const node = nodeIn(state, nodeId);
  if (isFinished(state) || node.status !== 'RUNNING' || node.attempt !== attempt) return [];
  return [{ type: 'NodeReleased', data: { nodeId, attempt, nextAttempt: attempt + 1, reason, at } }];
}

/**
 * Ends an execution whose handling failed. It looks at no node definition, parameter or policy
 * (they may be what failed), only at which nodes are unsettled; a finished execution stays as it
 * is, so that failing it again (a batch handled twice) changes nothing.
 */
function failExecution(command: Command<'FailExecution'>, state: ExecutionState, at: string): ExecutionEvent[] {
  if (isFinished(state)) return [];
  const { code, error } = command.data;
  return [...cancelUnsettled(state, error, at), { type: 'ExecutionFailed', data: { error, code, at } }];
}

/** Puts a failed or cancelled node back to run, with everything downstream that did not complete. */
function retryNode(command: Command<'RetryNode'>, state: ExecutionState, at: string): ExecutionEvent[] {
  const { nodeId } = command.data;
  requireStatus(state, ['FAILED', 'PARTIAL', 'CANCELLED'], 'retry a node of');
  const node = nodeIn(state, nodeId);
  if (node.status !== 'FAILED' && node.status !== 'CANCELLED') throw invalidState(`node ${nodeId} is ${node.status}; only FAILED or CANCELLED nodes can be retried`);
  return reopen(state, nodeId, at);
}

/** With an output the node counts as completed and its dependents run with it; without, it is SKIPPED. */
function skipNode(command: Command<'SkipNode'>, state: ExecutionState, at: string): ExecutionEvent[] {
  const { nodeId, output } = command.data;
  const node = nodeIn(state, nodeId);
  const reopening = isFinished(state);
  if (reopening ? node.status !== 'FAILED' && node.status !== 'CANCELLED' : SETTLED_NODE_STATUSES.has(node.status) || node.status === 'RUNNING') {
    throw invalidState(`node ${nodeId} is ${node.status} in a ${state.status} execution and cannot be skipped`);
  }
  const settled: ExecutionEvent =
    output === undefined
      ? { type: 'NodeSkipped', data: { nodeId, reason: 'skipped by user', at } }
      : { type: 'NodeCompleted', data: { nodeId, attempt: node.attempt, output, outputName: null, at } };
  return [...(reopening ? reopen(state, nodeId, at) : []), settled];
}

function reopen(state: ExecutionState, nodeId: string, at: string): ExecutionEvent[] {
  const resets = new Set(
    [...reachableFrom(state.graph, [nodeId])].filter((id) => {
      const status = state.nodes.get(id)!.status;
      return id === nodeId || (SETTLED_NODE_STATUSES.has(status) && status !== 'COMPLETED');
    }),
  );
  for (const [id, node] of state.nodes) if (node.status === 'CANCELLED') resets.add(id);
  return [{ type: 'ExecutionReopened', data: { at } }, ...[...resets].map((id): ExecutionEvent => ({ type: 'NodeReset', data: { nodeId: id, at } }))];
}

/** Queued and running nodes end CANCELLED; the runtime aborts running work when it sees this. */
function cancelUnsettled(state: ExecutionState, reason: string, at: string, except?: string): ExecutionEvent[] {
  const events: ExecutionEvent[] = [];
  for (const node of state.nodes.values()) {
    if (node.nodeId === except || (node.status !== 'QUEUED' && node.status !== 'RUNNING')) continue;
    events.push({ type: 'NodeCancelled', data: { nodeId: node.nodeId, attempt: node.attempt, reason, at } });
  }
  return events;
}

/** Whether a node waits for an external worker (an `external` node) rather than being run by a runtime. */
function runsOnWorker(state: ExecutionState, nodeId: string, nodeTypes: NodeTypeLookup): boolean {
  const type = state.graph.nodes.get(nodeId)?.type;
  return type !== undefined && nodeTypes.get(type)?.runs === 'worker';
}

/** Nodes settle from RUNNING, or straight from QUEUED for worker-run nodes; results are kept while PAUSED. */
function settleableNode(state: ExecutionState, nodeId: string, attempt: number | undefined, verb: string, nodeTypes: NodeTypeLookup): NodeState {
  requireStatus(state, ['RUNNING', 'PAUSED'], `${verb} a node of`);
  const node = nodeIn(state, nodeId);
  if (!(node.status === 'RUNNING' || (runsOnWorker(state, nodeId, nodeTypes) && node.status === 'QUEUED'))) {
    throw invalidState(`cannot ${verb} node ${nodeId}: it is ${node.status}`);
  }
  if (attempt !== undefined && attempt !== node.attempt) throw attemptOver(nodeId, attempt, node);
  return node;
}

/** What a worker holding an ended attempt is told, whatever it calls next. */
const ATTEMPT_OVER = 'its lease expired, it timed out, or it was retried or cancelled';

const attemptOver = (nodeId: string, attempt: number, node: NodeState): DomainError =>
  invalidState(`attempt ${attempt} of node ${nodeId} is over (the node is ${node.status} at attempt ${node.attempt}): ${ATTEMPT_OVER}`, {
    attempt: node.attempt,
    status: node.status,
  });

function nodeIn(state: ExecutionState, nodeId: string): NodeState {
  const node = state.nodes.get(nodeId);
  if (!node) throw new DomainError('NOT_FOUND', `execution ${state.id} has no node ${nodeId}`);
  return node;
}

function requireStatus(state: ExecutionState, allowed: ExecutionState['status'][], verb: string): void {
  if (!allowed.includes(state.status)) throw invalidState(`cannot ${verb} a ${state.status} execution`, { status: state.status });
}

function requireActive(state: ExecutionState, verb: string): void {
  if (isFinished(state)) throw invalidState(`cannot ${verb} a ${state.status} execution`, { status: state.status });
}

const isFinished = (state: ExecutionState): boolean => TERMINAL_EXECUTION_STATUSES.has(state.status);

const leaseUntil = (now: Date, leaseMs: number | null): string | null => (leaseMs === null ? null : new Date(now.getTime() + leaseMs).toISOString());
