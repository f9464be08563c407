import { rebuildProjections } from '../src/projections/rebuild.js';
import { fanOutIn, type BenchEnv } from './support.js';
import { writeSyntheticLog } from './syntheticExecutions.js';

/** Projection rebuild speed over a log of at least `minEvents` execution events. */
export async function rebuild(env: BenchEnv, minEvents: number): Promise<{ events: number; seconds: number; eventsPerSecond: number }> {
  const workflow = await env.engine.workflows.create({ ...fanOutIn(8), name: 'rebuild' });
  const events = await writeSyntheticLog(env.store, workflow, minEvents);
  await env.projections.stop();
  const begun = performance.now();
  await rebuildProjections(env.db, env.store);
  const seconds = (performance.now() - begun) / 1000;
  return { events, seconds, eventsPerSecond: events / seconds };
}
