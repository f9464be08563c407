-- Queued attempts of `external` nodes, waiting for a worker of their queue
-- (src/runtime/workQueue/workQueueStore.ts).
CREATE TABLE IF NOT EXISTS external_jobs (
  execution_id text NOT NULL,
  node_id text NOT NULL,
  attempt integer NOT NULL,
  queue text NOT NULL,
  available_at timestamptz NOT NULL,
  reserved_until timestamptz,
  PRIMARY KEY (execution_id, node_id)
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS external_jobs_queue ON external_jobs (queue, available_at);
