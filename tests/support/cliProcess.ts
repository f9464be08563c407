import { spawn } from 'node:child_process';
import { build } from 'esbuild';

/**
 * The `cascade` CLI compiled from src/cli by esbuild into node_modules/.cache (its dependencies
 * resolve from the project's node_modules), so that the tests run it as a real process without a
 * full `npm run build` rewriting dist/ under other tests' feet.
 */
export async function buildCli(): Promise<string> {
  const outfile = new URL('../../node_modules/.cache/cascade-cli-test/main.js', import.meta.url).pathname;
  await build({
    entryPoints: [new URL('../../src/cli/main.ts', import.meta.url).pathname],
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'warning',
  });
  return outfile;
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with stdout a pipe (not a TTY), as a script or CI would. */
export function runCli(cli: string, args: string[], env: Record<string, string>): Promise<CliRun> {
  const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}
