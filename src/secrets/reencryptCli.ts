import { ConfigError, loadConfig } from '../config.js';
import { openCliConnections } from '../projections/cliConnections.js';
import { loadSecretKeys } from './secretsKeyFile.js';
import { SecretStore } from './secretStore.js';

/**
 * `npm run secrets:reencrypt`: after a rotation (CASCADE_SECRETS_KEY=new,old), seals every secret
 * with the first key, so that the old one can leave the list. Safe beside running servers: the rows
 * are locked and replaced in one transaction, and any key of the list opens them meanwhile.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const { db, close } = await openCliConnections(config, 'Re-encrypting secrets in', { migrate: true });
  try {
    const { moved, unreadable } = await new SecretStore(db, await loadSecretKeys(config)).reencrypt();
    console.log(`${moved} secrets re-encrypted with the first key of CASCADE_SECRETS_KEY.`);
    if (unreadable.length > 0) {
      console.error(`No key of CASCADE_SECRETS_KEY opens these (left as they are; set them again): ${unreadable.join(', ')}`);
      process.exitCode = 1;
    }
  } finally {
    await close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : `Re-encryption failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
