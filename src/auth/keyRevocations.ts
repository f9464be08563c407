import type { SqlClient } from '../db/sqlClient.js';
import type { Authenticator } from './authenticator.js';

/** Where a revocation is announced, in the statement that revokes (ApiKeyStore.revoke). */
export const REVOKED_KEYS_CHANNEL = 'cascade_api_keys';

/**
 * Every process drops a key revoked through any other at once, and closes what it opened, instead
 * of trusting its cache for up to 30 s. A notification lost while the LISTEN connection was down
 * falls back to that cache; a LISTEN that cannot start is logged, not fatal.
 */
export async function followRevocations(db: SqlClient, authenticator: Authenticator, onError: (error: unknown) => void): Promise<() => Promise<void>> {
  try {
    return await db.listen(REVOKED_KEYS_CHANNEL, (keyId) => authenticator.revoked(keyId));
  } catch (error) {
    onError(error);
    return async () => {};
  }
}
