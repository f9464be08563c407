-- The runtime's subscription checkpoints, the executions it has not seen finish, and per
-- unfinished execution how many of its recoveries at start-up began and never ended
-- (src/runtime/processManager/runtimeStore.ts).
CREATE TABLE IF NOT EXISTS runtime_checkpoints (name text PRIMARY KEY, position text NOT NULL);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS runtime_active_executions (name text NOT NULL, execution_id text NOT NULL, PRIMARY KEY (name, execution_id));
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS runtime_recoveries (name text NOT NULL, execution_id text NOT NULL, unfinished integer NOT NULL, PRIMARY KEY (name, execution_id));
