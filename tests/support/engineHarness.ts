import { afterAll, beforeAll } from 'vitest';
import { TERMINAL_EXECUTION_STATUSES } from '../../src/domain/execution/events.js';
import type { ExecutionState } from '../../src/domain/execution/state.js';
import type { WorkflowDefinition } from '../../src/domain/workflow/workflow.js';
import { migrate } from '../../src/db/migrator.js';
import { createPostgresEventStore } from '../../src/eventstore/postgresEventStore.js';
import type { EventStore, RecordedEvent } from '../../src/eventstore/eventStore.js';
import { executionStreamId } from '../../src/domain/execution/events.js';
import { Engine, type EngineOptions } from '../../src/runtime/engine.js';
import type { SqlClient } from '../../src/db/sqlClient.js';
import type { Backend } from './backends.js';

export interface Harness {
  store: EventStore;
  /** The runtime's database. */
  db: SqlClient;
  engine: Engine;
  /** A second engine on the same database (a restarted or second process). */
  newEngine(options?: Partial<EngineOptions>): Engine;
  run(definition: WorkflowDefinition, trigger?: string, data?: unknown): Promise<ExecutionState>;
  waitFor(executionId: string, done?: (state: ExecutionState) => boolean, engine?: Engine): Promise<ExecutionState>;
  events(executionId: string): Promise<RecordedEvent[]>;
  close(): Promise<void>;
}

export async function createHarness(backend: Backend, options: Partial<EngineOptions> = {}): Promise<Harness> {
  await migrate(backend.db);
  const store = createPostgresEventStore(backend.db);
  const engines: Engine[] = [];
  const newEngine = (extra: Partial<EngineOptions> = {}) => {
    const engine = new Engine({ store, db: backend.db, ...options, ...extra });
    engines.push(engine);
    return engine;
  };
  const engine = newEngine();
  await engine.start();
  const harness: Harness = {
    store,
    db: backend.db,
    engine,
    newEngine,
    async run(definition, trigger = 'start', data = {}) {
      const workflow = await engine.workflows.create(definition);
      const started = await engine.startTrigger(workflow.id, trigger, data);
      return harness.waitFor(started.id);
    },
    async waitFor(executionId, done = (state) => TERMINAL_EXECUTION_STATUSES.has(state.status), on = engine) {
      const deadline = Date.now() + 100_000;
      for (;;) {
        const state = await on.executions.load(executionId);
        if (state && done(state)) return state;
        if (Date.now() > deadline) throw new Error(`execution ${executionId} did not get there: ${state?.status}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    events: (executionId) => store.read(executionStreamId(executionId)),
    async close() {
      for (const each of engines) await each.stop();
      await store.close();
    },
  };
  return harness;
}

export const statuses = (state: ExecutionState): Record<string, string> => Object.fromEntries([...state.nodes].map(([id, node]) => [id, node.status]));

/**
 * One harness for the test file (or describe block) it is called in: a fresh database before the
 * first test, dropped after the last. The harness is reachable as soon as the tests run.
 */
export function useHarness(create: () => Promise<Backend>, options: Partial<EngineOptions> = {}): Harness {
  let backend: Backend | undefined;
  let harness: Harness | undefined;
  beforeAll(async () => {
    backend = await create();
    harness = await createHarness(backend, options);
  });
  afterAll(async () => {
    await harness?.close();
    await backend?.dispose();
  });
  return new Proxy({} as Harness, {
    get(_, key) {
      if (!harness) throw new Error('the harness exists only while the tests run');
      return Reflect.get(harness, key);
    },
  });
}
