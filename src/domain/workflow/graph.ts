import { isTriggerOf, type NodeTypeLookup } from './nodeCapabilities.js';
import type { Connection, NodeDefinition, WorkflowDefinition } from './workflow.js';

const NONE: readonly never[] = [];

/**
 * The one graph model: a definition's adjacency, indexed once so every lookup is O(degree).
 * Executions keep it in their state, validation and the views read it. Connections to unknown
 * nodes are left out and a duplicated node id keeps its first definition: validation reports
 * both, and the graph stays usable for the rest of the checks.
 */
export interface Graph {
  /** By id, in definition order. */
  nodes: ReadonlyMap<string, NodeDefinition>;
  incoming: ReadonlyMap<string, readonly Connection[]>;
  outgoing: ReadonlyMap<string, readonly Connection[]>;
  /** Distinct upstream node ids, in connection order. */
  dependencies: ReadonlyMap<string, readonly string[]>;
  /** Distinct downstream node ids, in connection order. */
  dependents: ReadonlyMap<string, readonly string[]>;
}

export function buildGraph(nodes: readonly NodeDefinition[], connections: readonly Connection[]): Graph {
  const byId = new Map<string, NodeDefinition>();
  for (const node of nodes) if (!byId.has(node.id)) byId.set(node.id, node);
  const lists = <T>() => new Map<string, T[]>([...byId.keys()].map((id) => [id, []]));
  const [incoming, outgoing] = [lists<Connection>(), lists<Connection>()];
  const [dependencies, dependents] = [lists<string>(), lists<string>()];
  // Targets already linked from each source: a second connection of a pair (another branch label) adds no dependency.
  const linked = new Map<string, Set<string>>();
  for (const connection of connections) {
    const { source, target } = connection;
    if (!byId.has(source) || !byId.has(target)) continue;
    outgoing.get(source)!.push(connection);
    incoming.get(target)!.push(connection);
    const targets = linked.get(source) ?? new Set<string>();
    if (targets.has(target)) continue;
    linked.set(source, targets.add(target));
    dependencies.get(target)!.push(source);
    dependents.get(source)!.push(target);
  }
  return { nodes: byId, incoming, outgoing, dependencies, dependents };
}

/** Every known node reachable from any of `startIds`, the starts included. */
export function reachableFrom(graph: Graph, startIds: Iterable<string>): Set<string> {
  const reached = new Set<string>();
  const queue: string[] = [];
  for (const id of startIds) {
    if (graph.nodes.has(id) && !reached.has(id)) {
      reached.add(id);
      queue.push(id);
    }
  }
  for (let head = 0; head < queue.length; head++) {
    for (const next of graph.dependents.get(queue[head]!) ?? NONE) {
      if (reached.has(next)) continue;
      reached.add(next);
      queue.push(next);
    }
  }
  return reached;
}

/**
 * Kahn's order of `nodeIds`, seeded in their order (ties keep it, so the result is deterministic);
 * dependencies outside `nodeIds` are ignored, and nodes on a cycle are left out.
 */
export function topologicalOrder(nodeIds: readonly string[], dependencies: ReadonlyMap<string, readonly string[]>): string[] {
  const waitingFor = new Map(nodeIds.map((id) => [id, 0]));
  const dependents = new Map<string, string[]>();
  for (const id of nodeIds) {
    for (const upstream of dependencies.get(id) ?? NONE) {
      if (!waitingFor.has(upstream)) continue;
      waitingFor.set(id, waitingFor.get(id)! + 1);
      const list = dependents.get(upstream) ?? [];
      list.push(id);
      dependents.set(upstream, list);
    }
  }
  const order = nodeIds.filter((id) => waitingFor.get(id) === 0);
  for (let index = 0; index < order.length; index++) {
    for (const next of dependents.get(order[index]!) ?? NONE) {
      const left = waitingFor.get(next)! - 1;
      waitingFor.set(next, left);
      if (left === 0) order.push(next);
    }
  }
  return order;
}

/** The graph as validation asks about it: by node, with the triggers the node types name. */
export class WorkflowGraph {
  readonly graph: Graph;
  private readonly ids: string[];
  private readonly triggerIds: string[];

  constructor(
    definition: Pick<WorkflowDefinition, 'nodes' | 'connections'>,
    private readonly nodeTypes: NodeTypeLookup,
  ) {
    this.graph = buildGraph(definition.nodes, definition.connections);
    this.ids = [...this.graph.nodes.keys()];
    this.triggerIds = this.ids.filter((id) => this.isTrigger(id));
  }

  /** Node ids in definition order. */
  nodeIds(): readonly string[] {
    return this.ids;
  }

  has(id: string): boolean {
    return this.graph.nodes.has(id);
  }

  node(id: string): NodeDefinition | undefined {
    return this.graph.nodes.get(id);
  }

  isTrigger(id: string): boolean {
    const node = this.graph.nodes.get(id);
    return node !== undefined && isTriggerOf(this.nodeTypes, node.type);
  }

  /** Trigger node ids in definition order. */
  triggers(): readonly string[] {
    return this.triggerIds;
  }

  dependencies(id: string): readonly string[] {
    return this.graph.dependencies.get(id) ?? NONE;
  }

  dependents(id: string): readonly string[] {
    return this.graph.dependents.get(id) ?? NONE;
  }

  incoming(id: string): readonly Connection[] {
    return this.graph.incoming.get(id) ?? NONE;
  }

  outgoing(id: string): readonly Connection[] {
    return this.graph.outgoing.get(id) ?? NONE;
  }

  reachableFrom(startIds: Iterable<string>): Set<string> {
    return reachableFrom(this.graph, startIds);
  }
}
