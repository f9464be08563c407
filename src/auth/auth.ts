import type { SqlExecutor } from '../db/sqlClient.js';
import { ApiKeyStore } from './apiKeyStore.js';
import { AuditLog } from './auditLog.js';
import { Authenticator } from './authenticator.js';
import { TenantStore } from './tenantStore.js';
import { jwtVerifier, type JwtSettings } from './jwtVerifier.js';

/** What the API authenticates, authorises and audits with, and the tenants it separates. */
export interface Auth {
  keys: ApiKeyStore;
  authenticator: Authenticator;
  audit: AuditLog;
  tenants: TenantStore;
}

export const NO_JWT: JwtSettings = { jwksUrl: null, secret: null, issuer: null, audience: null };

export function createAuth(db: SqlExecutor, jwt: JwtSettings, onError: (error: unknown) => void): Auth {
  const keys = new ApiKeyStore(db);
  const tenants = new TenantStore(db);
  const tenantExists = async (tenantId: string) => (await tenants.get(tenantId)) !== null;
  return { keys, authenticator: new Authenticator(keys, jwtVerifier(jwt), tenantExists), audit: new AuditLog(db, onError), tenants };
}
