// Bundles the viewer (src/viewer) into dist/viewer: one script with elkjs and graphql-ws inside,
// its stylesheet and page, so that the server serves it with no CDN and it works offline.
// Separate from build.mjs so that the browser tests can bundle it in a second without a full build.
import { copyFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Each file is written beside its place and renamed over it: the server reads them on every
 * request, and a page loaded while another build runs (a second test file, a rebuild while
 * serving) gets the old file or the new one, never a half-written one.
 */
const temporary = (path) => `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;

function replaceWith(path, write) {
  const next = temporary(path);
  write(next);
  renameSync(next, path);
}

export async function buildViewer() {
  const outdir = `${root}dist/viewer`;
  mkdirSync(outdir, { recursive: true });
  const { outputFiles } = await build({
    entryPoints: [`${root}src/viewer/main.ts`],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    outfile: `${outdir}/app.js`,
    logLevel: 'warning',
    write: false,
  });
  for (const file of outputFiles) replaceWith(file.path, (next) => writeFileSync(next, file.contents));
  for (const file of ['index.html', 'viewer.css']) replaceWith(`${outdir}/${file}`, (next) => copyFileSync(`${root}src/viewer/${file}`, next));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildViewer();
