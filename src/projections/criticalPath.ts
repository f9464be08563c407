/**
 * Longest paths through an execution's DAG, in O(nodes + edges). Ties go to whatever comes
 * first in the given node order, so the same graph always yields the same path.
 */

export type Dependencies = ReadonlyMap<string, readonly string[]>;

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
