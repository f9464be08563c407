import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createBenchEnv, waitForAll, type BenchDatabase } from './support.js';

/**
 * A `map` over N items (concurrency 10) of a two-node child workflow, each size in a process of
 * its own so that its peak resident set is the map's alone: items/s from start to the parent's
 * end, and peak RSS. Flat memory shows as the same peak at 1,000 and 10,000 items.
 * `BENCH_ONLY=map npm run bench`; `BENCH_MAP_SIZES=1000,10000` by default; `BENCH_MAP_DATABASE=pglite`
 * runs it on embedded PGlite (in the process, so its WASM heap counts in the RSS) instead of PostgreSQL;
 * `BENCH_MAP_MAX_OLD_SPACE_MB=96` caps V8's old generation (--max-old-space-size), the one knob
 * that bounds the peak: the live heap stays near 50 MB, and uncapped V8 lets garbage grow the heap
 * the longer the run lasts (bench/README.md, issue 16).
 */
export interface MapResult {
  items: number;
  itemsPerSecond: number;
  seconds: number;
  peakRssMb: number;
  /** Live heap at the end, after a full collection: what the process still holds, as opposed to what the collector let it grow to. */
  heapAfterGcMb: number;
  /** Peaks sampled during the run (process.memoryUsage): where the resident set went. */
  peaks: MemoryPeaks;
}

/** In MB; `external` includes `arrayBuffers` (Buffers: socket reads, pg rows before parsing). */
export interface MemoryPeaks {
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
  arrayBuffersMb: number;
}

const SAMPLE_MS = 20;
const MB = 1024 * 1024;

/** Samples process.memoryUsage() until stopped; answers the peaks. */
function samplePeaks(): () => MemoryPeaks {
  const peaks: MemoryPeaks = { heapUsedMb: 0, heapTotalMb: 0, externalMb: 0, arrayBuffersMb: 0 };
  const sample = () => {
    const usage = process.memoryUsage();
    peaks.heapUsedMb = Math.max(peaks.heapUsedMb, usage.heapUsed / MB);
    peaks.heapTotalMb = Math.max(peaks.heapTotalMb, usage.heapTotal / MB);
    peaks.externalMb = Math.max(peaks.externalMb, usage.external / MB);
    peaks.arrayBuffersMb = Math.max(peaks.arrayBuffersMb, usage.arrayBuffers / MB);
  };
  const timer = setInterval(sample, SAMPLE_MS);
  return () => {
    clearInterval(timer);
    sample();
    return peaks;
  };
}

const SCRIPT = fileURLToPath(import.meta.url);

export function mapBench(sizes = (process.env.BENCH_MAP_SIZES ?? '1000,10000').split(',').map(Number)): MapResult[] {
  return sizes.map((items) => {
    const output = execFileSync(process.execPath, ['--expose-gc', ...heapCap(), '--import', 'tsx', SCRIPT, String(items)], { encoding: 'utf8', maxBuffer: 1 << 24 });
    return JSON.parse(output.trim().split('\n').at(-1)!) as MapResult;
  });
}

const heapCap = (): string[] => (process.env.BENCH_MAP_MAX_OLD_SPACE_MB ? [`--max-old-space-size=${Number(process.env.BENCH_MAP_MAX_OLD_SPACE_MB)}`] : []);

export const mapRows = (results: MapResult[]): Array<[string, string, string]> =>
  results.map(({ items, itemsPerSecond, seconds, peakRssMb, heapAfterGcMb, peaks }) => [
    `map over ${items.toLocaleString('en')} items, concurrency 10: items/s / peak RSS / heap after GC (MB)`,
    `${itemsPerSecond.toFixed(1)} / ${peakRssMb.toFixed(0)} / ${heapAfterGcMb.toFixed(0)}`,
    `${seconds.toFixed(1)} s; peak heap used ${peaks.heapUsedMb.toFixed(0)} of ${peaks.heapTotalMb.toFixed(0)}, external ${peaks.externalMb.toFixed(0)} (array buffers ${peaks.arrayBuffersMb.toFixed(0)}) MB`,
  ]);

async function measure(items: number): Promise<MapResult> {
  const env = await createBenchEnv({}, (process.env.BENCH_MAP_DATABASE ?? 'postgres') as BenchDatabase);
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
    const stopSampling = samplePeaks();
    const execution = await env.engine.startTrigger(parent.id, 'start', { list: Array.from({ length: items }, (_, i) => i) });
    await waitForAll(env.store, [execution.id], 3_600_000);
    const seconds = (performance.now() - at) / 1000;
    const peaks = stopSampling();
    const state = await env.engine.executions.load(execution.id);
    if (state?.status !== 'COMPLETED') throw new Error(`the map ended ${state?.status}: ${state?.error}`);
    globalThis.gc?.();
    const heapAfterGcMb = process.memoryUsage().heapUsed / MB;
    return { items, seconds, itemsPerSecond: items / seconds, peakRssMb: process.resourceUsage().maxRSS / 1024, heapAfterGcMb, peaks };
  } finally {
    await env.close();
  }
}

if (process.argv[1] === SCRIPT) {
  const items = Number(process.argv[2]);
  if (Number.isInteger(items) && items > 0) console.log(JSON.stringify(await measure(items)));
}
