import { PGlite } from '@electric-sql/pglite';
import type { SqlClient, SqlExecutor } from './sqlClient.js';

export interface PgliteClient extends SqlClient {
  readonly kind: 'pglite';
  readonly pglite: PGlite;
}

/**
 * PGlite has a single connection. Its `query` takes the same mutex as `transaction`, so a query
 * issued elsewhere while a transaction is open waits for the commit instead of running inside
 * it. The flip side: calling the client (not `tx`) from inside a transaction deadlocks.
 */
export async function createPgliteClient(dataDir?: string): Promise<PgliteClient> {
  const pglite = await PGlite.create(dataDir);
  const executor = (target: Pick<PGlite, 'query'>): SqlExecutor => ({
    query: async <R>(text: string, params?: unknown[]) => ({ rows: (await target.query<R>(text, params)).rows }),
  });
  return {
    kind: 'pglite',
    pglite,
    ...executor(pglite),
    transaction: (fn) => pglite.transaction((tx) => fn(executor(tx))),
    async listen(channel, onNotify) {
      const unlisten = await pglite.listen(channel, onNotify);
      return () => unlisten();
    },
    close: () => pglite.close(),
  };
}
