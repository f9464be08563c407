import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toExecutionEvent } from '../../src/domain/execution/events.js';
import { foldExecution } from '../../src/domain/execution/evolve.js';
import { executionViewFromState } from '../../src/projections/executionView.js';
import { migrate, readMigrations } from '../../src/db/migrator.js';
import type { ExecutionChange } from '../../src/projections/projectionRunner.js';
import { BACKENDS, type Backend } from '../support/backends.js';
import { createProjectionHarness, flow, readModelRows, type ProjectionHarness } from './projectionHarness.js';

/** The migrations drizzle-kit generated: each is applied once. */

const linear = flow(
  [
    { id: 'a', type: 'noop' },
    { id: 'b', type: 'noop' },
  ],
  [
    ['start', 'a'],
    ['a', 'b'],
  ],
);

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.each(BACKENDS)('projection runner on $name', ({ create }) => {
  let backend: Backend;
  let p: ProjectionHarness;
  const errors: unknown[] = [];
  const changes: ExecutionChange[] = [];

  beforeAll(async () => {
    backend = await create();
    p = await createProjectionHarness(backend, { onError: (error) => errors.push(error) });
    p.runner.onChange((batch) => changes.push(...batch));
  });
  afterAll(async () => {
    await p.close();
    await backend.dispose();
  });

  /** Each row's physical version: any UPDATE, even to equal values, gives a row a new xmin. */
  async function physicalVersions(table: string, key: string): Promise<Map<string, string>> {
    const { rows } = await backend.db.query<{ key: string; xmin: string }>(`SELECT ${key} AS key, xmin::text AS xmin FROM ${table}`);
    return new Map(rows.map((row) => [row.key, row.xmin]));
  }

  it('migrates again, also concurrently, without changing anything', async () => {
    await p.h.run(linear);
    await p.runner.caughtUp();
    const before = await readModelRows(backend.db);
    await Promise.all([migrate(backend.db), migrate(backend.db)]);
    expect(await readModelRows(backend.db)).toEqual(before);
    const { rows } = await backend.db.query<{ applied: number }>('SELECT count(*)::int AS applied FROM schema_migrations');
    expect(rows[0]!.applied).toBe(readMigrations().length);
  });

  it('leaves rows and checkpoint untouched when a batch fails after writing, then applies it exactly once', async () => {
    const before = await readModelRows(backend.db);
    // Breaks the last write of every batch, the checkpoint, after the rows were written.
    await backend.db.query(`ALTER TABLE projection_checkpoints ADD CONSTRAINT broken CHECK (position = '') NOT VALID`);
    const failing = await p.h.run(linear);
    await until(() => errors.length > 0);
    expect(String(errors[0])).toMatch(/broken/);
    expect(await readModelRows(backend.db)).toEqual(before);
    expect(await p.readModel.getExecution(failing.id)).toBeNull();

    await backend.db.query('ALTER TABLE projection_checkpoints DROP CONSTRAINT broken');
    await p.runner.caughtUp();
    const folded = foldExecution((await p.h.events(failing.id)).map(toExecutionEvent))!;
    expect(await p.readModel.getExecution(failing.id)).toEqual(executionViewFromState(folded));
    const versions = changes.filter((change) => change.executionId === failing.id).map((change) => change.streamVersion);
    expect(versions).toEqual([...new Set(versions)].sort((a, b) => a - b));
    expect(versions.at(-1)).toBe(folded.version);
  });

  it('writes the rows of the nodes a batch changed and no other', async () => {
    const fanOut = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6'];
    const workflow = await p.h.engine.workflows.create(
      flow(
        [{ id: 'external', type: 'external', parameters: { queue: 'q' } }, ...fanOut.map((id) => ({ id, type: 'noop' }))],
        [['start', 'external'], ...fanOut.map((id): [string, string] => ['start', id])],
      ),
    );
    const { id } = await p.h.engine.startTrigger(workflow.id, 'start', {});
    await p.h.waitFor(id, (state) => fanOut.every((node) => state.nodes.get(node)!.status === 'COMPLETED'));
    await p.runner.caughtUp();
    const before = await physicalVersions('node_execution_state', `node_id || '@' || execution_id`);
    const versionBefore = (await p.readModel.getExecution(id))!.streamVersion;

    await p.h.engine.executions.handle(id, { type: 'CompleteNode', data: { nodeId: 'external', output: 42, outputName: null } });
    expect((await p.h.waitFor(id)).status).toBe('COMPLETED');
    await p.runner.caughtUp();
    const after = await physicalVersions('node_execution_state', `node_id || '@' || execution_id`);
    const rewritten = [...after].filter(([key, xmin]) => before.get(key) !== xmin).map(([key]) => key);
    expect(rewritten).toEqual([`external@${id}`]);
    const view = (await p.readModel.getExecution(id))!;
    expect(view.streamVersion).toBeGreaterThan(versionBefore);
    expect(view.nodeStates.find((node) => node.nodeId === 'external')).toMatchObject({ status: 'COMPLETED', output: 42 });
  });

  it('replays the log over its own rows without rewriting any of them', async () => {
    await p.runner.caughtUp();
    await p.runner.stop();
    const tables = { flow_execution: 'id', node_execution_state: `node_id || '@' || execution_id`, workflow: 'id' };
    const physical = async () => Promise.all(Object.entries(tables).map(([table, key]) => physicalVersions(table, key)));
    const [rows, versions] = [await readModelRows(backend.db), await physical()];
    await backend.db.query('DELETE FROM projection_checkpoints');
    const replay = p.newRunner();
    await replay.start();
    await replay.caughtUp();
    expect(await readModelRows(backend.db)).toEqual(rows);
    expect(await physical()).toEqual(versions);
  });
});
