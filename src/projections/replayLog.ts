import type { SqlClient } from '../db/sqlClient.js';
import type { EventStore } from '../eventstore/eventStore.js';
import { ProjectionRunner } from './projectionRunner.js';

export interface ReplayOptions {
  batchSize: number;
  /** Where the tables are written (default: the search path, i.e. the live read model). */
  schema?: string;
}

/**
 * Projects the log from the tables' own checkpoint up to everything committed by now, then stops.
 * Rejects on the first failing batch instead of retrying it forever, as a runner would.
 */
export async function replayLog(db: SqlClient, store: EventStore, options: ReplayOptions): Promise<void> {
  let fail: (error: unknown) => void = () => {};
  const failed = new Promise<never>((_, reject) => (fail = reject));
  const runner = new ProjectionRunner({ db, store, ...options, onError: (error) => fail(error) });
  await runner.start();
  try {
    await Promise.race([runner.caughtUp(), failed]);
  } finally {
    await runner.stop();
  }
}
