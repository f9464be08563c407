import type { SqlExecutor } from '../../db/sqlClient.js';
import type { TriggerCatalog } from './triggerCatalog.js';

export interface WebhookRoute {
  workflowId: string;
  workflowVersion: number;
  nodeId: string;
  /** Present: calls must be signed with it. */
  secret: string | null;
}

interface Row {
  path: string;
  workflow_id: string;
  workflow_version: number;
  node_id: string;
  secret: string | null;
}

/**
 * Webhook paths of the latest workflow versions (kept in `webhook_routes` by the TriggerCatalog):
 * which trigger a POST to a tenant's webhook path starts, and, for validation, which paths are taken.
 */
export class WebhookRegistry {
  constructor(
    private readonly db: SqlExecutor,
    private readonly catalog: TriggerCatalog,
  ) {}

  /**
   * A known path is answered at once; an unknown one after the catalog caught up, so that a
   * workflow created a moment ago (maybe by another process) is found. A changed secret or a
   * moved path takes effect as soon as the catalog has the new version (milliseconds).
   */
  async resolve(tenantId: string, path: string): Promise<WebhookRoute | null> {
    const known = await this.find(tenantId, path);
    if (known) return known;
    await this.catalog.caughtUp();
    return this.find(tenantId, path);
  }

  /** Path -> owning workflow of the tenant, except `excludingWorkflowId`'s: the WorkflowCommandHandler's `webhookPaths` lookup (paths are unique per tenant). */
  async pathsInUse(excludingWorkflowId: string, tenantId: string): Promise<Map<string, string>> {
    await this.catalog.caughtUp();
    const { rows } = await this.db.query<Row>('SELECT path, workflow_id FROM webhook_routes WHERE tenant_id = $1 AND workflow_id <> $2', [tenantId, excludingWorkflowId]);
    return new Map(rows.map((row) => [row.path, row.workflow_id]));
  }

  private async find(tenantId: string, path: string): Promise<WebhookRoute | null> {
    const { rows } = await this.db.query<Row>('SELECT * FROM webhook_routes WHERE tenant_id = $1 AND path = $2', [tenantId, path]);
    const row = rows[0];
    return row ? { workflowId: row.workflow_id, workflowVersion: row.workflow_version, nodeId: row.node_id, secret: row.secret } : null;
  }
}
