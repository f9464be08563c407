-- Started attempts of wait-run nodes (`wait`, `approval`), one row each until they settle
-- (src/runtime/waits/waitStore.ts): emitEvent finds the waits of its name through the index, so
-- that waiting holds nothing in memory, however many executions wait.
CREATE TABLE IF NOT EXISTS waits (
  execution_id text NOT NULL,
  node_id text NOT NULL,
  attempt integer NOT NULL,
  tenant_id text NOT NULL,
  event_name text,
  match text,
  PRIMARY KEY (execution_id, node_id)
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS waits_event ON waits (tenant_id, event_name, execution_id, node_id);
