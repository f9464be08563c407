// `npm run build`: compiles src/ into a fresh dist/. A clean start, so that a source file that was
// moved or deleted leaves no stale module behind to be imported by mistake. The viewer is bundled
// for the browser by esbuild (tsc only type-checks it).
import { spawnSync } from 'node:child_process';
import { chmodSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { buildViewer } from './buildViewer.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
// TypeScript is a dev dependency: an install without it can run a dist/ built elsewhere, not build one.
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
const { status } = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
if (status !== 0) process.exit(status ?? 1);
// The `cascade` bin runs the file directly (its shebang).
chmodSync(new URL('../dist/cli/main.js', import.meta.url), 0o755);
await buildViewer();
