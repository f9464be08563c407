-- Webhook routing reads webhook_routes (0007); the read model's copy of the routes was written
-- and never read. Databases from before this migrator also hold drizzle's own migration log,
-- which schema_migrations replaces.
DROP TABLE IF EXISTS workflow_webhook;
--> statement-breakpoint
DROP SCHEMA IF EXISTS drizzle CASCADE;
