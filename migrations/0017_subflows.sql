-- Child executions of `workflow` and `map` nodes (src/runtime/subflows/childStore.ts): one row
-- per node attempt that starts children, one row per child (started or waiting for a slot), so
-- that a map over 10,000 items holds none of them in memory. Child rows go once the attempt is settled.
CREATE TABLE IF NOT EXISTS subflow_runs (
  execution_id text NOT NULL,
  node_id text NOT NULL,
  attempt integer NOT NULL,
  workflow_id text NOT NULL,
  workflow_version integer NOT NULL,
  trigger_node_id text NOT NULL,
  depth integer NOT NULL,
  user_id text,
  total integer NOT NULL,
  concurrency integer NOT NULL,
  keep_failures boolean NOT NULL,
  collect text NOT NULL,
  running integer NOT NULL DEFAULT 0,
  done integer NOT NULL DEFAULT 0,
  next_index integer NOT NULL DEFAULT 0,
  status text NOT NULL DEFAULT 'RUNNING',
  error text,
  error_code text,
  retryable boolean,
  settled boolean NOT NULL DEFAULT false,
  PRIMARY KEY (execution_id, node_id, attempt)
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS subflow_runs_unsettled ON subflow_runs (settled, status);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS subflow_children (
  execution_id text NOT NULL,
  node_id text NOT NULL,
  attempt integer NOT NULL,
  item_index integer NOT NULL,
  child_execution_id text NOT NULL,
  trigger_data jsonb,
  status text NOT NULL DEFAULT 'PENDING',
  result jsonb,
  PRIMARY KEY (execution_id, node_id, attempt, item_index)
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS subflow_children_child ON subflow_children (child_execution_id);
--> statement-breakpoint
-- The read model's link from a child execution to the node attempt that started it.
ALTER TABLE flow_execution ADD COLUMN IF NOT EXISTS parent_execution_id text;
--> statement-breakpoint
ALTER TABLE flow_execution ADD COLUMN IF NOT EXISTS parent_node_id text;
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS flow_execution_parent ON flow_execution (parent_execution_id, started_at, id);
