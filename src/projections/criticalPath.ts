/**
 * Longest paths through an execution's DAG, in O(nodes + edges). Ties go to whatever comes
 * first in the given node order, so the same graph always yields the same path.
 */

export type Dependencies = ReadonlyMap<string, readonly string[]>;

/** Kahn's algorithm, seeded in the given order; dependencies outside `nodeIds` are ignored. */
export function topologicalOrder(nodeIds: readonly string[], dependencies: Dependencies): string[] {
  const waitingFor = new Map(nodeIds.map((id) => [id, 0]));
  const dependents = new Map<string, string[]>();
  for (const id of nodeIds) {
    for (const upstream of dependencies.get(id) ?? []) {
      if (!waitingFor.has(upstream)) continue;
      waitingFor.set(id, waitingFor.get(id)! + 1);
      const list = dependents.get(upstream) ?? [];
      list.push(id);
      dependents.set(upstream, list);
    }
  }
  const order = nodeIds.filter((id) => waitingFor.get(id) === 0);
  for (let index = 0; index < order.length; index++) {
    for (const next of dependents.get(order[index]!) ?? []) {
      const left = waitingFor.get(next)! - 1;
      waitingFor.set(next, left);
      if (left === 0) order.push(next);
    }
  }
  return order;
}

export interface HeaviestPath {
  /** From the first node that weighs anything to the last; empty when nothing weighs. */
  path: string[];
  weight: number;
}

/** The path whose nodes weigh the most together; `order` is a topological order of the nodes. */
export function heaviestPath(order: readonly string[], dependencies: Dependencies, weight: (nodeId: string) => number): HeaviestPath {
  const best = new Map<string, { total: number; previous: string | null }>();
  let end: string | null = null;
  let endTotal = 0;
  for (const id of order) {
    let previous: string | null = null;
    let base = 0;
    for (const upstream of dependencies.get(id) ?? []) {
      const total = best.get(upstream)?.total ?? 0;
      if (total > base) [base, previous] = [total, upstream];
    }
    const total = base + weight(id);
    best.set(id, { total, previous });
    if (total > endTotal) [endTotal, end] = [total, id];
  }
  const path: string[] = [];
  for (let at = end; at !== null; at = best.get(at)!.previous) path.push(at);
  return { path: path.reverse(), weight: endTotal };
}
