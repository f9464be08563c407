import type { SqlExecutor } from '../../src/db/sqlClient.js';
import type { NodeDefinition, WorkflowDefinition } from '../../src/domain/workflow/workflow.js';
import { ProjectionRunner, type ProjectionRunnerOptions } from '../../src/projections/projectionRunner.js';
import { ReadModel } from '../../src/projections/readModel.js';
import type { Backend } from '../support/backends.js';
import { createHarness, type Harness } from '../support/engineHarness.js';

/** The engine harness plus a running projection and the read model over it. */
export interface ProjectionHarness {
  h: Harness;
  runner: ProjectionRunner;
  readModel: ReadModel;
  /** Another runner on the same database (e.g. after a restart); stopped by close(). */
  newRunner(options?: Partial<ProjectionRunnerOptions>): ProjectionRunner;
  close(): Promise<void>;
}

export async function createProjectionHarness(backend: Backend, options: Partial<ProjectionRunnerOptions> = {}): Promise<ProjectionHarness> {
  const readModel = new ReadModel(backend.db);
  const h = await createHarness(backend);
  const runners: ProjectionRunner[] = [];
  const newRunner = (extra: Partial<ProjectionRunnerOptions> = {}) => {
    const runner = new ProjectionRunner({ db: backend.db, store: h.store, ...options, ...extra });
    runners.push(runner);
    return runner;
  };
  const runner = newRunner();
  await runner.start();
  return {
    h,
    runner,
    readModel,
    newRunner,
    async close() {
      for (const each of runners) await each.stop();
      await h.close();
    },
  };
}

export const manual: NodeDefinition = { id: 'start', type: 'trigger.manual' };

export const flow = (nodes: NodeDefinition[], edges: Array<[string, string, string?]>, settings = {}): WorkflowDefinition => ({
  name: 'projection test flow',
  nodes: [manual, ...nodes],
  connections: edges.map(([source, target, sourceOutput]) => ({ source, target, sourceOutput: sourceOutput ?? null })),
  settings,
});

/** Every row of the read model, in a stable order, timestamps included. */
export async function readModelRows(db: SqlExecutor): Promise<Record<string, unknown[]>> {
  const tables: Record<string, string> = {
    workflow: 'id',
    flow_execution: 'id',
    node_execution_state: 'execution_id, node_id',
    execution_dependency: 'execution_id, node_id, depends_on_node_id',
    projection_checkpoints: 'name',
  };
  const rows: Record<string, unknown[]> = {};
  for (const [table, order] of Object.entries(tables)) rows[table] = (await db.query(`SELECT * FROM ${table} ORDER BY ${order}`)).rows;
  return rows;
}
