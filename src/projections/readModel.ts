import type { SqlExecutor } from '../db/sqlClient.js';
import { SETTLED_NODE_STATUSES, TERMINAL_EXECUTION_STATUSES, type ExecutionStatus, type NodeStatus } from '../domain/execution/events.js';
import { DEFAULT_TENANT, tenantOf } from '../domain/tenants.js';
import type { Workflow } from '../domain/workflow/workflow.js';
import { decodeCursor, encodeCursor } from './executionCursor.js';
import { dependencyEdge, isoTimestamp, nodeSnapshotFromRow, type DependencyRow, type FlowExecutionRow, type NodeStateRow, type Timestamp } from './executionRows.js';
import { adjacencyOf, executionViewFromRows, nodeStateView } from './executionView.js';
import type { DependencyEdge, DurationHistory, ExecutionView, NodeStateView } from './executionViewTypes.js';

export interface ListExecutionsOptions {
  workflowId?: string | null;
  status?: ExecutionStatus | null;
  triggerType?: string | null;
  /** ISO timestamps, both exclusive. */
  startedAfter?: string | null;
  startedBefore?: string | null;
  /** Page size: 20 by default, at most 100. */
  first?: number | null;
  /** The endCursor of the previous page. */
  after?: string | null;
  /** Whose executions: the caller's tenant (set by the API, never by the client); default `default`. */
  tenantId?: string;
}

export interface ExecutionPage {
  nodes: ExecutionView[];
  totalCount: number;
  pageInfo: { endCursor: string | null; hasNextPage: boolean };
}

export interface WorkflowView extends Workflow {
  createdAt: string;
  updatedAt: string;
}

const DEFAULT_PAGE_SIZE = 20;
const MAX_PAGE_SIZE = 100;

const EXECUTION_FILTER = `tenant_id = $6 AND ($1::text IS NULL OR workflow_id = $1) AND ($2::text IS NULL OR status = $2)
  AND ($3::text IS NULL OR trigger_type = $3)
  AND ($4::timestamptz IS NULL OR started_at > $4) AND ($5::timestamptz IS NULL OR started_at < $5)`;

/**
 * One node's children: a retry's after the attempt before, a map's by item, then by start (a
 * workflow node's, and children from before migration 0021, which have neither: null would make
 * the row comparison of a page's start unknown). The index flow_execution_parent_node has these.
 */
const NODE_CHILD_ORDER = 'coalesce(parent_attempt, 0), coalesce(item_index, -1), started_at, id';

/** Edges touching the given nodes (all, when $2 is null). */
const EDGES = `SELECT * FROM execution_dependency WHERE execution_id = ANY($1::text[])
  AND ($2::text[] IS NULL OR node_id = ANY($2::text[]) OR depends_on_node_id = ANY($2::text[]))`;

/**
 * Average node durations of COMPLETED executions per workflow: finished ones are by definition
 * earlier than any execution still waiting for an estimate.
 */
const DURATION_HISTORY = `SELECT f.workflow_id, n.node_id, avg(n.duration_ms)::float8 AS average_ms
  FROM flow_execution f JOIN node_execution_state n ON n.execution_id = f.id
  WHERE f.workflow_id = ANY($1::text[]) AND f.status = 'COMPLETED'
    AND n.node_id = ANY($2::text[]) AND n.status = 'COMPLETED' AND n.duration_ms IS NOT NULL
  GROUP BY f.workflow_id, n.node_id`;

interface WorkflowRow {
  id: string;
  name: string;
  version: number;
  definition: Pick<Workflow, 'nodes' | 'connections' | 'settings'>;
  created_at: Timestamp;
  updated_at: Timestamp;
  tenant_id: string;
}

