import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { authentication, authenticationRows } from './authentication.js';
import { baselineCommitsPerSecond } from './baseline.js';
import { endToEnd, type EndToEndResult } from './endToEnd.js';
import { liveUpdates } from './liveUpdates.js';
import { mapBench, mapRows } from './map.js';
import { payloadRows, payloads } from './payloads.js';
import { rebuild } from './rebuild.js';
import { latencyAtRest, scale, throughput } from './scenarios.js';
import { describeShare, type CpuShare } from './cpuShare.js';
import { createBenchEnv, type BenchEnv } from './support.js';

/**
 * `npm run bench`: every figure next to the raw PostgreSQL baseline measured in the same run,
 * since these machines are shared and noisy. Prints a table, writes bench/results/latest.json.
 */
const EXECUTIONS = Number(process.env.BENCH_EXECUTIONS ?? 1000);
const REBUILD_EVENTS = Number(process.env.BENCH_REBUILD_EVENTS ?? 200_000);

async function inFreshEnv<T>(scenario: (env: BenchEnv) => Promise<T>): Promise<T> {
  const env = await createBenchEnv();
  try {
    return await scenario(env);
  } finally {
    await env.close();
  }
}

function peakMemory(): { seconds: number; peakRssMb: number } {
  const script = fileURLToPath(new URL('./memory.ts', import.meta.url));
  const output = execFileSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(output.trim().split('\n').at(-1)!);
}

/** A printed table's rows: figure, value, what it compares with. */
type Rows = Array<[string, string, string]>;

const ratio = (a: number, b: number) => (a / b).toFixed(2);

/** The end-to-end figures and the ratios the live-progress targets name. */
function endToEndRows({ runs, live5000 }: EndToEndResult): Rows {
  const rows: Rows = [];
  for (const [name, times] of Object.entries(runs)) {
    rows.push([`server: ${name} unwatched / 1 / 500 watchers (s)`, `${times.unwatched.toFixed(2)} / ${times.watched1.toFixed(2)} / ${times.watched500.toFixed(2)}`, '']);
    rows.push(cpuRow(`server: ${name}, 500 watchers`, times.cpu.watched500, times.cpu.unwatched));
  }
  const { chain1k, chain5k } = runs;
  if (chain1k && chain5k) {
    rows.push(
      [
        'server: watched / unwatched, 1k chain (1 / 500 watchers)',
        `${ratio(chain1k.watched1, chain1k.unwatched)} / ${ratio(chain1k.watched500, chain1k.unwatched)}`,
        'target <= 1.2',
      ],
      [
        'server: watched / unwatched, 5k chain (1 / 500 watchers)',
        `${ratio(chain5k.watched1, chain5k.unwatched)} / ${ratio(chain5k.watched500, chain5k.unwatched)}`,
        'target <= 1.2',
      ],
      ['server: 5k / 1k chain, watched (1 watcher)', ratio(chain5k.watched1, chain1k.watched1), 'target <= 5.5'],
      ['server: 1,000-step transform chain, unwatched (s)', chain1k.unwatched.toFixed(2), `target <= 1.2 (polled every 200 ms)`],
    );
  }
  rows.push(
    ['server: live updates, 5,000 subscribers p50 / p99 (ms)', `${live5000.p50Ms.toFixed(1)} / ${live5000.p99Ms.toFixed(1)}`, 'target p99 <= 300'],
    ['server: delay chain watched by 5,000 / unwatched', ratio(live5000.seconds, live5000.unwatchedSeconds), 'target <= 1.5'],
    cpuRow('server: 5,000 subscribers', live5000.cpu, live5000.unwatchedCpu),
  );
  return rows;
}

/**
 * What watching cost the server: its CPU watched less its CPU on the same run unwatched, per
 * frame delivered; and how the cores were shared meanwhile (see cpuShare.ts).
 */
function cpuRow(name: string, watched: CpuShare, unwatched: CpuShare): [string, string, string] {
  const perFrame = watched.frames === 0 ? 0 : ((watched.serverSeconds - unwatched.serverSeconds) * 1e6) / watched.frames;
  const seconds = `server CPU ${unwatched.serverSeconds.toFixed(2)} s unwatched, ${watched.serverSeconds.toFixed(2)} s watched`;
  return [`${name}: server CPU per frame (us)`, perFrame.toFixed(1), `${seconds}; ${describeShare(watched)}`];
}

function printRows(rows: Rows): void {
  const width = Math.max(...rows.map((row) => row[0].length));
  console.log(`\n${'figure'.padEnd(width)}  value       vs`);
  for (const [name, value, note] of rows) console.log(`${name.padEnd(width)}  ${value.padEnd(10)}  ${note}`);
}

