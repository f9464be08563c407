import { toExecutionEvent } from '../domain/execution/events.js';
import { EXECUTION_STREAM_PREFIX } from '../domain/execution/events.js';
import { evolve } from '../domain/execution/evolve.js';
import type { ExecutionState } from '../domain/execution/state.js';
import type { SqlExecutor } from '../db/sqlClient.js';
import type { RecordedEvent } from '../eventstore/eventStore.js';
import {
  DEPENDENCY_COLUMNS,
  dependencyRows,
  FLOW_EXECUTION_COLUMNS,
  flowExecutionRow,
  NODE_STATE_COLUMNS,
  nodeStateRow,
  type DependencyRow,
  type FlowExecutionRow,
  type NodeStateRow,
} from './executionRows.js';
import { withOrdinals, type ProjectedExecution } from './executionStateCache.js';
import { excludedSet, insertRows } from './insertRows.js';

/**
 * What a batch changed in one execution, for listeners that push updates to clients: the rows as
 * of the batch's last event, so that a listener builds what it shows from them without reading
 * the execution back. It costs what the batch changed: these are the rows the batch writes.
 */
export interface ExecutionChange {
  executionId: string;
  workflowId: string;
  streamVersion: number;
  /** The execution's own row. */
  execution: FlowExecutionRow;
  /** The rows of the nodes the batch changed (every node, for a batch that started the execution), in definition order. */
  nodes: NodeStateRow[];
  /** Every edge of the execution graph, when the batch started the execution (it never changes afterwards); else null. */
  edges: DependencyRow[] | null;
}

/** One execution's events of a batch (consecutive versions) and the execution before them. */
export interface ExecutionBatch {
  executionId: string;
  before: ProjectedExecution | null;
  events: RecordedEvent[];
}

export const executionIdOf = (event: RecordedEvent): string => event.streamId.slice(EXECUTION_STREAM_PREFIX.length);

interface Writes {
  executions: FlowExecutionRow[];
  nodes: NodeStateRow[];
  dependencies: DependencyRow[];
}

/**
 * Folds each execution's events and writes what they changed: the execution row, the rows of
 * the nodes they touched (never the others) and, for a new execution, every node and edge.
 * Events at or below the stream_version a row already has were projected before (a replay, or
 * another process got there first) and write nothing, while still being reported as changes.
 */
export async function projectExecutions(tx: SqlExecutor, batches: readonly ExecutionBatch[]): Promise<{ changes: ExecutionChange[]; after: Map<string, ProjectedExecution> }> {
  const projected = await lockProjectedVersions(
    tx,
    batches.map((batch) => batch.executionId),
  );
  const writes: Writes = { executions: [], nodes: [], dependencies: [] };
  const changes: ExecutionChange[] = [];
  const after = new Map<string, ProjectedExecution>();
  for (const batch of batches) {
    const { execution, changed } = fold(batch);
    after.set(batch.executionId, execution);
    const change = changeOf(batch, execution, changed);
    changes.push(change);
    collectWrites(writes, batch, execution, change, projected.get(batch.executionId) ?? 0);
  }
  await write(tx, writes);
  return { changes, after };
}

/**
 * Locking the rows makes a second process projecting the same log wait for this one's commit
 * and then find the events applied, rather than interleave writes with it.
 */
async function lockProjectedVersions(tx: SqlExecutor, executionIds: string[]): Promise<Map<string, number>> {
  const { rows } = await tx.query<{ id: string; stream_version: number }>('SELECT id, stream_version FROM flow_execution WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE', [
    executionIds,
  ]);
  return new Map(rows.map((row) => [row.id, row.stream_version]));
}

