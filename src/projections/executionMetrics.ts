import { SETTLED_NODE_STATUSES, TERMINAL_EXECUTION_STATUSES, type ExecutionStatus } from '../domain/execution/events.js';
import { heaviestPath, type Dependencies } from './criticalPath.js';
import type { DurationHistory, ExecutionMetrics, NodeSnapshot } from './executionViewTypes.js';

/** Milliseconds between two ISO timestamps; null unless both are known. */
export function elapsedMs(from: string | null, to: string | null): number | null {
  return from !== null && to !== null ? Date.parse(to) - Date.parse(from) : null;
}

/**
 * Averages count COMPLETED and FAILED nodes (work that ran to an end); the longest node, the
 * bottleneck path and the utilisation count every node that has both timestamps, cancelled
 * ones included, since they held a slot too.
 */
export function executionMetrics(nodes: readonly NodeSnapshot[], dependencies: Dependencies, order: readonly string[]): ExecutionMetrics {
  const durations = nodeDurations(nodes);
  const finished = nodes.filter((node) => node.status === 'COMPLETED' || node.status === 'FAILED');
  return {
    totalNodes: nodes.length,
    completedNodes: nodes.filter((node) => node.status === 'COMPLETED').length,
    failedNodes: nodes.filter((node) => node.status === 'FAILED').length,
    averageNodeDurationMs: average(finished.flatMap((node) => durations.get(node.nodeId) ?? [])),
    longestRunningNode: longest(durations),
    bottleneckNodes: heaviestPath(order, dependencies, (id) => durations.get(id) ?? 0).path,
    parallelismUtilization: parallelismUtilization(nodes),
  };
}

function nodeDurations(nodes: readonly NodeSnapshot[]): Map<string, number> {
  const durations = new Map<string, number>();
  for (const node of nodes) {
    const duration = elapsedMs(node.startedAt, node.finishedAt);
    if (duration !== null) durations.set(node.nodeId, duration);
  }
  return durations;
}

function average(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** The first node with the largest duration, in node order. */
function longest(durations: ReadonlyMap<string, number>): string | null {
  let best: string | null = null;
  let bestDuration = -1;
  for (const [id, duration] of durations) if (duration > bestDuration) [best, bestDuration] = [id, duration];
  return best;
}

/**
 * How well the execution used the width it reached: node busy time divided by
 * (span x peak), where span runs from the first node start to the last node finish and peak is
 * the most nodes observed running at once. 1 means the peak width was used all along; a long
 * sequential stretch after a wide fan-out lowers it. In 0..1; null until some node has run for
 * a measurable time. The span, not the execution's wall time, so time spent queued or paused
 * before the first node doesn't count as idle capacity.
 */
function parallelismUtilization(nodes: readonly NodeSnapshot[]): number | null {
  const intervals = nodes.flatMap((node) =>
    node.startedAt !== null && node.finishedAt !== null && Date.parse(node.finishedAt) > Date.parse(node.startedAt)
      ? [[Date.parse(node.startedAt), Date.parse(node.finishedAt)] as const]
      : [],
  );
  if (intervals.length === 0) return null;
  let [busy, first, last] = [0, Infinity, -Infinity];
  for (const [start, end] of intervals) [busy, first, last] = [busy + end - start, Math.min(first, start), Math.max(last, end)];
  return busy / ((last - first) * peakConcurrency(intervals));
}

/** A sweep over start (+1) and end (-1) instants; at the same instant ends come first. */
function peakConcurrency(intervals: ReadonlyArray<readonly [number, number]>): number {
  const edges = intervals.flatMap(([start, end]) => [[start, 1] as const, [end, -1] as const]);
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let running = 0;
  let peak = 0;
  for (const [, change] of edges) {
    running += change;
    peak = Math.max(peak, running);
  }
  return peak;
}

export interface RemainingTimeInput {
  status: ExecutionStatus;
  nodes: readonly NodeSnapshot[];
  dependencies: Dependencies;
  order: readonly string[];
  /** Average duration of each node id in completed executions of the same workflow. */
  history: DurationHistory;
  /** This execution's own average node duration: the estimate for nodes without history. */
  ownAverageMs: number | null;
  now: Date;
}

/**
 * The critical path of what is left: each unsettled node weighs its expected duration (a running
 * one, what remains of it), settled nodes weigh nothing. 0 once finished; null when no unsettled
 * node has any estimate.
 */
export function estimateRemainingMs(input: RemainingTimeInput): number | null {
  if (TERMINAL_EXECUTION_STATUSES.has(input.status)) return 0;
  const estimates = new Map<string, number>();
  let unsettled = 0;
  for (const node of input.nodes) {
    if (SETTLED_NODE_STATUSES.has(node.status)) continue;
    unsettled += 1;
    const expected = input.history.get(node.nodeId) ?? input.ownAverageMs;
    if (expected === null) continue;
    const ran = node.status === 'RUNNING' ? (elapsedMs(node.startedAt, input.now.toISOString()) ?? 0) : 0;
    estimates.set(node.nodeId, Math.max(0, expected - ran));
  }
  if (unsettled === 0) return 0;
  if (estimates.size === 0) return null;
  return Math.round(heaviestPath(input.order, input.dependencies, (id) => estimates.get(id) ?? 0).weight);
}
