import { sql } from 'drizzle-orm';
import { bigint, doublePrecision, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * The read model: tables the projection runner derives from the event log and the API reads.
 * They hold nothing the log doesn't, so `rebuildProjections` can drop and refill them at will.
 * Progress columns are double precision, not real: the view folded from events computes a
 * double, and a float4 round trip would make the two views disagree.
 */

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'string' });

export const workflow = pgTable('workflow', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  version: integer('version').notNull(),
  /** nodes, connections and settings of the latest version. */
  definition: jsonb('definition').notNull(),
  createdAt: timestamptz('created_at').notNull(),
  updatedAt: timestamptz('updated_at').notNull(),
  /** Migration 0015: the tenant it belongs to (older rows: default). */
  tenantId: text('tenant_id').notNull().default('default'),
});

export const flowExecution = pgTable(
  'flow_execution',
  {
    id: text('id').primaryKey(),
    workflowId: text('workflow_id').notNull(),
    workflowVersion: integer('workflow_version').notNull(),
    status: text('status').notNull(),
    triggerNodeId: text('trigger_node_id').notNull(),
    triggerType: text('trigger_type').notNull(),
    /** 0..100 */
    progress: doublePrecision('progress').notNull(),
    startedAt: timestamptz('started_at').notNull(),
    finishedAt: timestamptz('finished_at'),
    durationMs: bigint('duration_ms', { mode: 'number' }),
    error: text('error'),
    errorCode: text('error_code'),
    executionPath: jsonb('execution_path').notNull(),
    totalNodes: integer('total_nodes').notNull(),
    completedNodes: integer('completed_nodes').notNull(),
    failedNodes: integer('failed_nodes').notNull(),
    rerunOf: text('rerun_of'),
    /** A child execution's parent (migration 0017). */
    parentExecutionId: text('parent_execution_id'),
    parentNodeId: text('parent_node_id'),
    /** Migration 0021: the parent node's attempt, and a map node's child's item (null for the others). */
    parentAttempt: integer('parent_attempt'),
    itemIndex: integer('item_index'),
    /** The last event of the execution stream applied here: older events are replays. */
    streamVersion: integer('stream_version').notNull(),
    /** When that event happened (not when it was projected, so a rebuild gives the same row). */
    updatedAt: timestamptz('updated_at').notNull(),
    /** Migration 0015: its workflow's tenant (older rows: default). */
    tenantId: text('tenant_id').notNull().default('default'),
  },
  (table) => [
    index('flow_execution_tenant_started').on(table.tenantId, table.startedAt, table.id),
    index('flow_execution_workflow_started').on(table.workflowId, table.startedAt),
    index('flow_execution_status').on(table.status),
    index('flow_execution_started').on(table.startedAt, table.id),
    // What retention looks for: the executions finished longest ago.
    index('flow_execution_finished').on(table.finishedAt),
    index('flow_execution_parent').on(table.parentExecutionId, table.startedAt, table.id),
    // One node's children in item order (ReadModel.listChildren with a node).
    index('flow_execution_parent_node').on(
      table.parentExecutionId,
      table.parentNodeId,
      sql`coalesce(${table.parentAttempt}, 0)`,
      sql`coalesce(${table.itemIndex}, -1)`,
      table.startedAt,
      table.id,
    ),
  ],
);

export const nodeExecutionState = pgTable(
  'node_execution_state',
  {
    executionId: text('execution_id').notNull(),
    nodeId: text('node_id').notNull(),
    /** Position of the node in the workflow definition: the order views list nodes in. */
    ordinal: integer('ordinal').notNull(),
    status: text('status').notNull(),
    attempt: integer('attempt').notNull(),
    progress: doublePrecision('progress').notNull(),
    queuedAt: timestamptz('queued_at'),
    startedAt: timestamptz('started_at'),
    finishedAt: timestamptz('finished_at'),
    durationMs: bigint('duration_ms', { mode: 'number' }),
    error: text('error'),
    errorCode: text('error_code'),
    skipReason: text('skip_reason'),
    message: text('message'),
    input: jsonb('input'),
    output: jsonb('output'),
    outputName: text('output_name'),
    /** The execution whose recorded result a rerun took for this node instead of running it. */
    reusedFrom: text('reused_from'),
    /** The execution stream version of the last event that changed this node. */
    streamVersion: integer('stream_version').notNull(),
  },
  (table) => [primaryKey({ columns: [table.executionId, table.nodeId] })],
);

export const executionDependency = pgTable(
  'execution_dependency',
  {
    executionId: text('execution_id').notNull(),
    nodeId: text('node_id').notNull(),
    dependsOnNodeId: text('depends_on_node_id').notNull(),
    /** Both ends' ordinals, copied here so that views order edges without joining node rows. */
    nodeOrdinal: integer('node_ordinal').notNull(),
    dependsOnOrdinal: integer('depends_on_ordinal').notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.executionId, table.nodeId, table.dependsOnNodeId] }),
    index('execution_dependency_upstream').on(table.executionId, table.dependsOnNodeId),
  ],
);

export const projectionCheckpoints = pgTable('projection_checkpoints', {
  name: text('name').primaryKey(),
  position: text('position').notNull(),
});

/**
 * Every read-model table, in the order the projection writes them: whoever locks them all (an
 * online rebuild's swap) does so in this order, so as never to deadlock with it.
 */
export const READ_MODEL_TABLES = ['flow_execution', 'node_execution_state', 'execution_dependency', 'workflow', 'projection_checkpoints'] as const;
