import type { Connection, NodeDefinition } from '../workflow/workflow.js';

/** The affected part of a workflow, indexed once per execution so every lookup is O(degree). */
export interface ExecutionGraph {
  nodes: ReadonlyMap<string, NodeDefinition>;
  incoming: ReadonlyMap<string, readonly Connection[]>;
  outgoing: ReadonlyMap<string, readonly Connection[]>;
  /** Distinct upstream node ids, in connection order. */
  dependencies: ReadonlyMap<string, readonly string[]>;
  /** Distinct downstream node ids, in connection order. */
  dependents: ReadonlyMap<string, readonly string[]>;
}

export function buildExecutionGraph(nodes: readonly NodeDefinition[], connections: readonly Connection[]): ExecutionGraph {
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const incoming = new Map<string, Connection[]>(nodes.map((node) => [node.id, []]));
  const outgoing = new Map<string, Connection[]>(nodes.map((node) => [node.id, []]));
  for (const connection of connections) {
    if (!byId.has(connection.source) || !byId.has(connection.target)) continue;
    outgoing.get(connection.source)!.push(connection);
    incoming.get(connection.target)!.push(connection);
  }
  const distinct = (ids: string[]) => [...new Set(ids)];
  const dependencies = new Map([...incoming].map(([id, edges]) => [id, distinct(edges.map((edge) => edge.source))]));
  const dependents = new Map([...outgoing].map(([id, edges]) => [id, distinct(edges.map((edge) => edge.target))]));
  return { nodes: byId, incoming, outgoing, dependencies, dependents };
}

/** The node and every node downstream of it. */
export function reachableFrom(graph: ExecutionGraph, nodeId: string): Set<string> {
  const seen = new Set([nodeId]);
  const stack = [nodeId];
  for (let id = stack.pop(); id !== undefined; id = stack.pop()) {
    for (const next of graph.dependents.get(id) ?? [])
      if (!seen.has(next)) {
        seen.add(next);
        stack.push(next);
      }
  }
  return seen;
}
