import type { SqlClient } from '../db/sqlClient.js';
import type { EventStore } from '../eventstore/eventStore.js';
import { ProjectionRunner } from './projectionRunner.js';

const REBUILD_BATCH_SIZE = 5_000;

/**
 * Empties the read model and its checkpoints, then replays the whole log into it in large
 * batches. Each batch still commits with its checkpoint, so an interrupted rebuild resumes
 * where it stopped when the server starts. Readers see a partial read model meanwhile.
 * Rejects on the first failing batch instead of retrying it forever.
 */
export async function rebuildProjections(db: SqlClient, store: EventStore): Promise<void> {
  await db.query('TRUNCATE workflow, workflow_webhook, flow_execution, node_execution_state, execution_dependency, projection_checkpoints');
  let fail: (error: unknown) => void = () => {};
  const failed = new Promise<never>((_, reject) => (fail = reject));
  const runner = new ProjectionRunner({ db, store, batchSize: REBUILD_BATCH_SIZE, onError: (error) => fail(error) });
  await runner.start();
  try {
    await Promise.race([runner.caughtUp(), failed]);
  } finally {
    await runner.stop();
  }
}
