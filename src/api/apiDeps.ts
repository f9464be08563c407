import type { SqlClient } from '../db/sqlClient.js';
import type { EventStore } from '../eventstore/eventStore.js';
import type { ProjectionRunner } from '../projections/projectionRunner.js';
import type { ReadModel } from '../projections/readModel.js';
import type { Engine } from '../runtime/engine.js';

/** What the API serves from: the write side (engine, store), the read side, and the database. */
export interface ApiDeps {
  engine: Engine;
  readModel: ReadModel;
  projections: ProjectionRunner;
  store: EventStore;
  /** Only for the health check. */
  db: SqlClient;
}
