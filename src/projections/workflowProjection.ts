import type { SqlExecutor } from '../db/sqlClient.js';
import { tenantOf } from '../domain/tenants.js';
import type { Workflow } from '../domain/workflow/workflow.js';
import type { WorkflowEvent } from '../domain/workflow/workflowEvents.js';
import type { RecordedEvent } from '../eventstore/eventStore.js';
import { excludedSet, insertRows, type ColumnSpec } from './insertRows.js';

interface WorkflowRow {
  id: string;
  name: string;
  version: number;
  definition: Pick<Workflow, 'nodes' | 'connections' | 'settings'>;
  created_at: string;
  updated_at: string;
  tenant_id: string;
}

const WORKFLOW_COLUMNS: ReadonlyArray<ColumnSpec<WorkflowRow>> = [
  ['id', 'text'],
  ['name', 'text'],
  ['version', 'integer'],
  ['definition', 'jsonb'],
  ['created_at', 'timestamptz'],
  ['updated_at', 'timestamptz'],
  ['tenant_id', 'text'],
];

/**
 * Every workflow event holds the whole workflow, so a batch writes only each workflow's last
 * one; a version the row already has or passed changes nothing (replays).
 */
export async function projectWorkflows(tx: SqlExecutor, events: readonly RecordedEvent[]): Promise<void> {
  if (events.length === 0) return;
  const { text, params } = insertRows(
    'workflow',
    WORKFLOW_COLUMNS,
    latestRows(events),
    `ON CONFLICT (id) DO UPDATE SET ${excludedSet(WORKFLOW_COLUMNS, ['id', 'created_at'])}
     WHERE workflow.version < EXCLUDED.version`,
  );
  await tx.query(text, params);
}

function latestRows(events: readonly RecordedEvent[]): WorkflowRow[] {
  const rows = new Map<string, WorkflowRow>();
  for (const event of events as ReadonlyArray<RecordedEvent & WorkflowEvent>) {
    const { workflow, at } = event.data;
    const { id, name, version, nodes, connections, settings } = workflow;
    // created_at of an existing row is kept; a new row without its WorkflowCreated in the batch
    // (the read model missed it) gets the earliest time the batch knows.
    const createdAt = rows.get(id)?.created_at ?? at;
    rows.set(id, { id, name, version, definition: { nodes, connections, settings }, created_at: createdAt, updated_at: at, tenant_id: tenantOf(workflow) });
  }
  return [...rows.values()];
}
