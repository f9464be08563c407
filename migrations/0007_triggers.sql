-- What the trigger sources keep, derived from the latest version of every workflow
-- (src/runtime/triggers/triggerCatalog.ts), plus the scheduler's own state: the next fire time of
-- every schedule and the firings recorded but not yet started (an outbox, so that a crash loses
-- no firing).
CREATE TABLE IF NOT EXISTS trigger_workflow_versions (workflow_id text PRIMARY KEY, version integer NOT NULL);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS webhook_routes (
  path text PRIMARY KEY,
  workflow_id text NOT NULL,
  workflow_version integer NOT NULL,
  node_id text NOT NULL,
  secret text
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS webhook_routes_workflow ON webhook_routes (workflow_id);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS event_triggers (
  workflow_id text NOT NULL,
  node_id text NOT NULL,
  workflow_version integer NOT NULL,
  event_name text NOT NULL,
  -- The trigger's `workflowId` parameter: only events whose data.workflowId is this one.
  source_workflow_id text,
  PRIMARY KEY (workflow_id, node_id)
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS event_triggers_event ON event_triggers (event_name);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS schedules (
  workflow_id text NOT NULL,
  node_id text NOT NULL,
  cron text NOT NULL,
  timezone text NOT NULL,
  next_fire_at timestamptz,
  workflow_version integer NOT NULL,
  PRIMARY KEY (workflow_id, node_id)
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS schedules_due ON schedules (next_fire_at);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS schedule_firings (
  execution_id text PRIMARY KEY,
  workflow_id text NOT NULL,
  node_id text NOT NULL,
  workflow_version integer NOT NULL,
  scheduled_at timestamptz NOT NULL,
  fired_at timestamptz NOT NULL
);
