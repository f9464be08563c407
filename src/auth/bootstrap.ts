import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_TENANT } from '../domain/tenants.js';
import type { ApiKeyStore } from './apiKeyStore.js';

export interface BootstrapSettings {
  /** CASCADE_ADMIN_KEY. */
  adminKey: string | null;
  /** Set: PostgreSQL; unset: the embedded default, where the made key is also written to the data directory. */
  databaseUrl: string | null;
  dataDir: string;
}

/** Where the embedded default leaves the admin key it made, for `npm start` users to find. */
export const adminKeyPath = (dataDir: string): string => join(dataDir, 'admin-key');

const BOOTSTRAP_NAME = 'bootstrap admin';

/**
 * CASCADE_ADMIN_KEY: makes sure an ADMIN key of the tenant default with that value exists (a
 * revoked one stays revoked: revoking is how an operator retires it). Without it, on a database
 * with no key at all, makes one and hands it back to be shown once; with the embedded default it
 * is also written to <DATA_DIR>/admin-key (mode 0600). Answers the key made, or null.
 */
export async function bootstrapAdminKey(keys: ApiKeyStore, { adminKey, databaseUrl, dataDir }: BootstrapSettings): Promise<string | null> {
  if (adminKey !== null) {
    if ((await keys.findBySecret(adminKey)) === null) await keys.create({ name: BOOTSTRAP_NAME, roles: ['ADMIN'], tenantId: DEFAULT_TENANT, canViewPayloads: true }, adminKey);
    return null;
  }
  if (!(await keys.isEmpty())) return null;
  const { secret } = await keys.create({ name: BOOTSTRAP_NAME, roles: ['ADMIN'], tenantId: DEFAULT_TENANT, canViewPayloads: true });
  if (databaseUrl === null) await writeFile(adminKeyPath(dataDir), `${secret}\n`, { mode: 0o600 });
  return secret;
}
