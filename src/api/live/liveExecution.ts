import { TERMINAL_EXECUTION_STATUSES, type ExecutionStatus } from '../../domain/execution/events.js';
import type { ExecutionChange } from '../../projections/projectionRunner.js';
import { adjacencyOf, buildExecutionView, executionFieldsFromRow, nodeStateView } from '../../projections/executionView.js';
import { elapsedMs } from '../../projections/executionMetrics.js';
import { dependencyEdge, isoOrNull, nodeSnapshotFromRow, type FlowExecutionRow, type NodeStateRow } from '../../projections/executionRows.js';
import type { Adjacency, DependencyEdge, DurationHistory, ExecutionFields, ExecutionView, NodeStateView } from '../../projections/executionViewTypes.js';

export interface ExecutionUpdate {
  executionId: string;
  status: ExecutionStatus;
  progress: number;
  /** Only the nodes that changed since the previous message about this execution, each as it is now. */
  changedNodes: NodeStateView[];
  /**
   * The whole execution, built on the first call (GraphQL's default resolver calls it only for a
   * selection that asks for it) and then shared by every message of the same version.
   */
  execution: () => ExecutionView;
}

/** A node as the feed knows it: its view, and the version of the last event that changed what it shows. */
interface LiveNode {
  view: NodeStateView;
  version: number;
}

/** The execution's own facts and its progress, as of `streamVersion`. */
type Head = ExecutionFields & { progress: number };

const headOf = (row: FlowExecutionRow): Head => ({ ...executionFieldsFromRow(row), progress: row.progress });

/** The feed never shows a node that did not change: a heartbeat rewrites a row without changing it. */
function sameNode(a: NodeStateView, b: NodeStateView): boolean {
  for (const key of Object.keys(a) as Array<keyof NodeStateView>) {
    const [x, y] = [a[key], b[key]];
    if (x === y) continue;
    // Payloads from the projection keep their identity; those read back are compared by value.
    if (typeof x !== 'object' || typeof y !== 'object' || JSON.stringify(x) !== JSON.stringify(y)) return false;
  }
  return true;
}

/**
 * What the live feed knows of one followed execution, kept up from the projection's changes: its
 * head always, its nodes once a subscriber's selection needs them. Everything is merged by
 * version (the head by the execution's, each node by its own), so that a read of the read model
 * and the changes that overtake it end up in the same place, whatever their order.
 */
export class LiveExecution {
  head: Head | null = null;
  /** In definition order; null until a subscriber needs nodes. */
  private nodes: Map<string, LiveNode> | null = null;
  /** Node rows that came while the nodes were being read, merged once they are. */
  private early: NodeStateRow[] | null = null;
  /** The version of the last message that went out to everyone, and the nodes changed since. */
  private sentVersion = 0;
  private changedSinceSent = new Map<string, LiveNode>();
  /** Per version shown before, the message from there to now; both cleared by every change. */
  private updates = new Map<number, ExecutionUpdate>();
  private view: ExecutionView | null = null;
  private adjacency: Adjacency | null = null;
  history: DurationHistory | null = null;
  private loadingNodes: Promise<void> | null = null;

  constructor(readonly executionId: string) {}

  get version(): number {
    return this.head?.streamVersion ?? 0;
  }

  get hasNodes(): boolean {
    return this.nodes !== null;
  }

  nodeIds(): string[] {
    return [...(this.nodes?.keys() ?? [])];
  }

  get finished(): boolean {
    return this.head !== null && TERMINAL_EXECUTION_STATUSES.has(this.head.status);
  }

  /** Applies a batch's rows; says whether it moved the execution on. */
  apply(change: ExecutionChange): boolean {
    if (change.edges && !this.nodes && !this.loadingNodes) this.seedNodes(change.nodes, change.edges.map(dependencyEdge));
    else if (this.nodes) for (const row of change.nodes) this.applyNode(row);
    else this.early?.push(...change.nodes);
    return this.applyHead(change.execution);
  }

