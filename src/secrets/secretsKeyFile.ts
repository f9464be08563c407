import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { newSecretKey, SecretKeys } from './secretKeys.js';

export interface SecretKeySource {
  /** CASCADE_SECRETS_KEY. */
  secretsKey: string | null;
  /** Set: PostgreSQL, where a key made here would be lost with the machine; unset: the embedded default. */
  databaseUrl: string | null;
  dataDir: string;
}

/** Where the embedded default keeps the key it made, beside the data it protects. */
export const secretsKeyPath = (dataDir: string): string => join(dataDir, 'secrets-key');

/**
 * The keys: CASCADE_SECRETS_KEY when set; on the embedded default, the key of the data directory
 * (made on first use, mode 0600); else none, and secrets are unavailable (SECRETS_UNAVAILABLE).
 */
export async function loadSecretKeys({ secretsKey, databaseUrl, dataDir }: SecretKeySource): Promise<SecretKeys | null> {
  if (secretsKey) return new SecretKeys(secretsKey);
  if (databaseUrl) return null;
  const path = secretsKeyPath(dataDir);
  const existing = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (existing !== null) return new SecretKeys(existing.trim());
  const made = newSecretKey();
  // 'wx': two processes starting at once on one directory keep the first one's key.
  await writeFile(path, `${made}\n`, { mode: 0o600, flag: 'wx' }).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  return new SecretKeys((await readFile(path, 'utf8')).trim());
}
