-- One row per execution: queued for, holding or done with a slot of its workflow's
-- maxConcurrent (src/runtime/admission/admissionStore.ts).
CREATE TABLE IF NOT EXISTS execution_slots (
  execution_id text PRIMARY KEY,
  workflow_id text NOT NULL,
  trigger_node_id text NOT NULL,
  trigger_type text NOT NULL,
  state text NOT NULL,
  confirmed boolean NOT NULL,
  max_concurrent integer,
  seq bigserial,
  version integer NOT NULL,
  updated_at timestamptz NOT NULL
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS execution_slots_workflow ON execution_slots (workflow_id, state, seq);
