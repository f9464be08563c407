-- Secrets, encrypted with AES-256-GCM (src/secrets/secretStore.ts): the value never lands in a
-- row in the clear. key_id names the CASCADE_SECRETS_KEY that encrypted it, so that a rotated key
-- list still decrypts the rows the old key wrote, until `npm run secrets:reencrypt`.
CREATE TABLE IF NOT EXISTS secrets (
  tenant_id text NOT NULL,
  name text NOT NULL,
  key_id text NOT NULL,
  iv bytea NOT NULL,
  auth_tag bytea NOT NULL,
  ciphertext bytea NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, name)
);
