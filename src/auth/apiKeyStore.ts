import { randomUUID } from 'node:crypto';
import type { SqlExecutor } from '../db/sqlClient.js';
import { hashApiKeySecret, newApiKeySecret } from './apiKeySecret.js';
import { REVOKED_KEYS_CHANNEL } from './keyRevocations.js';
import type { Role } from './identity.js';

/** A key as answered (DESIGN section 8 `ApiKey`): never its secret. */
export interface ApiKey {
  id: string;
  name: string;
  roles: Role[];
  tenantId: string;
  queues: string[] | null;
  canViewPayloads: boolean;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

export interface NewApiKey {
  name: string;
  roles: readonly Role[];
  tenantId: string;
  queues?: readonly string[] | null;
  canViewPayloads?: boolean | null;
  expiresAt?: string | null;
}

interface KeyRow {
  id: string;
  name: string;
  roles: Role[];
  tenant_id: string;
  queues: string[] | null;
  can_view_payloads: boolean;
  created_at: Date | string;
  expires_at: Date | string | null;
  revoked_at: Date | string | null;
}

const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());

const COLUMNS = 'id, name, roles, tenant_id, queues, can_view_payloads, created_at, expires_at, revoked_at';

function toKey(row: KeyRow): ApiKey {
  return {
    id: row.id,
    name: row.name,
    roles: row.roles,
    tenantId: row.tenant_id,
    queues: row.queues,
    canViewPayloads: row.can_view_payloads,
    createdAt: iso(row.created_at) ?? '',
    expiresAt: iso(row.expires_at),
    revokedAt: iso(row.revoked_at),
  };
}

/** The api_keys table (migration 0013): keys are made, listed per tenant, revoked, and looked up by their secret's hash. */
export class ApiKeyStore {
  constructor(private readonly db: SqlExecutor) {}

  /** A new key and its secret, the only time the secret exists outside the caller's hands. */
  async create(key: NewApiKey, secret: string = newApiKeySecret()): Promise<{ apiKey: ApiKey; secret: string }> {
    const { rows } = await this.db.query<KeyRow>(
      `INSERT INTO api_keys (id, tenant_id, name, secret_hash, roles, queues, can_view_payloads, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
      [randomUUID(), key.tenantId, key.name, hashApiKeySecret(secret), key.roles, key.queues ?? null, key.canViewPayloads ?? false, key.expiresAt ?? null],
    );
    return { apiKey: toKey(rows[0]!), secret };
  }

  /** Revokes a key of the tenant; null when the tenant has no such key. A revoked key stays revoked at its first time. */
  async revoke(tenantId: string, id: string): Promise<ApiKey | null> {
    // Announced in the same statement, so that other processes hear of it exactly when it holds.
    const { rows } = await this.db.query<KeyRow>(
      `WITH revoked AS (UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS})
       SELECT revoked.*, pg_notify($3, revoked.id) FROM revoked`,
      [tenantId, id, REVOKED_KEYS_CHANNEL],
    );
    return rows[0] ? toKey(rows[0]) : null;
  }

  async list(tenantId: string): Promise<ApiKey[]> {
    const { rows } = await this.db.query<KeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, id`, [tenantId]);
    return rows.map(toKey);
  }

  /** Keys of the tenant not yet revoked: what the per-tenant bound counts. */
  async countActive(tenantId: string): Promise<number> {
    const { rows } = await this.db.query<{ count: number }>('SELECT count(*)::int AS count FROM api_keys WHERE tenant_id = $1 AND revoked_at IS NULL', [tenantId]);
    return rows[0]?.count ?? 0;
  }

  /** The key a secret belongs to, revoked and expired ones included (the caller decides); null for an unknown secret. */
  async findBySecret(secret: string): Promise<ApiKey | null> {
    const { rows } = await this.db.query<KeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE secret_hash = $1`, [hashApiKeySecret(secret)]);
    return rows[0] ? toKey(rows[0]) : null;
  }

  /** Whether the database holds any key at all: the first start creates one when it holds none. */
  async isEmpty(): Promise<boolean> {
    const { rows } = await this.db.query('SELECT 1 FROM api_keys LIMIT 1');
    return rows.length === 0;
  }
}
