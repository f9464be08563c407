import { isTriggerOf, type NodeTypeLookup } from './nodeCapabilities.js';
import type { Connection, NodeDefinition, WorkflowDefinition } from './workflow.js';

const NONE: readonly never[] = [];

export class CyclicGraphError extends Error {
  constructor(readonly nodes: readonly string[]) {
    super(`Graph has a cycle among: ${nodes.join(', ')}`);
    this.name = 'CyclicGraphError';
  }
}

/**
 * Adjacency of a definition, built once so every query is proportional to its answer.
 * Connections to unknown nodes are left out and a duplicated node id keeps its first definition:
 * validation reports both, and the graph stays usable for the rest of the checks.
 */
export class WorkflowGraph {
  private readonly nodesById = new Map<string, NodeDefinition>();
  private readonly ids: string[] = [];
  private readonly triggerIds: string[] = [];
  private readonly incomingById = new Map<string, Connection[]>();
  private readonly outgoingById = new Map<string, Connection[]>();
  private readonly dependenciesById = new Map<string, string[]>();
  private readonly dependentsById = new Map<string, string[]>();

  constructor(
    definition: Pick<WorkflowDefinition, 'nodes' | 'connections'>,
    private readonly nodeTypes: NodeTypeLookup,
  ) {
    for (const node of definition.nodes) this.addNode(node);
    const seenPairs = new Set<string>();
    for (const connection of definition.connections) this.addConnection(connection, seenPairs);
  }

  private addNode(node: NodeDefinition): void {
    if (this.nodesById.has(node.id)) return;
    this.nodesById.set(node.id, node);
    this.ids.push(node.id);
    if (isTriggerOf(this.nodeTypes, node.type)) this.triggerIds.push(node.id);
    this.incomingById.set(node.id, []);
    this.outgoingById.set(node.id, []);
    this.dependenciesById.set(node.id, []);
    this.dependentsById.set(node.id, []);
  }

  private addConnection(connection: Connection, seenPairs: Set<string>): void {
    const { source, target } = connection;
    const incoming = this.incomingById.get(target);
    const outgoing = this.outgoingById.get(source);
    if (incoming === undefined || outgoing === undefined) return;
    incoming.push(connection);
    outgoing.push(connection);
    const pair = JSON.stringify([source, target]);
    if (seenPairs.has(pair)) return;
    seenPairs.add(pair);
    this.dependenciesById.get(target)?.push(source);
    this.dependentsById.get(source)?.push(target);
  }

  /** Node ids in definition order. */
  nodeIds(): readonly string[] {
    return this.ids;
  }

  has(id: string): boolean {
    return this.nodesById.has(id);
  }

  node(id: string): NodeDefinition | undefined {
    return this.nodesById.get(id);
  }

  isTrigger(id: string): boolean {
    const node = this.nodesById.get(id);
    return node !== undefined && isTriggerOf(this.nodeTypes, node.type);
  }

  /** Trigger node ids in definition order. */
  triggers(): readonly string[] {
    return this.triggerIds;
  }

  /** Distinct upstream node ids. */
  dependencies(id: string): readonly string[] {
    return this.dependenciesById.get(id) ?? NONE;
  }

  /** Distinct downstream node ids. */
  dependents(id: string): readonly string[] {
    return this.dependentsById.get(id) ?? NONE;
  }

  incoming(id: string): readonly Connection[] {
    return this.incomingById.get(id) ?? NONE;
  }

  outgoing(id: string): readonly Connection[] {
    return this.outgoingById.get(id) ?? NONE;
  }

  /** The nodes an execution started at `startId` involves: itself and everything downstream. */
  downstreamClosure(startId: string): Set<string> {
    return this.reachableFrom([startId]);
  }

  /** Every known node reachable from any of `startIds`, the starts included. */
  reachableFrom(startIds: Iterable<string>): Set<string> {
    const reached = new Set<string>();
    const queue: string[] = [];
    for (const id of startIds) {
      if (this.has(id) && !reached.has(id)) {
        reached.add(id);
        queue.push(id);
      }
    }
    for (let head = 0; head < queue.length; head++) {
      for (const next of this.dependents(queue[head] as string)) {
        if (reached.has(next)) continue;
        reached.add(next);
        queue.push(next);
      }
    }
    return reached;
  }

  /**
   * Kahn's order of `subset` (default: all nodes), counting only edges inside it; ties keep
   * definition order so the result is deterministic. Throws CyclicGraphError on a cycle.
   */
  topologicalOrder(subset?: ReadonlySet<string>): string[] {
    const members = subset === undefined ? this.ids : this.ids.filter((id) => subset.has(id));
    const inside = subset === undefined ? (id: string) => this.has(id) : (id: string) => subset.has(id);
    const pending = new Map<string, number>();
    for (const id of members) pending.set(id, this.dependencies(id).filter(inside).length);
    const order = members.filter((id) => pending.get(id) === 0);
    for (let head = 0; head < order.length; head++) {
      for (const next of this.dependents(order[head] as string)) {
        const remaining = pending.get(next);
        if (remaining === undefined) continue;
        pending.set(next, remaining - 1);
        if (remaining === 1) order.push(next);
      }
    }
    if (order.length < members.length) {
      const ordered = new Set(order);
      throw new CyclicGraphError(members.filter((id) => !ordered.has(id)));
    }
    return order;
  }
}
