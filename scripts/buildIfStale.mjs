// Runs before `npm start` (prestart): builds dist/ when it is missing or older than anything it is
// built from, so that a fresh clone needs only `npm install` and `npm start`. It exits before the
// server starts: `npm start` itself is a plain `node dist/main.js`, the process that gets SIGTERM.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What dist/ is built from: a change to any of them (a directory's mtime covers a deleted file) makes it stale. */
const INPUTS = ['src', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'];

/** The newest mtime under a path (0 when it does not exist). */
function newest(path) {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    return 0;
  }
  if (!stats.isDirectory()) return stats.mtimeMs;
  return readdirSync(path).reduce((latest, name) => Math.max(latest, newest(join(path, name))), stats.mtimeMs);
}

/** dist/main.js is written by every build (the build starts from an empty dist/). */
export function isStale(root) {
  const built = newest(join(root, 'dist', 'main.js'));
  return built === 0 || INPUTS.some((input) => newest(join(root, input)) > built);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  if (isStale(root)) {
    console.error('dist/ is missing or older than the sources: building it first (npm run build).');
    const { status } = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
    if (status !== 0) process.exit(status ?? 1);
  }
}
