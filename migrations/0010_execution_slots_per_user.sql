-- The per-user limit (settings.maxConcurrentExecutionsPerUser): rows written before it have neither.
ALTER TABLE execution_slots ADD COLUMN IF NOT EXISTS user_id text, ADD COLUMN IF NOT EXISTS max_per_user integer;