/** `BENCH_ONLY=<name>`: one part alone, for a quicker before/after; its rows are printed, then its result as JSON. */
const ALONE: Record<string, () => Promise<{ result: unknown; rows?: Rows }>> = {
  // Only the scenarios through a server process.
  'end-to-end': async () => withRows(await endToEnd(), endToEndRows),
  // Only the end-to-end part's 5,000-subscriber scenario.
  subscribers: async () => withRows(await endToEnd({ shapes: false }), endToEndRows),
  // Only the API with and without authentication.
  authentication: async () => withRows(await inFreshEnv((env) => authentication(env)), authenticationRows),
  // Only the 20 MB output through 10 nodes, stored inline and stored apart.
  payloads: async () => withRows(payloads(), payloadRows),
  // Only the many-executions scenario, with its CPU cost (A/B of a runtime change).
  throughput: async () => ({ result: await inFreshEnv((env) => throughput(env, EXECUTIONS)) }),
  // Only the map node over 1,000 and 10,000 items (items/s, peak RSS).
  map: async () => withRows(mapBench(), mapRows),
};

function withRows<T>(result: T, rowsOf: (result: T) => Rows): { result: T; rows: Rows } {
  return { result, rows: rowsOf(result) };
}

async function main(): Promise<void> {
  const alone = ALONE[process.env.BENCH_ONLY ?? ''];
  if (alone) {
    const { result, rows } = await alone();
    if (rows) printRows(rows);
    console.log(JSON.stringify(result));
    return;
  }
  const baseline = await baselineCommitsPerSecond();
  const atRest = await inFreshEnv((env) => latencyAtRest(env));
  const load = await inFreshEnv((env) => throughput(env, EXECUTIONS));
  const sizes = await inFreshEnv((env) => scale(env));
  const live1 = await inFreshEnv((env) => liveUpdates(env, 1));
  const live500 = await inFreshEnv((env) => liveUpdates(env, 500));
  const rebuilt = await inFreshEnv((env) => rebuild(env, REBUILD_EVENTS));
  const memory = peakMemory();
  const authenticated = await inFreshEnv((env) => authentication(env));

  const rows: Rows = [
    ['baseline: raw PostgreSQL single-row commits/s', baseline.toFixed(0), '(reference)'],
    [
      `throughput: node completions/s (${EXECUTIONS} x 10-node executions, projected)`,
      load.completionsPerSecond.toFixed(0),
      `${(load.completionsPerSecond / baseline).toFixed(2)} x baseline (target >= 1,000 and >= 0.3 x)`,
    ],
    ['throughput: CPU of this process per 1,000 node completions (ms)', load.cpuMsPerThousand.toFixed(0), 'lower is better; load-independent'],
    ['scheduling latency at rest p50 / p99 (ms)', `${atRest.p50Ms.toFixed(1)} / ${atRest.p99Ms.toFixed(1)}`, 'target <= 5 / <= 25'],
    ['scheduling latency under load p50 / p99 (ms)', `${load.latencyP50Ms.toFixed(1)} / ${load.latencyP99Ms.toFixed(1)}`, ''],
    ['1,000-node chain of transforms (s)', sizes.chain1kSeconds.toFixed(2), 'target <= 3'],
    ['1,000-node chain of noops, outputs nesting (s)', sizes.noopChain1kSeconds.toFixed(2), ''],
    ['1,000-wide fan-out/fan-in (s)', sizes.fan1kSeconds.toFixed(2), ''],
    ['10,000-wide fan-out/fan-in (s)', sizes.fan10kSeconds.toFixed(2), 'target <= 10'],
    ['per-node cost 10k / 1k', sizes.perNodeRatio.toFixed(2), 'target <= 1.5'],
    ['live update latency, 1 subscriber p50 / p99 (ms)', `${live1.p50Ms.toFixed(1)} / ${live1.p99Ms.toFixed(1)}`, ''],
    ['live update latency, 500 subscribers p50 / p99 (ms)', `${live500.p50Ms.toFixed(1)} / ${live500.p99Ms.toFixed(1)}`, 'target <= 20 / <= 100'],
    [
      `projection rebuild events/s (${rebuilt.events} events)`,
      rebuilt.eventsPerSecond.toFixed(0),
      `${(rebuilt.eventsPerSecond / baseline).toFixed(2)} x baseline (target >= 20,000)`,
    ],
    ['peak RSS, 10,000-node execution (MB)', memory.peakRssMb.toFixed(0), 'target <= 300'],
    ...authenticationRows(authenticated),
  ];
  // Printed before the end-to-end part starts, so that a failure there loses none of these.
  printRows(rows);
  const e2e = await endToEnd();
  printRows(endToEndRows(e2e));

  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  const results = {
    at: new Date().toISOString(),
    baselineCommitsPerSecond: baseline,
    latencyAtRest: atRest,
    throughput: load,
    scale: sizes,
    liveUpdates: [live1, live500],
    rebuild: rebuilt,
    memory,
    authentication: authenticated,
    endToEnd: e2e,
  };
  writeFileSync(new URL('./results/latest.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
}

await main();
