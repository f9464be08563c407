import type { SqlExecutor } from '../db/sqlClient.js';
import { ApiError } from '../api/errors.js';

/** One line of the audit log (DESIGN section 8 `AuditEntry`). */
export interface AuditEntry {
  at: string;
  actor: string;
  tenantId: string;
  action: string;
  targetIds: string[];
  /** OK, or the error code the request was refused with. */
  outcome: string;
  requestId: string | null;
}

export interface AuditQuery {
  first?: number | null;
  after?: string | null;
  actor?: string | null;
  action?: string | null;
  since?: string | null;
}

export const MAX_AUDIT_PAGE = 500;
const DEFAULT_AUDIT_PAGE = 100;
/** Entries waiting for their insert at most; past it the oldest are written first, not dropped. */
const BATCH = 500;

interface AuditRow {
  seq: string;
  at: Date | string;
  actor: string;
  tenant_id: string;
  action: string;
  target_ids: string[];
  outcome: string;
  request_id: string | null;
}

type Pending = Omit<AuditEntry, 'at'>;

/**
 * The audit_log table (migration 0014), append-only. Entries are written in batches: what one
 * turn of the event loop records goes in as one INSERT, so that a mutation costs no round trip
 * of its own. `flushed()` waits for what was recorded so far.
 */
export class AuditLog {
  private pending: Pending[] = [];
  private writing: Promise<void> = Promise.resolve();
  private scheduled = false;

  constructor(
    private readonly db: SqlExecutor,
    private readonly onError: (error: unknown) => void,
  ) {}

  record(entry: Pending): void {
    this.pending.push(entry);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.writing = this.writing.then(() => this.writeAll());
    });
  }

  async flushed(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    await this.writing;
  }

  private async writeAll(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, BATCH);
      const params: unknown[] = [];
      const values = batch.map((entry) => {
        params.push(entry.actor, entry.tenantId, entry.action, entry.targetIds, entry.outcome, entry.requestId);
        const n = params.length;
        return `($${n - 5}, $${n - 4}, $${n - 3}, $${n - 2}, $${n - 1}, $${n})`;
      });
      await this.db.query(`INSERT INTO audit_log (actor, tenant_id, action, target_ids, outcome, request_id) VALUES ${values.join(', ')}`, params).catch(this.onError);
    }
  }

  /** A page of the tenant's entries, oldest first; `after` is the previous page's endCursor. */
  async page(tenantId: string, query: AuditQuery) {
    const first = query.first ?? DEFAULT_AUDIT_PAGE;
    if (first < 1 || first > MAX_AUDIT_PAGE) throw new ApiError('BAD_USER_INPUT', `first must be between 1 and ${MAX_AUDIT_PAGE}, got ${first}`);
    if (query.after && !/^\d{1,18}$/.test(query.after)) throw new ApiError('BAD_USER_INPUT', `after must be a cursor from pageInfo.endCursor, got ${JSON.stringify(query.after)}`);
    if (query.since && Number.isNaN(Date.parse(query.since))) throw new ApiError('BAD_USER_INPUT', `since must be an ISO-8601 timestamp, got ${JSON.stringify(query.since)}`);
    const filters = ['tenant_id = $1'];
    const params: unknown[] = [tenantId];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      filters.push(sql.replace('?', `$${params.length}`));
    };
    if (query.actor) add('actor = ?', query.actor);
    if (query.action) add('action = ?', query.action);
    if (query.since) add('at >= ?', new Date(query.since).toISOString());
    const where = filters.join(' AND ');
    const total = await this.db.query<{ count: number }>(`SELECT count(*)::int AS count FROM audit_log WHERE ${where}`, params);
    if (query.after) add('seq > ?', query.after);
    const { rows } = await this.db.query<AuditRow>(
      `SELECT seq::text AS seq, at, actor, tenant_id, action, target_ids, outcome, request_id FROM audit_log WHERE ${filters.join(' AND ')} ORDER BY seq LIMIT ${first + 1}`,
      params,
    );
    const nodes = rows.slice(0, first);
    return {
      nodes: nodes.map((row) => ({
        at: new Date(row.at).toISOString(),
        actor: row.actor,
        tenantId: row.tenant_id,
        action: row.action,
        targetIds: row.target_ids,
        outcome: row.outcome,
        requestId: row.request_id,
      })),
      totalCount: total.rows[0]?.count ?? 0,
      pageInfo: { endCursor: nodes.at(-1)?.seq ?? null, hasNextPage: rows.length > first },
    };
  }
}
