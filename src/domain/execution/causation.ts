import { DomainError } from '../errors.js';
import type { TriggerRule } from '../workflow/workflow.js';
import { SETTLED_NODE_STATUSES, type ExecutionEvent, type NodeStatus } from './events.js';
import { evolve } from './evolve.js';
import { isActive, readinessOf } from './readiness.js';
import { forcedByRerun } from './rerun.js';
import type { ExecutionState } from './state.js';
import { DEFAULT_TRIGGER_RULE } from './triggerRules.js';

/**
 * Why a node ran, or did not: the facts its last decision was taken on, recovered by folding the
 * execution's events and noting the event number at which each node settled. Event numbers are
 * stream versions (the first event is 1).
 */

export type CausalDecision =
  /** Its trigger rule held: NodeQueued. */
  | 'QUEUED'
  /** A rerun started here: queued whatever its trigger rule said. */
  | 'RERUN'
  | 'SKIPPED'
  /** A rerun took its recorded result from `reusedFrom` instead of running it. */
  | 'REUSED'
  /** Nothing decided yet: the facts are as of the last event. */
  | 'WAITING';

export interface CausalDependency {
  nodeId: string;
  /** When the decision was taken. */
  status: NodeStatus;
  /** The event that settled it, null if it had not settled then. */
  settledAtEvent: number | null;
}

export interface CausalEdge {
  source: string;
  sourceOutput: string | null;
  active: boolean;
}

export interface NodeCausation {
  nodeId: string;
  /** Its status after the last event. */
  status: NodeStatus;
  decision: CausalDecision;
  /** The NodeQueued, NodeSkipped or NodeReused the facts below explain; null while WAITING. */
  decidedAtEvent: number | null;
  /** Its last NodeQueued. */
  queuedAtEvent: number | null;
  triggerRule: TriggerRule;
  /** Whether the rule held on those facts; null when it still had to wait. */
  ruleHeld: boolean | null;
  dependencies: CausalDependency[];
  incomingEdges: CausalEdge[];
  skipReason: string | null;
  /** For a SKIPPED node: upstream nodes that were skipped, failed or cancelled (and carried nothing). */
  skippedByNodes: string[];
  /** For a SKIPPED node: edges whose source completed but took another output (an `if`). */
  skippedByEdges: CausalEdge[];
  reusedFrom: string | null;
}

type Facts = Pick<NodeCausation, 'decision' | 'decidedAtEvent' | 'ruleHeld' | 'dependencies' | 'incomingEdges'>;

const DECIDING = new Set<ExecutionEvent['type']>(['NodeQueued', 'NodeSkipped', 'NodeReused']);

export function nodeCausation(events: readonly ExecutionEvent[], nodeId: string): NodeCausation {
  let state: ExecutionState | null = null;
  let facts: Facts | null = null;
  let queuedAtEvent: number | null = null;
  const settledAt = new Map<string, number>();
  for (const [index, event] of events.entries()) {
    const number = index + 1;
    const subject = nodeOf(event);
    if (state && subject === nodeId && DECIDING.has(event.type)) facts = factsAt(state, nodeId, settledAt, event, number);
    if (subject === nodeId && event.type === 'NodeQueued') queuedAtEvent = number;
    state = evolve(state, event);
    if (subject !== null) noteSettling(state, subject, settledAt, number);
  }
  const node = state?.nodes.get(nodeId);
  if (!state || !node) throw new DomainError('NOT_FOUND', `the execution has no node ${nodeId}`);
  const decided = facts ?? factsAt(state, nodeId, settledAt, null, null);
  return {
    nodeId,
    status: node.status,
    queuedAtEvent,
    triggerRule: state.graph.nodes.get(nodeId)!.triggerRule ?? DEFAULT_TRIGGER_RULE,
    ...decided,
    skipReason: node.skipReason,
    ...(node.status === 'SKIPPED' ? skippedBy(decided) : { skippedByNodes: [], skippedByEdges: [] }),
    reusedFrom: node.reusedFrom,
  };
}

const nodeOf = (event: ExecutionEvent): string | null => ('nodeId' in event.data ? event.data.nodeId : null);

/** The first event after which a node is settled; a reset forgets it. */
function noteSettling(state: ExecutionState, nodeId: string, settledAt: Map<string, number>, number: number): void {
  const settled = SETTLED_NODE_STATUSES.has(state.nodes.get(nodeId)!.status);
  if (!settled) settledAt.delete(nodeId);
  else if (!settledAt.has(nodeId)) settledAt.set(nodeId, number);
}

/** What the decider saw of the node's upstream just before `event` (null: as things stand now). */
function factsAt(state: ExecutionState, nodeId: string, settledAt: ReadonlyMap<string, number>, event: ExecutionEvent | null, number: number | null): Facts {
  const statusOf = (id: string) => state.nodes.get(id)!.status;
  const readiness = readinessOf(state, nodeId, statusOf, state.unsettledDependencies.get(nodeId)!);
  return {
    decision: decisionOf(state, nodeId, event),
    decidedAtEvent: number,
    ruleHeld: readiness.kind === 'wait' || event?.type === 'NodeReused' ? null : readiness.kind === 'ready',
    dependencies: (state.graph.dependencies.get(nodeId) ?? []).map((id) => ({ nodeId: id, status: statusOf(id), settledAtEvent: settledAt.get(id) ?? null })),
    incomingEdges: (state.graph.incoming.get(nodeId) ?? []).map((edge) => ({
      source: edge.source,
      sourceOutput: edge.sourceOutput ?? null,
      active: isActive(state, edge, statusOf(edge.source), state.nodes.get(edge.source)!),
    })),
  };
}

function decisionOf(state: ExecutionState, nodeId: string, event: ExecutionEvent | null): CausalDecision {
  switch (event?.type) {
    case 'NodeQueued':
      return forcedByRerun(state, nodeId) ? 'RERUN' : 'QUEUED';
    case 'NodeSkipped':
      return 'SKIPPED';
    case 'NodeReused':
      return 'REUSED';
    default:
      return 'WAITING';
  }
}

function skippedBy({ dependencies, incomingEdges }: Facts): Pick<NodeCausation, 'skippedByNodes' | 'skippedByEdges'> {
  const carried = new Set(incomingEdges.filter((edge) => edge.active).map((edge) => edge.source));
  const completed = new Set(dependencies.filter((dependency) => dependency.status === 'COMPLETED').map((dependency) => dependency.nodeId));
  return {
    skippedByNodes: dependencies
      .filter((dependency) => ['SKIPPED', 'FAILED', 'CANCELLED'].includes(dependency.status) && !carried.has(dependency.nodeId))
      .map((dependency) => dependency.nodeId),
    skippedByEdges: incomingEdges.filter((edge) => !edge.active && completed.has(edge.source)),
  };
}
