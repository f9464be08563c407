import type { SqlExecutor } from '../db/sqlClient.js';

/** The `payloads` table (migration 0020): one row per tenant and content hash, written once. */
export class PayloadStore {
  constructor(private readonly db: SqlExecutor) {}

  /** A second write of the same content is nothing: the row is never rewritten. */
  /** `json` as UTF-8 bytes: sent as they are (a text parameter in binary format), not copied into a string. */
  async put(tenantId: string, hash: string, bytes: number, json: Buffer): Promise<void> {
    await this.db.query('INSERT INTO payloads (tenant_id, hash, bytes, data) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [tenantId, hash, bytes, json]);
  }

  /** The stored JSON text, or null when there is no such row. */
  async get(tenantId: string, hash: string): Promise<string | null> {
    const { rows } = await this.db.query<{ data: string }>('SELECT data FROM payloads WHERE tenant_id = $1 AND hash = $2', [tenantId, hash]);
    return rows[0]?.data ?? null;
  }
}
