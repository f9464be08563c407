import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { defineNodeType } from '../src/index.js';
import { DEFAULT_PAYLOAD_INLINE_BYTES, MAX_PAYLOAD_INLINE_BYTES } from '../src/payloads/payloads.js';
import { runShape } from './scenarios.js';
import { createBenchEnv, type BenchEnv } from './support.js';

/**
 * Large payloads (DESIGN section 10): a 20 MB output at the head of a chain of 10 nodes (the
 * output, then 9 nodes passing it on), each run in a process of its own so that its peak resident
 * set is its own. `inline`: PAYLOAD_INLINE_BYTES at its maximum, so the value is in every event and
 * row that mentions it (as before large payloads were stored apart); `stored`: the default. The 9
 * are `noops` (run ahead: the chain is one commit) or `relays` (a pass-through with side effects:
 * one leased attempt and commit per node, each starting from the cached state).
 */
const PAYLOAD_BYTES = 20 * 1024 * 1024;
const NOOPS = 9;
const MODES = { inline: MAX_PAYLOAD_INLINE_BYTES, stored: DEFAULT_PAYLOAD_INLINE_BYTES } as const;
type Mode = keyof typeof MODES;
const SHAPES = { noops: 'noop', relays: 'bench.relay' } as const;
type Shape = keyof typeof SHAPES;

export interface PayloadRun {
  mode: Mode;
  shape: Shape;
  /** How the execution ended, and why when it failed. */
  status: string;
  error: string | null;
  seconds: number;
  /** Peak resident set during the run over the resident set before it (the payload itself made beforehand). */
  peakRssGrowthMb: number;
  /** How many times the payload's size that growth is (DESIGN: under 3). */
  peakRssGrowthX: number;
  /** The database's size growth, and the bytes of event data, payload rows and read-model node rows the run left. */
  databaseGrowthMb: number;
  eventDataMb: number;
  payloadRowsMb: number;
  nodeRowsMb: number;
}

const mb = (bytes: number) => Math.round((bytes / (1024 * 1024)) * 10) / 10;

async function bytesOf(env: BenchEnv, sql: string): Promise<number> {
  const { rows } = await env.db.query<{ bytes: string | null }>(sql);
  return Number(rows[0]!.bytes ?? 0);
}

/** One run in this process; prints its figures as one JSON line. */
async function measure(mode: Mode, shape: Shape): Promise<PayloadRun> {
  const blob = randomBytes(PAYLOAD_BYTES / 2).toString('hex');
  const big = defineNodeType({ type: 'bench.big', parameters: { type: 'object' }, sideEffects: false, execute: async () => ({ output: { blob } }) });
  const relay = defineNodeType({ type: 'bench.relay', parameters: { type: 'object' }, sideEffects: true, execute: async ({ input }) => ({ output: input }) });
  const env = await createBenchEnv({ nodeTypes: [big, relay], payloadInlineBytes: MODES[mode] });
  try {
    const ids = Array.from({ length: NOOPS }, (_, i) => `n${i}`);
    const nodes = [{ id: 'start', type: 'trigger.manual' }, { id: 'big', type: 'bench.big' }, ...ids.map((id) => ({ id, type: SHAPES[shape] }))];
    const definition = { name: 'payload chain', nodes, connections: nodes.slice(1).map((node, i) => ({ source: nodes[i]!.id, target: node.id, sourceOutput: null })) };
    const databaseBefore = await bytesOf(env, 'SELECT pg_database_size(current_database()) AS bytes');
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const seconds = await runShape(env, definition);
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    const growth = peak - rssBefore;
    const { rows } = await env.db.query<{ status: string; error: string | null }>('SELECT status, error FROM flow_execution LIMIT 1');
    return {
      mode,
      shape,
      status: rows[0]?.status ?? 'unknown',
      error: rows[0]?.error ?? null,
      seconds: Math.round(seconds * 100) / 100,
      peakRssGrowthMb: mb(growth),
      peakRssGrowthX: Math.round((growth / PAYLOAD_BYTES) * 100) / 100,
      databaseGrowthMb: mb((await bytesOf(env, 'SELECT pg_database_size(current_database()) AS bytes')) - databaseBefore),
      eventDataMb: mb(await bytesOf(env, "SELECT sum(octet_length(data::text)) AS bytes FROM events WHERE stream_id LIKE 'execution-%'")),
      payloadRowsMb: mb(await bytesOf(env, 'SELECT sum(octet_length(data)) AS bytes FROM payloads')),
      nodeRowsMb: mb(await bytesOf(env, 'SELECT sum(coalesce(octet_length(input::text), 0) + coalesce(octet_length(output::text), 0)) AS bytes FROM node_execution_state')),
    };
  } finally {
    await env.close();
  }
}

/** Every mode and shape, each in a child process of its own (`--expose-gc`, so that the resident set before is settled). */
export function payloads(): PayloadRun[] {
  const script = fileURLToPath(import.meta.url);
  return (Object.keys(SHAPES) as Shape[]).flatMap((shape) =>
    (Object.keys(MODES) as Mode[]).map((mode) => {
      const output = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', script, mode, shape], {
        encoding: 'utf8',
        maxBuffer: 1 << 24,
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      return JSON.parse(output.trim().split('\n').at(-1)!) as PayloadRun;
    }),
  );
}

export function payloadRows(runs: PayloadRun[]): Array<[string, string, string]> {
  return runs.map((run) => [
    `payloads: 20 MB through 10 nodes (${run.shape}), ${run.mode}: status / s / peak RSS growth MB (x) / db growth MB / events MB / payload rows MB / node rows MB`,
    `${run.status} / ${run.seconds} / ${run.peakRssGrowthMb} (${run.peakRssGrowthX}x) / ${run.databaseGrowthMb} / ${run.eventDataMb} / ${run.payloadRowsMb} / ${run.nodeRowsMb}`,
    run.mode === 'stored' ? 'target RSS growth < 3x' : '(before)',
  ]);
}

const [mode, shape] = process.argv.slice(2);
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && mode !== undefined && mode in MODES && shape !== undefined && shape in SHAPES) {
  console.log(JSON.stringify(await measure(mode as Mode, shape as Shape)));
}
