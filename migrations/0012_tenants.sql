-- Tenants (DESIGN section 8): everything a request reaches belongs to exactly one. The tenant
-- `default` holds what was stored before tenants existed, and the bootstrap admin key.
-- max_concurrent_executions: running executions of the tenant at once (null: no bound), FIFO like
-- the per-workflow limit.
CREATE TABLE IF NOT EXISTS tenants (
  id text PRIMARY KEY,
  name text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  max_concurrent_executions integer CHECK (max_concurrent_executions > 0)
);
--> statement-breakpoint
INSERT INTO tenants (id, name) VALUES ('default', 'default') ON CONFLICT (id) DO NOTHING;
