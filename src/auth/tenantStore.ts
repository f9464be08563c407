import { randomUUID } from 'node:crypto';
import type { SqlExecutor } from '../db/sqlClient.js';

/** A tenant as answered (DESIGN section 8 `Tenant`). */
export interface Tenant {
  id: string;
  name: string;
  createdAt: string;
  /** Running executions of the tenant at once; null: no bound. */
  maxConcurrentExecutions: number | null;
}

interface TenantRow {
  id: string;
  name: string;
  created_at: Date | string;
  max_concurrent_executions: number | null;
}

const COLUMNS = 'id, name, created_at, max_concurrent_executions';

const toTenant = (row: TenantRow): Tenant => ({
  id: row.id,
  name: row.name,
  createdAt: new Date(row.created_at).toISOString(),
  maxConcurrentExecutions: row.max_concurrent_executions,
});

/** The `tenants` table (migration 0012): the tenant `default` is there from the start. */
export class TenantStore {
  constructor(private readonly db: SqlExecutor) {}

  /** A new tenant with a random id; null when the name is taken. */
  async create(name: string): Promise<Tenant | null> {
    const { rows } = await this.db.query<TenantRow>(`INSERT INTO tenants (id, name) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING ${COLUMNS}`, [randomUUID(), name]);
    return rows[0] ? toTenant(rows[0]) : null;
  }

  async get(id: string): Promise<Tenant | null> {
    const { rows } = await this.db.query<TenantRow>(`SELECT ${COLUMNS} FROM tenants WHERE id = $1`, [id]);
    return rows[0] ? toTenant(rows[0]) : null;
  }

  /** Oldest first. */
  async list(): Promise<Tenant[]> {
    const { rows } = await this.db.query<TenantRow>(`SELECT ${COLUMNS} FROM tenants ORDER BY created_at, id`);
    return rows.map(toTenant);
  }

  async count(): Promise<number> {
    const { rows } = await this.db.query<{ count: number }>('SELECT count(*)::int AS count FROM tenants');
    return rows[0]!.count;
  }

  /** null when there is no such tenant. */
  async setMaxConcurrentExecutions(id: string, limit: number | null): Promise<Tenant | null> {
    const { rows } = await this.db.query<TenantRow>(`UPDATE tenants SET max_concurrent_executions = $2 WHERE id = $1 RETURNING ${COLUMNS}`, [id, limit]);
    return rows[0] ? toTenant(rows[0]) : null;
  }
}
