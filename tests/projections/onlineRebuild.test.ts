import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rebuildProjections } from '../../src/projections/rebuild.js';
import { BACKENDS, type Backend } from '../support/backends.js';
import { createProjectionHarness, flow, readModelRows, type ProjectionHarness } from './projectionHarness.js';

const chain = flow(
  [
    { id: 'a', type: 'noop' },
    { id: 'b', type: 'noop' },
  ],
  [
    ['start', 'a'],
    ['a', 'b'],
  ],
);
const EXECUTIONS = 12;

/** Index and constraint names of the live read-model tables: what later migrations refer to. */
async function liveIndexes(backend: Backend): Promise<string[]> {
  const { rows } = await backend.db.query<{ name: string }>(
    `SELECT indexname AS name FROM pg_indexes WHERE schemaname = 'public' AND tablename IN
       ('flow_execution', 'node_execution_state', 'execution_dependency', 'workflow', 'projection_checkpoints') ORDER BY 1`,
  );
  return rows.map((row) => row.name);
}

describe.each(BACKENDS)('online rebuild on $name', ({ create }) => {
  let backend: Backend;
  let p: ProjectionHarness;
  const ids: string[] = [];

  beforeAll(async () => {
    backend = await create();
    p = await createProjectionHarness(backend);
    const workflow = await p.h.engine.workflows.create(chain);
    const started = await Promise.all(Array.from({ length: EXECUTIONS }, (_, n) => p.h.engine.startTrigger(workflow.id, 'start', { n })));
    for (const { id } of started) ids.push((await p.h.waitFor(id)).id);
    await p.runner.caughtUp();
  });
  afterAll(async () => {
    await p.close();
    await backend.dispose();
  });

  /** Reads until `done` settles; every answer must be complete: all executions, each with all its nodes. */
  async function readWhile(done: Promise<unknown>): Promise<number> {
    let finished = false;
    void done.finally(() => (finished = true)).catch(() => {});
    let reads = 0;
    while (!finished) {
      const page = await p.readModel.listExecutions({ first: 100 });
      expect(page.totalCount).toBeGreaterThanOrEqual(EXECUTIONS);
      expect(page.nodes.every((execution) => execution.nodeStates.length === 3 && execution.metrics.totalNodes === 3)).toBe(true);
      const one = await p.readModel.getExecution(ids[reads % ids.length]!);
      expect(one?.status).toBe('COMPLETED');
      reads += 1;
    }
    return reads;
  }

  it('serves complete answers while it rebuilds, goes on projecting after the swap, and ends as a fresh rebuild', async () => {
    const indexes = await liveIndexes(backend);
    const rebuild = rebuildProjections(backend.db, p.h.store, { online: true, batchSize: 8 });
    const during = p.h.run(chain, 'start', { during: true });
    const [reads] = await Promise.all([readWhile(rebuild), rebuild, during]);
    expect(reads).toBeGreaterThan(1);

    const after = await p.h.run(chain, 'start', { after: true });
    await p.runner.caughtUp();
    expect((await p.readModel.getExecution(after.id))?.status).toBe('COMPLETED');
    expect((await p.readModel.getExecution((await during).id))?.status).toBe('COMPLETED');
    expect(await liveIndexes(backend)).toEqual(indexes);
    const { rows: schemas } = await backend.db.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'read_model%'`);
    expect(schemas).toEqual([]);

    const online = await readModelRows(backend.db);
    await rebuildProjections(backend.db, p.h.store);
    expect(await readModelRows(backend.db)).toEqual(online);
  });
});
