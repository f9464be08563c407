-- The engine's own outcome events (execution.completed, ...) ask whether any wait of any tenant
-- listens to their name before reading the ended execution: one index probe per name and batch.
CREATE INDEX IF NOT EXISTS waits_event_name ON waits (event_name);
