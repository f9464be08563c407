import type { Connection } from '../workflow/workflow.js';
import { SETTLED_NODE_STATUSES, type NodeStatus } from './events.js';
import type { ExecutionState, NodeState } from './state.js';
import { applyTriggerRule, DEFAULT_TRIGGER_RULE, type UpstreamSummary } from './triggerRules.js';

export type Readiness = { kind: 'ready'; input: Record<string, unknown> } | { kind: 'skip'; reason: string } | { kind: 'wait' };

/** Node states as a decision sees them: the folded state plus what the decision itself changed. */
export type StatusLookup = (nodeId: string) => NodeStatus;

/**
 * Whether an idle node can run now, can never run, or must wait. An edge is active when its
 * source COMPLETED with a matching output, or (continueOnNodeFailure) FAILED on an edge without
 * a named output; the node's input holds the outputs of its active edges.
 */
export function readinessOf(state: ExecutionState, nodeId: string, statusOf: StatusLookup, unsettled: number): Readiness {
  const rule = state.graph.nodes.get(nodeId)?.triggerRule ?? DEFAULT_TRIGGER_RULE;
  // Until its last dependency settles only ONE_SUCCESS can decide, so a wide join costs O(1) per upstream settle.
  if (unsettled > 0 && rule !== 'ONE_SUCCESS') return { kind: 'wait' };
  const activeSources = new Set<string>();
  for (const edge of state.graph.incoming.get(nodeId) ?? []) {
    if (isActive(state, edge, statusOf(edge.source), state.nodes.get(edge.source)!)) activeSources.add(edge.source);
  }
  const summary: UpstreamSummary = { total: 0, settled: 0, active: activeSources.size, failed: 0, ran: 0 };
  const input: Record<string, unknown> = {};
  for (const dependency of state.graph.dependencies.get(nodeId) ?? []) {
    const status = statusOf(dependency);
    summary.total += 1;
    if (SETTLED_NODE_STATUSES.has(status)) summary.settled += 1;
    if (status === 'COMPLETED' || status === 'FAILED') summary.ran += 1;
    if (activeSources.has(dependency)) input[dependency] = state.nodes.get(dependency)!.output;
    else if (status === 'FAILED' || status === 'CANCELLED') summary.failed += 1;
  }
  const verdict = applyTriggerRule(rule, summary);
  if (verdict === 'run') return { kind: 'ready', input };
  if (verdict === 'wait') return { kind: 'wait' };
  return { kind: 'skip', reason: skipReason(rule, summary) };
}

/** Whether the edge carries its source's result into its target, given the source's status. */
export function isActive(state: ExecutionState, edge: Connection, status: NodeStatus, upstream: NodeState): boolean {
  if (status === 'FAILED') return Boolean(state.recovery.continueOnNodeFailure) && edge.sourceOutput == null;
  if (status !== 'COMPLETED') return false;
  return edge.sourceOutput == null || edge.sourceOutput === upstream.outputName;
}

function skipReason(rule: string, summary: UpstreamSummary): string {
  return `trigger rule ${rule} does not hold: ${summary.active} of ${summary.total} incoming ` + `dependencies active, ${summary.failed} failed or cancelled`;
}
