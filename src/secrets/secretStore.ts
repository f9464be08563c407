import type { SqlClient } from '../db/sqlClient.js';
import { DomainError } from '../domain/errors.js';
import type { SecretKeys } from './secretKeys.js';

/** A name `$secrets.NAME` reaches as a plain path: a letter or `_`, then letters, digits and `_`. */
const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
export const MAX_SECRET_BYTES = 64 * 1024;
export const MAX_SECRETS_PER_TENANT = 1_000;

export interface SecretInfo {
  name: string;
  updatedAt: string;
}

interface SecretRow {
  name: string;
  key_id: string;
  iv: Buffer | Uint8Array;
  auth_tag: Buffer | Uint8Array;
  ciphertext: Buffer | Uint8Array;
  updated_at: Date | string;
}

const contextOf = (tenantId: string, name: string) => JSON.stringify([tenantId, name]);
const buffer = (bytes: Buffer | Uint8Array) => Buffer.from(bytes);

function checkName(name: string): void {
  if (!NAME_PATTERN.test(name)) throw new DomainError('BAD_USER_INPUT', 'a secret name is 1 to 128 letters, digits and _, not starting with a digit');
}

/**
 * The `secrets` table: values sealed with the current key (AES-256-GCM, the tenant and name
 * authenticated with it). Decrypted values live in memory only while an attempt resolves its
 * parameters; nothing here logs or returns them but `values`, which the runner alone calls.
 */
export class SecretStore {
  constructor(
    private readonly db: SqlClient,
    private readonly keys: SecretKeys | null,
  ) {}

  async set(tenantId: string, name: string, value: string, now = new Date()): Promise<SecretInfo> {
    checkName(name);
    if (Buffer.byteLength(value) > MAX_SECRET_BYTES) throw new DomainError('BAD_USER_INPUT', `a secret's value is at most ${MAX_SECRET_BYTES} bytes`);
    const sealed = this.sealer().seal(value, contextOf(tenantId, name));
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ count: number }>('SELECT count(*)::int AS count FROM secrets WHERE tenant_id = $1 AND name <> $2', [tenantId, name]);
      if (rows[0]!.count >= MAX_SECRETS_PER_TENANT) throw new DomainError('BAD_USER_INPUT', `a tenant holds at most ${MAX_SECRETS_PER_TENANT} secrets`);
      await tx.query(
        `INSERT INTO secrets (tenant_id, name, key_id, iv, auth_tag, ciphertext, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (tenant_id, name) DO UPDATE SET key_id = excluded.key_id, iv = excluded.iv, auth_tag = excluded.auth_tag,
           ciphertext = excluded.ciphertext, updated_at = excluded.updated_at`,
        [tenantId, name, sealed.keyId, sealed.iv, sealed.authTag, sealed.ciphertext, now],
      );
      return { name, updatedAt: now.toISOString() };
    });
  }

  /** The secret deleted, or null when there was none of that name. */
  async delete(tenantId: string, name: string): Promise<SecretInfo | null> {
    const { rows } = await this.db.query<SecretRow>('DELETE FROM secrets WHERE tenant_id = $1 AND name = $2 RETURNING name, updated_at', [tenantId, name]);
    return rows[0] ? info(rows[0]) : null;
  }

  async list(tenantId: string): Promise<SecretInfo[]> {
    const { rows } = await this.db.query<SecretRow>('SELECT name, updated_at FROM secrets WHERE tenant_id = $1 ORDER BY name', [tenantId]);
    return rows.map(info);
  }

  /** Every value of the tenant by name, decrypted: for `$secrets` while an attempt runs, nothing else. */
  async values(tenantId: string): Promise<Record<string, string>> {
    if (!this.keys) return {};
    const { rows } = await this.db.query<SecretRow>('SELECT name, key_id, iv, auth_tag, ciphertext FROM secrets WHERE tenant_id = $1', [tenantId]);
    const keys = this.keys;
    return Object.fromEntries(rows.map((row) => [row.name, keys.open(sealedOf(row), contextOf(tenantId, row.name))]));
  }

  /**
   * Seals every row not sealed with the current key again, with it. A row no key opens (written
   * with a key since dropped from the list, or tampered with) stays as it is and is named, so
   * that it does not stop the others from moving.
   */
  async reencrypt(): Promise<{ moved: number; unreadable: string[] }> {
    const keys = this.sealer();
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<SecretRow & { tenant_id: string }>('SELECT tenant_id, name, key_id, iv, auth_tag, ciphertext FROM secrets FOR UPDATE');
      const result = { moved: 0, unreadable: [] as string[] };
      for (const row of rows.filter((each) => !keys.isCurrent(each.key_id))) {
        const context = contextOf(row.tenant_id, row.name);
        let value: string;
        try {
          value = keys.open(sealedOf(row), context);
        } catch {
          result.unreadable.push(`${row.tenant_id}/${row.name}`);
          continue;
        }
        const sealed = keys.seal(value, context);
        await tx.query('UPDATE secrets SET key_id = $3, iv = $4, auth_tag = $5, ciphertext = $6 WHERE tenant_id = $1 AND name = $2', [
          row.tenant_id,
          row.name,
          sealed.keyId,
          sealed.iv,
          sealed.authTag,
          sealed.ciphertext,
        ]);
        result.moved++;
      }
      return result;
    });
  }

  private sealer(): SecretKeys {
    if (!this.keys) throw new DomainError('SECRETS_UNAVAILABLE', 'secrets need CASCADE_SECRETS_KEY on a server with DATABASE_URL (openssl rand -base64 32)');
    return this.keys;
  }
}

const info = (row: SecretRow): SecretInfo => ({ name: row.name, updatedAt: new Date(row.updated_at).toISOString() });
const sealedOf = (row: SecretRow) => ({ keyId: row.key_id, iv: buffer(row.iv), authTag: buffer(row.auth_tag), ciphertext: buffer(row.ciphertext) });
