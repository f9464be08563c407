-- Tenant isolation (DESIGN section 8): every row a request can reach names its tenant. Rows from
-- before this migration (and events without a tenantId) belong to `default`: nothing is lost.
-- The indexes serve the per-tenant lists and counts, webhook routing and job claims.
ALTER TABLE workflow ADD COLUMN IF NOT EXISTS tenant_id text NOT NULL DEFAULT 'default';
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS workflow_tenant_created ON workflow (tenant_id, created_at, id);
--> statement-breakpoint
ALTER TABLE flow_execution ADD COLUMN IF NOT EXISTS tenant_id text NOT NULL DEFAULT 'default';
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS flow_execution_tenant_started ON flow_execution (tenant_id, started_at, id);
--> statement-breakpoint
-- A webhook path is unique per tenant: /webhooks/<path> is the tenant default's, and
-- /tenants/<tenant>/webhooks/<path> any tenant's.
ALTER TABLE webhook_routes ADD COLUMN IF NOT EXISTS tenant_id text NOT NULL DEFAULT 'default';
--> statement-breakpoint
ALTER TABLE webhook_routes DROP CONSTRAINT IF EXISTS webhook_routes_pkey;
--> statement-breakpoint
ALTER TABLE webhook_routes ADD CONSTRAINT webhook_routes_pkey PRIMARY KEY (tenant_id, path);
--> statement-breakpoint
ALTER TABLE event_triggers ADD COLUMN IF NOT EXISTS tenant_id text NOT NULL DEFAULT 'default';
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS event_triggers_tenant_event ON event_triggers (tenant_id, event_name);
--> statement-breakpoint
ALTER TABLE schedules ADD COLUMN IF NOT EXISTS tenant_id text NOT NULL DEFAULT 'default';
--> statement-breakpoint
ALTER TABLE external_jobs ADD COLUMN IF NOT EXISTS tenant_id text NOT NULL DEFAULT 'default';
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS external_jobs_tenant_queue ON external_jobs (tenant_id, queue, available_at);
--> statement-breakpoint
-- The per-tenant maxConcurrentExecutions (tenants.max_concurrent_executions) queues across the
-- tenant's workflows: admission reads a tenant's active slots in start order.
ALTER TABLE execution_slots ADD COLUMN IF NOT EXISTS tenant_id text NOT NULL DEFAULT 'default';
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS execution_slots_tenant ON execution_slots (tenant_id, state, seq);
