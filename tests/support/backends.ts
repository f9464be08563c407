import { createPgliteClient } from '../../src/db/pgliteClient.js';
import { createPostgresClient } from '../../src/db/postgresClient.js';
import type { SqlClient } from '../../src/db/sqlClient.js';
import { createTestDatabase } from './testDatabase.js';

/** A fresh database on one of the two engines the product runs on, and how to get rid of it. */
export interface Backend {
  db: SqlClient;
  /** Its connection string, for another process (PostgreSQL only: PGlite lives in this one). */
  url?: string;
  dispose(): Promise<void>;
}

export const BACKENDS: Array<{ name: string; create(): Promise<Backend> }> = [
  {
    name: 'postgres',
    async create() {
      const database = await createTestDatabase();
      const db = createPostgresClient(database.url);
      return {
        db,
        url: database.url,
        async dispose() {
          await db.close();
          await database.drop();
        },
      };
    },
  },
  {
    name: 'pglite',
    async create() {
      const db = await createPgliteClient();
      return { db, dispose: () => db.close() };
    },
  },
];