/** The execution after the batch, and per node the version of the last event that changed it. */
function fold(batch: ExecutionBatch): { execution: ProjectedExecution; changed: Map<string, number> } {
  let state: ExecutionState | null = batch.before?.state ?? null;
  const changed = new Map<string, number>();
  for (const event of batch.events) {
    const expected = (state?.version ?? 0) + 1;
    if (event.streamVersion !== expected) {
      throw new Error(`execution ${batch.executionId}: got event ${event.streamVersion}, expected ${expected}`);
    }
    state = evolve(state, toExecutionEvent(event));
    for (const nodeId of nodesChangedBy(event, state)) changed.set(nodeId, event.streamVersion);
  }
  // evolve changes a state in place; only ExecutionStarted makes a new one, needing ordinals.
  const execution = batch.before?.state === state ? batch.before : withOrdinals(state!);
  return { execution, changed };
}

function nodesChangedBy(event: RecordedEvent, state: ExecutionState): Iterable<string> {
  if (event.type === 'ExecutionStarted') return state.nodes.keys();
  const { nodeId } = event.data as { nodeId?: string };
  return nodeId === undefined ? [] : [nodeId];
}

/** The batch's rows, built once: written when the read model lacks them, reported either way. */
function changeOf(batch: ExecutionBatch, { state, ordinals }: ProjectedExecution, changed: Map<string, number>): ExecutionChange {
  const nodes = [...changed].map(([nodeId, version]) => nodeStateRow(state.id, state.nodes.get(nodeId)!, ordinals.get(nodeId)!, version));
  nodes.sort((a, b) => a.ordinal - b.ordinal);
  const started = batch.events[0]!.streamVersion === 1;
  return {
    executionId: batch.executionId,
    workflowId: state.workflowId,
    streamVersion: state.version,
    execution: flowExecutionRow(state, (batch.events.at(-1)!.data as { at: string }).at),
    nodes,
    edges: started ? dependencyRows(state, ordinals) : null,
  };
}

function collectWrites(writes: Writes, batch: ExecutionBatch, { state, ordinals }: ProjectedExecution, change: ExecutionChange, projectedVersion: number): void {
  if (state.version <= projectedVersion) return;
  writes.executions.push(change.execution);
  // Events before this batch that never reached the read model (it was rebuilt or restored
  // behind the log): every row is rewritten from the state, which holds them all.
  const baseVersion = batch.events[0]!.streamVersion - 1;
  if (projectedVersion < baseVersion) {
    const changed = new Map(change.nodes.map((row) => [row.node_id, row]));
    for (const [nodeId, node] of state.nodes) writes.nodes.push(changed.get(nodeId) ?? nodeStateRow(state.id, node, ordinals.get(nodeId)!, baseVersion));
  } else {
    writes.nodes.push(...change.nodes.filter((row) => row.stream_version > projectedVersion));
  }
  if (projectedVersion === 0) writes.dependencies.push(...(change.edges ?? dependencyRows(state, ordinals)));
}

/**
 * One statement per table. The execution rows go first, so that a concurrent projector of the
 * same new execution waits on its key before either writes node rows. The WHERE clauses keep
 * every row monotonic in stream version, whoever writes it.
 */
async function write(tx: SqlExecutor, writes: Writes): Promise<void> {
  const statements = [
    writes.executions.length > 0 &&
      insertRows(
        'flow_execution',
        FLOW_EXECUTION_COLUMNS,
        writes.executions,
        `ON CONFLICT (id) DO UPDATE SET ${excludedSet(FLOW_EXECUTION_COLUMNS, ['id'])}
         WHERE flow_execution.stream_version < EXCLUDED.stream_version`,
      ),
    writes.nodes.length > 0 &&
      insertRows(
        'node_execution_state',
        NODE_STATE_COLUMNS,
        writes.nodes,
        `ON CONFLICT (execution_id, node_id) DO UPDATE SET ${excludedSet(NODE_STATE_COLUMNS, ['execution_id', 'node_id', 'ordinal'])}
         WHERE node_execution_state.stream_version < EXCLUDED.stream_version`,
      ),
    writes.dependencies.length > 0 && insertRows('execution_dependency', DEPENDENCY_COLUMNS, writes.dependencies, 'ON CONFLICT DO NOTHING'),
  ];
  for (const statement of statements) if (statement) await tx.query(statement.text, statement.params);
}
