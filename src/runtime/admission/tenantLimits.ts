import type { SqlExecutor } from '../../db/sqlClient.js';

/** How long a tenant's limit is taken as read: a change made by another process counts after this. */
const LIMIT_TTL_MS = 5_000;

/**
 * Each tenant's maxConcurrentExecutions (`tenants.max_concurrent_executions`, null: none), read
 * at most once per LIMIT_TTL_MS per tenant so that a start costs no extra query; a change made
 * through this process (`changed`) counts at once.
 */
export class TenantLimits {
  private readonly known = new Map<string, { limit: number | null; readAt: number }>();

  constructor(
    private readonly db: SqlExecutor,
    private readonly now: () => number = Date.now,
  ) {}

  async of(tenantId: string): Promise<number | null> {
    const known = this.known.get(tenantId);
    if (known && this.now() - known.readAt < LIMIT_TTL_MS) return known.limit;
    const { rows } = await this.db.query<{ max_concurrent_executions: number | null }>('SELECT max_concurrent_executions FROM tenants WHERE id = $1', [tenantId]);
    const limit = rows[0]?.max_concurrent_executions ?? null;
    this.changed(tenantId, limit);
    return limit;
  }

  changed(tenantId: string, limit: number | null): void {
    this.known.set(tenantId, { limit, readAt: this.now() });
  }
}
