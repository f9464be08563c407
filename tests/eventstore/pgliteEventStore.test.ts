import { createPgliteClient } from '../../src/db/pgliteClient.js';
import { eventStoreContract } from './eventStoreContract.js';
import { sqlSubject } from './sqlSubject.js';

eventStoreContract('PostgreSQL event store on PGlite', async () => sqlSubject(await createPgliteClient()), {
  // One connection: transactions run one after another, so a smaller load proves as much.
  concurrentEvents: 800,
});
