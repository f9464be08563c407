-- Every durable timer of the runtime, leased by the process that fires it
-- (src/runtime/timers/timerStore.ts).
CREATE TABLE IF NOT EXISTS timers (
  id text PRIMARY KEY,
  kind text NOT NULL,
  execution_id text NOT NULL,
  node_id text NOT NULL,
  attempt integer NOT NULL,
  due_at timestamptz NOT NULL,
  locked_until timestamptz
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS timers_due_at ON timers (due_at);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS timers_node ON timers (execution_id, node_id);
