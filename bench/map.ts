import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createBenchEnv, waitForAll } from './support.js';

/**
 * A `map` over N items (concurrency 10) of a two-node child workflow, each size in a process of
 * its own so that its peak resident set is the map's alone: items/s from start to the parent's
 * end, and peak RSS. Flat memory shows as the same peak at 1,000 and 10,000 items.
 * `BENCH_ONLY=map npm run bench`; `BENCH_MAP_SIZES=1000,10000` by default.
 */
export interface MapResult {
  items: number;
  itemsPerSecond: number;
  seconds: number;
  peakRssMb: number;
  /** Live heap at the end, after a full collection: what the process still holds, as opposed to what the collector let it grow to. */
  heapAfterGcMb: number;
}

const SCRIPT = fileURLToPath(import.meta.url);

export function mapBench(sizes = (process.env.BENCH_MAP_SIZES ?? '1000,10000').split(',').map(Number)): MapResult[] {
  return sizes.map((items) => {
    const output = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', SCRIPT, String(items)], { encoding: 'utf8', maxBuffer: 1 << 24 });
    return JSON.parse(output.trim().split('\n').at(-1)!) as MapResult;
  });
}

export const mapRows = (results: MapResult[]): Array<[string, string, string]> =>
  results.map(({ items, itemsPerSecond, seconds, peakRssMb, heapAfterGcMb }) => [
    `map over ${items.toLocaleString('en')} items, concurrency 10: items/s / peak RSS / heap after GC (MB)`,
    `${itemsPerSecond.toFixed(1)} / ${peakRssMb.toFixed(0)} / ${heapAfterGcMb.toFixed(0)}`,
    `${seconds.toFixed(1)} s`,
  ]);

async function measure(items: number): Promise<MapResult> {
  const env = await createBenchEnv();
  try {
    const { workflows } = env.engine;
    const child = await workflows.create({
      name: 'map item',
      nodes: [
        { id: 'start', type: 'trigger.manual' },
        { id: 'double', type: 'transform', parameters: { mapping: 'trigger.item * 2' } },
      ],
      connections: [{ source: 'start', target: 'double', sourceOutput: null }],
    });
    const parent = await workflows.create({
      name: 'map',
      nodes: [
        { id: 'start', type: 'trigger.manual' },
        { id: 'each', type: 'map', parameters: { items: '{{ trigger.list }}', workflowId: child.id, triggerNodeId: 'start', concurrency: 10 } },
      ],
      connections: [{ source: 'start', target: 'each', sourceOutput: null }],
    });
    const at = performance.now();
    const execution = await env.engine.startTrigger(parent.id, 'start', { list: Array.from({ length: items }, (_, i) => i) });
    await waitForAll(env.store, [execution.id], 3_600_000);
    const seconds = (performance.now() - at) / 1000;
    const state = await env.engine.executions.load(execution.id);
    if (state?.status !== 'COMPLETED') throw new Error(`the map ended ${state?.status}: ${state?.error}`);
    globalThis.gc?.();
    const heapAfterGcMb = process.memoryUsage().heapUsed / 1024 / 1024;
    return { items, seconds, itemsPerSecond: items / seconds, peakRssMb: process.resourceUsage().maxRSS / 1024, heapAfterGcMb };
  } finally {
    await env.close();
  }
}

if (process.argv[1] === SCRIPT) {
  const items = Number(process.argv[2]);
  if (Number.isInteger(items) && items > 0) console.log(JSON.stringify(await measure(items)));
}
