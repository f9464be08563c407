import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CHECKOUT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * A worker as a user writes it, outside the repository: it imports the built SDK by the package's
 * name and prints every WorkerEvent (and what its handler saw) as one JSON line. MODE says what
 * the handler does: `echo` answers `{ doubled, by }` at once (`slow`: after 200 ms), `hold` waits for its signal and
 * prints its reason, `fail` throws. Writing `stop` to its stdin calls stop() and exits.
 */
const PROGRAM = `
import { createWorker } from 'cascade/worker';

const { URL: url, KEY, QUEUE, NAME, MODE, CONCURRENCY, LEASE_MS } = process.env;
const say = (line) => process.stdout.write(JSON.stringify({ worker: NAME, ...line }) + '\\n');
const about = (job) => (job ? { executionId: job.executionId, nodeId: job.nodeId, attempt: job.attempt } : {});

const worker = createWorker({
  url,
  apiKey: KEY,
  queue: QUEUE,
  concurrency: Number(CONCURRENCY),
  leaseMs: Number(LEASE_MS),
  handler: async (job, { signal }) => {
    if (MODE === 'fail') throw new Error('the handler of ' + NAME + ' failed');
    if (MODE === 'slow') await new Promise((resolve) => setTimeout(resolve, 200));
    if (MODE === 'hold') {
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      say({ event: 'signal', code: signal.reason.code, ...about(job) });
      throw signal.reason;
    }
    return { doubled: job.input.start.n * 2, by: NAME };
  },
  onEvent: (event) => say({ event: event.type, ...about(event.job), ...(event.type === 'error' ? { error: String(event.error?.message ?? JSON.stringify(event.error)) } : {}) }),
});

process.stdin.on('data', async (data) => {
  if (!String(data).includes('stop')) return;
  await worker.stop();
  say({ event: 'stopped' });
  process.exit(0);
});
`;

export interface WorkerLine {
  worker: string;
  event: string;
  executionId?: string;
  nodeId?: string;
  attempt?: number;
  code?: string;
  error?: string;
}

export interface WorkerProcess {
  child: ChildProcess;
  lines: WorkerLine[];
  /** Resolves with the first line (already printed or to come) that matches; rejects if the process exits first. */
  line(match: (line: WorkerLine) => boolean, what: string): Promise<WorkerLine>;
  exited: Promise<number | null>;
}

/**
 * Installs the package as a user's project would have it, node_modules/cascade with this
 * checkout's package.json (its `exports`) and a dist/ compiled by the build's tsconfig, and writes
 * the worker program next to it. The compiled files go to the temporary directory, not to the
 * checkout's dist/, whose viewer the browser tests' servers serve while this one runs.
 */
export async function prepareWorkerProgram(): Promise<{ dir: string; dispose(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'cascade-worker-'));
  const installed = join(dir, 'node_modules', 'cascade');
  await mkdir(installed, { recursive: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const build = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', join(installed, 'dist')], { cwd: CHECKOUT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`building the package failed:\n${build.stdout}${build.stderr}`);
  await copyFile(join(CHECKOUT, 'package.json'), join(installed, 'package.json'));
  // Its dependencies (graphql-ws, ws), as npm would have installed them.
  await symlink(join(CHECKOUT, 'node_modules'), join(installed, 'node_modules'), 'dir');
  await writeFile(join(dir, 'worker.mjs'), PROGRAM);
  return { dir, dispose: () => rm(dir, { recursive: true, force: true }) };
}

export interface WorkerSettings {
  url: string;
  key: string;
  queue: string;
  name: string;
  mode: 'echo' | 'slow' | 'hold' | 'fail';
  concurrency?: number;
  leaseMs?: number;
}

export function launchWorker(dir: string, settings: WorkerSettings): WorkerProcess {
  const { url, key, queue, name, mode, concurrency = 1, leaseMs = 30_000 } = settings;
  const env = { ...process.env, URL: url, KEY: key, QUEUE: queue, NAME: name, MODE: mode, CONCURRENCY: String(concurrency), LEASE_MS: String(leaseMs) };
  const child = spawn(process.execPath, ['worker.mjs'], { cwd: dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: WorkerLine[] = [];
  const waiters: Array<{ match: (line: WorkerLine) => boolean; resolve: (line: WorkerLine) => void }> = [];
  let stderr = '';
  let pending = '';
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const complete = pending.split('\n');
    pending = complete.pop()!;
    for (const text of complete) {
      const line = JSON.parse(text) as WorkerLine;
      lines.push(line);
      for (const waiter of waiters.filter((each) => each.match(line))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    exited,
    line(match, what) {
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ match, resolve });
        void exited.then((code) => reject(new Error(`worker ${name} exited (${code}) before ${what}; it printed ${JSON.stringify(lines)}\n${stderr}`)));
      });
    },
  };
}

/** SIGKILLs the workers still running and waits for them: a test's clean-up. */
export async function killWorkers(workers: WorkerProcess[]): Promise<void> {
  for (const worker of workers) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
  await Promise.all(workers.map((worker) => worker.exited));
}