/** Queries over the read model that the projection runner maintains (see schema.ts). */
export class ReadModel {
  constructor(
    private readonly db: SqlExecutor,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** With `tenantId`, an execution of another tenant is not there. */
  async getExecution(id: string, tenantId?: string): Promise<ExecutionView | null> {
    const row = await this.getExecutionRow(id);
    const [view] = await this.views(row && (tenantId === undefined || row.tenant_id === tenantId) ? [row] : []);
    return view ?? null;
  }

  /** The execution's own row alone: none of its nodes. */
  async getExecutionRow(id: string): Promise<FlowExecutionRow | null> {
    const { rows } = await this.db.query<FlowExecutionRow>('SELECT * FROM flow_execution WHERE id = $1', [id]);
    return rows[0] ?? null;
  }

  /** Average durations of the given nodes in COMPLETED executions of the workflow (DURATION_HISTORY). */
  async durationHistory(workflowId: string, nodeIds: readonly string[]): Promise<DurationHistory> {
    return (await this.durationHistories([workflowId], nodeIds)).get(workflowId) ?? new Map();
  }

  /** Every node row and edge of the execution: what the live feed starts from. */
  async getExecutionNodes(executionId: string): Promise<{ nodes: NodeStateRow[]; edges: DependencyEdge[] }> {
    const [nodes, edges] = await Promise.all([this.nodeRows([executionId]), this.edges([executionId])]);
    return { nodes, edges: edges.map(dependencyEdge) };
  }

  /** The rows of a workflow's executions in the given statuses, oldest first, at most MAX_PAGE_SIZE. */
  async activeExecutionRows(workflowId: string, statuses: readonly ExecutionStatus[]): Promise<FlowExecutionRow[]> {
    const { rows } = await this.db.query<FlowExecutionRow>('SELECT * FROM flow_execution WHERE workflow_id = $1 AND status = ANY($2::text[]) ORDER BY started_at, id LIMIT $3', [
      workflowId,
      statuses,
      MAX_PAGE_SIZE,
    ]);
    return rows;
  }

  /** The given nodes' states (every node's, without `nodeIds`), in definition order. */
  async getNodeStates(executionId: string, nodeIds?: readonly string[]): Promise<NodeStateView[]> {
    const [nodes, edges] = await Promise.all([this.nodeRows([executionId], nodeIds), this.edges([executionId], nodeIds)]);
    const adjacency = adjacencyOf(edges.map(dependencyEdge));
    return nodes.map((row) => nodeStateView(nodeSnapshotFromRow(row), adjacency));
  }

  /** Newest first, by start time then id. */
  async listExecutions(options: ListExecutionsOptions = {}): Promise<ExecutionPage> {
    const first = Math.max(0, Math.min(options.first ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE));
    const cursor = options.after ? decodeCursor(options.after) : null;
    const filter = [
      options.workflowId ?? null,
      options.status ?? null,
      options.triggerType ?? null,
      options.startedAfter ?? null,
      options.startedBefore ?? null,
      tenantOf(options),
    ];
    const [page, count] = await Promise.all([
      this.db.query<FlowExecutionRow>(
        `SELECT * FROM flow_execution WHERE ${EXECUTION_FILTER}
           AND ($7::timestamptz IS NULL OR (started_at, id) < ($7::timestamptz, $8::text))
         ORDER BY started_at DESC, id DESC LIMIT $9`,
        [...filter, cursor?.startedAt ?? null, cursor?.id ?? null, first + 1],
      ),
      this.db.query<{ total: number }>(`SELECT count(*)::int AS total FROM flow_execution WHERE ${EXECUTION_FILTER}`, filter),
    ]);
    const rows = page.rows.slice(0, first);
    const last = rows.at(-1);
    return {
      nodes: await this.views(rows),
      totalCount: count.rows[0]!.total,
      pageInfo: {
        endCursor: last ? encodeCursor({ startedAt: isoTimestamp(last.started_at), id: last.id }) : null,
        hasNextPage: page.rows.length > first,
      },
    };
  }

  /**
   * The child executions of an execution (of its `workflow` and `map` nodes), oldest first, at
   * most `first` (MAX_CHILDREN_PAGE); `after`: the id of the last child of the previous page;
   * `nodeId`: only the children of that node (the viewer's inspector lists one node's children),
   * in its order: by the node's attempt, then (a map's) by item.
   */
  async listChildren(parentExecutionId: string, { first, after, nodeId }: { first: number; after?: string | null; nodeId?: string | null }): Promise<ExecutionView[]> {
    const key = nodeId ? NODE_CHILD_ORDER : 'started_at, id';
    const { rows } = await this.db.query<FlowExecutionRow>(
      `SELECT * FROM flow_execution WHERE parent_execution_id = $1 AND ($4::text IS NULL OR parent_node_id = $4)
         AND ($2::text IS NULL OR (${key}) > (SELECT ${key} FROM flow_execution WHERE id = $2 AND parent_execution_id = $1))
       ORDER BY ${key} LIMIT $3`,
      [parentExecutionId, after ?? null, first, nodeId ?? null],
    );
    return this.views(rows);
  }

  /** With `tenantId`, a workflow of another tenant is not there. */
  async getWorkflow(id: string, tenantId?: string): Promise<WorkflowView | null> {
    const { rows } = await this.db.query<WorkflowRow>('SELECT * FROM workflow WHERE id = $1', [id]);
    return rows[0] && (tenantId === undefined || rows[0].tenant_id === tenantId) ? workflowView(rows[0]) : null;
  }

  /** The tenant's workflows, oldest first. */
  async listWorkflows(tenantId: string = DEFAULT_TENANT): Promise<WorkflowView[]> {
    const { rows } = await this.db.query<WorkflowRow>('SELECT * FROM workflow WHERE tenant_id = $1 ORDER BY created_at, id', [tenantId]);
    return rows.map(workflowView);
  }

  private async views(executions: readonly FlowExecutionRow[]): Promise<ExecutionView[]> {
    if (executions.length === 0) return [];
    const ids = executions.map((execution) => execution.id);
    const [nodes, edges] = await Promise.all([this.nodeRows(ids), this.edges(ids)]);
    const history = await this.historiesOf(executions, nodes);
    const nodesOf = groupBy(nodes, (row) => row.execution_id);
    const edgesOf = groupBy(edges, (row) => row.execution_id);
    const now = this.clock();
    return executions.map((execution) =>
      executionViewFromRows(execution, nodesOf.get(execution.id) ?? [], (edgesOf.get(execution.id) ?? []).map(dependencyEdge), history.get(execution.workflow_id), now),
    );
  }

  private async nodeRows(executionIds: readonly string[], nodeIds?: readonly string[]): Promise<NodeStateRow[]> {
    const { rows } = await this.db.query<NodeStateRow>(
      `SELECT * FROM node_execution_state WHERE execution_id = ANY($1::text[]) AND ($2::text[] IS NULL OR node_id = ANY($2::text[]))
       ORDER BY execution_id, ordinal`,
      [executionIds, nodeIds ?? null],
    );
    return rows;
  }

  private async edges(executionIds: readonly string[], nodeIds?: readonly string[]): Promise<DependencyRow[]> {
    return (await this.db.query<DependencyRow>(EDGES, [executionIds, nodeIds ?? null])).rows;
  }

  /** Per workflow, only for executions still running and only for their unsettled nodes. */
  private async historiesOf(executions: readonly FlowExecutionRow[], nodes: readonly NodeStateRow[]): Promise<Map<string, DurationHistory>> {
    const running = new Set(executions.filter((execution) => !TERMINAL_EXECUTION_STATUSES.has(execution.status as ExecutionStatus)).map((execution) => execution.id));
    const unsettled = nodes.filter((row) => running.has(row.execution_id) && !SETTLED_NODE_STATUSES.has(row.status as NodeStatus));
    if (unsettled.length === 0) return new Map();
    const workflowIds = [...new Set(executions.filter((execution) => running.has(execution.id)).map((execution) => execution.workflow_id))];
    return this.durationHistories(workflowIds, [...new Set(unsettled.map((row) => row.node_id))]);
  }

  private async durationHistories(workflowIds: readonly string[], nodeIds: readonly string[]): Promise<Map<string, DurationHistory>> {
    const { rows } = await this.db.query<{ workflow_id: string; node_id: string; average_ms: number }>(DURATION_HISTORY, [workflowIds, nodeIds]);
    const history = new Map<string, Map<string, number>>();
    for (const row of rows) {
      const averages = history.get(row.workflow_id) ?? new Map<string, number>();
      averages.set(row.node_id, row.average_ms);
      history.set(row.workflow_id, averages);
    }
    return history;
  }
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group) group.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}

function workflowView(row: WorkflowRow): WorkflowView {
  return {
    id: row.id,
    name: row.name,
    version: row.version,
    ...row.definition,
    createdAt: isoTimestamp(row.created_at),
    updatedAt: isoTimestamp(row.updated_at),
    tenantId: row.tenant_id,
  };
}
