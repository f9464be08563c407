-- API keys (DESIGN section 8): only the SHA-256 of a key's secret is kept; the secret is shown
-- once, at creation. A revoked key keeps its row (revoked_at), so that the audit log's actors
-- stay resolvable.
CREATE TABLE IF NOT EXISTS api_keys (
  id text PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES tenants (id),
  name text NOT NULL,
  secret_hash text NOT NULL UNIQUE,
  roles text[] NOT NULL,
  queues text[],
  can_view_payloads boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  revoked_at timestamptz
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS api_keys_tenant ON api_keys (tenant_id, created_at);
