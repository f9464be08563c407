-- The read model the projection runner derives from the event log (typed in
-- src/projections/schema.ts). IF NOT EXISTS: databases made before this migrator hold these
-- tables already, created by drizzle's migrations 0000-0002, in this final shape.
CREATE TABLE IF NOT EXISTS execution_dependency (
  execution_id text NOT NULL,
  node_id text NOT NULL,
  depends_on_node_id text NOT NULL,
  node_ordinal integer NOT NULL,
  depends_on_ordinal integer NOT NULL,
  CONSTRAINT execution_dependency_execution_id_node_id_depends_on_node_id_pk PRIMARY KEY (execution_id, node_id, depends_on_node_id)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS flow_execution (
  id text PRIMARY KEY NOT NULL,
  workflow_id text NOT NULL,
  workflow_version integer NOT NULL,
  status text NOT NULL,
  trigger_node_id text NOT NULL,
  trigger_type text NOT NULL,
  progress double precision NOT NULL,
  started_at timestamp with time zone NOT NULL,
  finished_at timestamp with time zone,
  duration_ms bigint,
  error text,
  error_code text,
  execution_path jsonb NOT NULL,
  total_nodes integer NOT NULL,
  completed_nodes integer NOT NULL,
  failed_nodes integer NOT NULL,
  rerun_of text,
  stream_version integer NOT NULL,
  updated_at timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS node_execution_state (
  execution_id text NOT NULL,
  node_id text NOT NULL,
  ordinal integer NOT NULL,
  status text NOT NULL,
  attempt integer NOT NULL,
  progress double precision NOT NULL,
  queued_at timestamp with time zone,
  started_at timestamp with time zone,
  finished_at timestamp with time zone,
  duration_ms bigint,
  error text,
  error_code text,
  skip_reason text,
  message text,
  input jsonb,
  output jsonb,
  output_name text,
  reused_from text,
  stream_version integer NOT NULL,
  CONSTRAINT node_execution_state_execution_id_node_id_pk PRIMARY KEY (execution_id, node_id)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS projection_checkpoints (
  name text PRIMARY KEY NOT NULL,
  position text NOT NULL
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS workflow (
  id text PRIMARY KEY NOT NULL,
  name text NOT NULL,
  version integer NOT NULL,
  definition jsonb NOT NULL,
  created_at timestamp with time zone NOT NULL,
  updated_at timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS execution_dependency_upstream ON execution_dependency USING btree (execution_id, depends_on_node_id);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS flow_execution_workflow_started ON flow_execution USING btree (workflow_id, started_at);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS flow_execution_status ON flow_execution USING btree (status);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS flow_execution_started ON flow_execution USING btree (started_at, id);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS flow_execution_finished ON flow_execution USING btree (finished_at);
