// Bundles the viewer (src/viewer) into dist/viewer: one script with elkjs and graphql-ws inside,
// its stylesheet and page, so that the server serves it with no CDN and it works offline.
// Separate from build.mjs so that the browser tests can bundle it in a second without a full build.
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

export async function buildViewer() {
  const outdir = `${root}dist/viewer`;
  mkdirSync(outdir, { recursive: true });
  await build({
    entryPoints: [`${root}src/viewer/main.ts`],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    outfile: `${outdir}/app.js`,
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'viewer.css']) copyFileSync(`${root}src/viewer/${file}`, `${outdir}/${file}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildViewer();
