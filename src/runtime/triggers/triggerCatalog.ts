import type { SqlClient, SqlExecutor } from '../../db/sqlClient.js';
import { tenantOf } from '../../domain/tenants.js';
import type { Workflow } from '../../domain/workflow/workflow.js';
import { isEventTrigger } from '../../nodes/triggerEvent.js';
import { isWebhookTrigger, webhookSecretOf } from '../../nodes/triggerWebhook.js';
import { WORKFLOW_STREAM_PREFIX, type WorkflowEvent } from '../../domain/workflow/workflowEvents.js';
import type { EventStore, RecordedEvent } from '../../eventstore/eventStore.js';
import { CheckpointedFeed } from '../feeds/checkpointedFeed.js';
import { syncSchedules } from './scheduleStore.js';

export interface TriggerCatalogOptions {
  store: EventStore;
  db: SqlClient;
  onError: (error: unknown) => void;
  /** A batch changed the schedules table (the scheduler may want to look earlier). */
  onSchedulesChanged?: () => void;
}

/**
 * Keeps the trigger tables (webhook routes, event listeners, schedules) in line with the latest
 * version of every workflow, by following the workflow streams. A version is applied once:
 * `trigger_workflow_versions` remembers the newest applied per workflow, so replays and several
 * processes following the same log change nothing twice, and never go back to an older version.
 */
export class TriggerCatalog {
  private readonly feed: CheckpointedFeed;

  constructor(private readonly options: TriggerCatalogOptions) {
    this.feed = new CheckpointedFeed({
      store: options.store,
      db: options.db,
      name: 'trigger-catalog',
      filter: { streamPrefixes: [WORKFLOW_STREAM_PREFIX] },
      handle: (events, checkpoint) => this.apply(events, checkpoint),
      onError: options.onError,
    });
  }

  start(): Promise<void> {
    return this.feed.start();
  }

  stop(): Promise<void> {
    return this.feed.stop();
  }

  /** Waits until every workflow change committed so far is in the tables. */
  caughtUp(): Promise<void> {
    return this.feed.caughtUp();
  }

  private async apply(events: RecordedEvent[], checkpoint: (tx: SqlExecutor) => Promise<void>): Promise<void> {
    const latest = new Map<string, WorkflowEvent['data']>();
    for (const event of events) {
      const { data } = event as unknown as WorkflowEvent;
      latest.set(data.workflow.id, data);
    }
    const schedulesChanged = await this.options.db.transaction(async (tx) => {
      let applied = false;
      for (const { workflow, at } of latest.values()) applied = (await applyVersion(tx, workflow, new Date(at))) || applied;
      await checkpoint(tx);
      return applied;
    });
    if (schedulesChanged) this.options.onSchedulesChanged?.();
  }
}

/** Applies a workflow version unless it or a newer one is applied already; true when applied. */
async function applyVersion(tx: SqlExecutor, workflow: Workflow, at: Date): Promise<boolean> {
  const { rows } = await tx.query(
    `INSERT INTO trigger_workflow_versions (workflow_id, version) VALUES ($1, $2)
     ON CONFLICT (workflow_id) DO UPDATE SET version = EXCLUDED.version WHERE trigger_workflow_versions.version < EXCLUDED.version
     RETURNING version`,
    [workflow.id, workflow.version],
  );
  if (rows.length === 0) return false;
  await replaceWebhookRoutes(tx, workflow);
  await replaceEventTriggers(tx, workflow);
  await syncSchedules(tx, workflow, at);
  return true;
}

/** A path another workflow of the tenant already routes keeps its older owner; validation refuses such duplicates anyway. */
async function replaceWebhookRoutes(tx: SqlExecutor, workflow: Workflow): Promise<void> {
  await tx.query('DELETE FROM webhook_routes WHERE workflow_id = $1', [workflow.id]);
  const nodes = workflow.nodes.filter(isWebhookTrigger);
  if (nodes.length === 0) return;
  await tx.query(
    `INSERT INTO webhook_routes (path, workflow_id, workflow_version, node_id, secret, tenant_id)
     SELECT path, $1, $2, node_id, secret, $6 FROM unnest($3::text[], $4::text[], $5::text[]) AS r(path, node_id, secret)
     ON CONFLICT (tenant_id, path) DO NOTHING`,
    [workflow.id, workflow.version, nodes.map((node) => String(node.parameters?.path)), nodes.map((node) => node.id), nodes.map(webhookSecretOf), tenantOf(workflow)],
  );
}

async function replaceEventTriggers(tx: SqlExecutor, workflow: Workflow): Promise<void> {
  await tx.query('DELETE FROM event_triggers WHERE workflow_id = $1', [workflow.id]);
  const nodes = workflow.nodes.filter(isEventTrigger);
  if (nodes.length === 0) return;
  await tx.query(
    `INSERT INTO event_triggers (workflow_id, node_id, workflow_version, event_name, source_workflow_id, tenant_id)
     SELECT $1, node_id, $2, event_name, source, $6 FROM unnest($3::text[], $4::text[], $5::text[]) AS r(node_id, event_name, source)`,
    [
      workflow.id,
      workflow.version,
      nodes.map((node) => node.id),
      nodes.map((node) => String(node.parameters?.event)),
      nodes.map((node) => (typeof node.parameters?.workflowId === 'string' ? node.parameters.workflowId : null)),
      tenantOf(workflow),
    ],
  );
}
