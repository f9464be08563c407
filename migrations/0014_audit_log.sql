-- The audit log (DESIGN section 8): append-only, no API changes or deletes a row. One row per
-- mutation (accepted or refused) and per refused request. Never a secret's value or a key's secret.
CREATE TABLE IF NOT EXISTS audit_log (
  seq bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  actor text NOT NULL,
  tenant_id text NOT NULL,
  action text NOT NULL,
  target_ids text[] NOT NULL DEFAULT '{}',
  outcome text NOT NULL,
  request_id text
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS audit_log_tenant ON audit_log (tenant_id, seq);
