import type { Auth } from '../auth/auth.js';
import type { SqlClient } from '../db/sqlClient.js';
import type { EventStore } from '../eventstore/eventStore.js';
import type { ProjectionRunner } from '../projections/projectionRunner.js';
import type { ReadModel } from '../projections/readModel.js';
import type { Engine } from '../runtime/engine.js';
import type { SecretStore } from '../secrets/secretStore.js';

/** What the API serves from: the write side (engine, store), the read side, and the database. */
export interface ApiDeps {
  engine: Engine;
  readModel: ReadModel;
  projections: ProjectionRunner;
  store: EventStore;
  /** The same store the engine reads `$secrets` from. */
  secrets: SecretStore;
  /** API keys, the authenticator and the audit log (src/auth). */
  auth: Auth;
  /** The health check; a WORKER key's queue check. */
  db: SqlClient;
}
