import pg from 'pg';
import { createTestDatabase } from '../tests/support/testDatabase.js';
import { POOL_SIZE } from './support.js';

/**
 * Raw PostgreSQL: single-row inserts into a table shaped like the event table, each its own
 * commit, from as many concurrent clients as the engine's pool has. Every other figure is
 * divided by this one, since the machine's speed drifts between runs.
 */
export async function baselineCommitsPerSecond(durationMs = 5_000): Promise<number> {
  const database = await createTestDatabase();
  const pool = new pg.Pool({ connectionString: database.url, max: POOL_SIZE });
  // Dropping the database may still find a connection that end() is closing: not an error here.
  pool.on('error', () => {});
  try {
    await pool.query(`CREATE TABLE events (
      global_position bigserial PRIMARY KEY, transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
      stream_id text NOT NULL, stream_version integer NOT NULL, event_id text NOT NULL, type text NOT NULL,
      data jsonb NOT NULL, metadata jsonb NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (stream_id, stream_version), UNIQUE (stream_id, event_id))`);
    let commits = 0;
    const deadline = Date.now() + durationMs;
    const begun = performance.now();
    await Promise.all(
      Array.from({ length: POOL_SIZE }, async (_, client) => {
        for (let version = 1; Date.now() < deadline; version++) {
          await pool.query('INSERT INTO events (stream_id, stream_version, event_id, type, data, metadata) VALUES ($1, $2, $3, $4, $5, $6)', [
            `s-${client}`,
            version,
            `e-${client}-${version}`,
            'NodeCompleted',
            '{"nodeId":"n1","output":{}}',
            '{"correlationId":"x"}',
          ]);
          commits += 1;
        }
      }),
    );
    return commits / ((performance.now() - begun) / 1000);
  } finally {
    await pool.end();
    await database.drop();
  }
}