  applyHead(row: FlowExecutionRow): boolean {
    if (row.stream_version <= this.version) return false;
    this.head = headOf(row);
    this.moved();
    return true;
  }

  /** Reads the nodes once, for every subscriber that needs them. */
  loadNodes(read: () => Promise<{ nodes: NodeStateRow[]; edges: DependencyEdge[] }>): Promise<void> {
    if (this.nodes) return Promise.resolve();
    this.early ??= [];
    this.loadingNodes ??= read().then(
      ({ nodes, edges }) => {
        const early = this.early ?? [];
        this.seedNodes(nodes, edges);
        for (const row of early) this.applyNode(row);
      },
      (error: unknown) => {
        this.loadingNodes = null;
        this.early = null;
        throw error;
      },
    );
    return this.loadingNodes;
  }

  /**
   * The message for a subscriber that was last shown `shownVersion` (undefined: nothing yet, so
   * every node), one object per version shown for everyone: most were shown the last message, and
   * theirs costs what changed since.
   */
  updateFrom(shownVersion: number | undefined): ExecutionUpdate {
    const from = shownVersion ?? -1;
    const known = this.updates.get(from);
    if (known) return known;
    const head = this.head!;
    const update: ExecutionUpdate = {
      executionId: this.executionId,
      status: head.status,
      progress: head.progress,
      changedNodes: this.nodesSince(from),
      execution: () => (this.view ??= this.buildView()),
    };
    this.updates.set(from, update);
    return update;
  }

  /** Everyone following was shown the current version (or is behind and catches up on its own). */
  sent(): void {
    this.sentVersion = this.version;
    this.changedSinceSent = new Map();
  }

  private nodesSince(from: number): NodeStateView[] {
    if (!this.nodes) return [];
    if (from === this.sentVersion) return [...this.changedSinceSent.values()].map((node) => node.view);
    // A subscriber that joined or fell behind since: rare, and worth one pass over the nodes.
    return [...this.nodes.values()].filter((node) => node.version > from).map((node) => node.view);
  }

  private buildView(): ExecutionView {
    const nodes = [...(this.nodes?.values() ?? [])].map(({ view }) => view);
    this.adjacency ??= {
      dependencies: new Map(nodes.map((node) => [node.nodeId, node.dependencies])),
      dependents: new Map(nodes.map((node) => [node.nodeId, node.dependents])),
    };
    return buildExecutionView({ ...this.head!, nodes, ...this.adjacency }, this.history ?? new Map());
  }

  private seedNodes(rows: readonly NodeStateRow[], edges: Iterable<DependencyEdge>): void {
    const adjacency = adjacencyOf(edges);
    const sorted = [...rows].sort((a, b) => a.ordinal - b.ordinal);
    this.nodes = new Map(sorted.map((row) => [row.node_id, { view: nodeStateView(nodeSnapshotFromRow(row), adjacency), version: row.stream_version }]));
    this.early = null;
    // What changed since the last message, as if the nodes had been known all along.
    this.changedSinceSent = new Map([...this.nodes].filter(([, node]) => node.version > this.sentVersion));
    this.moved();
  }

  private moved(): void {
    this.updates.clear();
    this.view = null;
  }

  private applyNode(row: NodeStateRow): void {
    const known = this.nodes!.get(row.node_id);
    if (!known || row.stream_version <= known.version) return;
    // The graph never changes: the node keeps its lists of neighbours.
    const view: NodeStateView = {
      ...nodeSnapshotFromRow(row),
      durationMs: elapsedMs(isoOrNull(row.started_at), isoOrNull(row.finished_at)),
      dependencies: known.view.dependencies,
      dependents: known.view.dependents,
    };
    if (sameNode(view, known.view)) return;
    const node = { view, version: row.stream_version };
    this.nodes!.set(row.node_id, node);
    this.changedSinceSent.set(row.node_id, node);
    this.moved();
  }
}
