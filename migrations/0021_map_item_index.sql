-- A map node's child knows its item (Execution.itemIndex): the read model carries the item index
-- its ExecutionStarted event records, and the attempt of the parent node that started it, so that
-- one node's children list by attempt, then by item. item_index is null for executions that are
-- not map items; both are null in rows written before this (until a rebuild fills parent_attempt
-- from the events; children started before this have no index in their events), and those rows
-- keep listing by start.
ALTER TABLE flow_execution ADD COLUMN IF NOT EXISTS parent_attempt integer;
--> statement-breakpoint
ALTER TABLE flow_execution ADD COLUMN IF NOT EXISTS item_index integer;
--> statement-breakpoint
-- The order ReadModel.listChildren lists one node's children in (null: 0 and -1, so that a page's
-- start compares).
CREATE INDEX IF NOT EXISTS flow_execution_parent_node ON flow_execution (parent_execution_id, parent_node_id, coalesce(parent_attempt, 0), coalesce(item_index, -1), started_at, id);
