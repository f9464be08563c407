import type { SqlClient } from '../db/sqlClient.js';
import type { EventStore } from '../eventstore/eventStore.js';
import { rebuildOnline } from './onlineRebuild.js';
import { replayLog } from './replayLog.js';
import { READ_MODEL_TABLES } from './schema.js';

const REBUILD_BATCH_SIZE = 5_000;

export interface RebuildOptions {
  /** Build beside the live tables while they keep serving, then swap (see onlineRebuild.ts). */
  online?: boolean;
  batchSize?: number;
}

/**
 * Replays the whole log into the read model in large batches. Offline (the default): empties the
 * tables and their checkpoints first, so readers see a partial read model meanwhile; each batch
 * commits with its checkpoint, so an interrupted rebuild resumes where it stopped when the server
 * starts. Rejects on the first failing batch.
 */
export async function rebuildProjections(db: SqlClient, store: EventStore, options: RebuildOptions = {}): Promise<void> {
  const batchSize = options.batchSize ?? REBUILD_BATCH_SIZE;
  if (options.online) return rebuildOnline(db, store, batchSize);
  await db.query(`TRUNCATE ${READ_MODEL_TABLES.join(', ')}`);
  await replayLog(db, store, { batchSize });
}
