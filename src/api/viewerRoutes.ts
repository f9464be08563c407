import { readFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * The execution viewer: the bundle `npm run build` writes into dist/viewer, served by the server
 * itself (no CDN). Every deep link answers the same page, which routes on the client. The path is
 * found from the project root, two levels up from this module both in src/api and in dist/api.
 */
const VIEWER_DIR = new URL('../../dist/viewer/', import.meta.url);

/** Only the files the build writes; nothing else under dist/ is reachable. */
const ASSETS: Record<string, string> = {
  'app.js': 'application/javascript; charset=utf-8',
  'app.js.map': 'application/json; charset=utf-8',
  'viewer.css': 'text/css; charset=utf-8',
};

const DEEP_LINKS = ['/', '/workflows', '/workflows/:id', '/executions', '/executions/:id'];

const NOT_BUILT = 'The viewer is not built: run `npm run build` (or `node scripts/buildViewer.mjs`).';

async function sendFile(reply: FastifyReply, file: string, type: string): Promise<FastifyReply> {
  try {
    // Read on each request: a rebuilt viewer is served without a restart, and the files are small.
    const content = await readFile(new URL(file, VIEWER_DIR));
    return reply.type(type).header('cache-control', 'no-cache').send(content);
  } catch {
    return reply.code(503).type('text/plain; charset=utf-8').send(NOT_BUILT);
  }
}

export async function viewerRoutes(app: FastifyInstance): Promise<void> {
  for (const path of DEEP_LINKS) app.get(path, async (_, reply) => sendFile(reply, 'index.html', 'text/html; charset=utf-8'));
  for (const [name, type] of Object.entries(ASSETS)) app.get(`/viewer/${name}`, async (_, reply) => sendFile(reply, name, type));
}
