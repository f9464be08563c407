-- (workflow, idempotency key) -> the execution that key starts, and when the key was first used
-- (src/runtime/idempotency/idempotencyKeyStore.ts).
CREATE TABLE IF NOT EXISTS idempotency_keys (
  workflow_id text NOT NULL,
  key text NOT NULL,
  execution_id text NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (workflow_id, key)
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS idempotency_keys_created_at ON idempotency_keys (created_at);
