import type { SqlClient } from '../db/sqlClient.js';
import type { EventStore } from '../eventstore/eventStore.js';
import { loadCheckpoint } from '../eventstore/checkpoints.js';
import { READ_MODEL } from './projectionRunner.js';
import { replayLog } from './replayLog.js';
import { createShadowTables, dropShadowTables, SHADOW_SCHEMA, swapInShadow } from './shadowSchema.js';

/** A live projection that commits a batch between every catch-up and swap this many times in a row is too busy. */
const MAX_SWAP_ATTEMPTS = 50;
const DEADLOCK_DETECTED = '40P01';

/**
 * Rebuilds the read model while it keeps serving: the log is replayed into shadow tables, which
 * then take the live tables' place at once (see swapInShadow). Each try notes the live
 * checkpoint, brings the shadow up to everything committed since, and swaps only if the live
 * projection committed nothing meanwhile; otherwise the shadow catches up on that and tries again.
 */
export async function rebuildOnline(db: SqlClient, store: EventStore, batchSize: number): Promise<void> {
  await createShadowTables(db);
  try {
    for (let attempt = 1; attempt <= MAX_SWAP_ATTEMPTS; attempt++) {
      const live = await loadCheckpoint(db, 'projection_checkpoints', READ_MODEL);
      await replayLog(db, store, { batchSize, schema: SHADOW_SCHEMA });
      if (await swapInShadow(db, live).catch(unlessDeadlock)) return;
    }
    throw new Error(`the live projection kept committing: no quiet moment to swap in the rebuilt read model after ${MAX_SWAP_ATTEMPTS} tries`);
  } catch (error) {
    await dropShadowTables(db);
    throw error;
  }
}

/** PostgreSQL broke a lock cycle with a reader or writer by aborting the swap: try again. */
function unlessDeadlock(error: unknown): false {
  if ((error as { code?: unknown }).code === DEADLOCK_DETECTED) return false;
  throw error;
}
