ALTER TABLE "node_execution_state" ADD COLUMN "reused_from" text;--> statement-breakpoint
CREATE INDEX "flow_execution_finished" ON "flow_execution" USING btree ("finished_at");