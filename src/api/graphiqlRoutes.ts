import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';

/**
 * GraphiQL served by the server itself: the page and every asset it loads come from the installed
 * packages (react, react-dom, graphiql), so it works with no internet. mercurius' own page loads
 * them from a CDN and stays blank offline.
 */
const ASSETS: Record<string, { pkg: string; file: string; type: string }> = {
  'react.js': { pkg: 'react', file: 'umd/react.production.min.js', type: 'application/javascript' },
  'react-dom.js': { pkg: 'react-dom', file: 'umd/react-dom.production.min.js', type: 'application/javascript' },
  'graphiql.js': { pkg: 'graphiql', file: 'graphiql.min.js', type: 'application/javascript' },
  'graphiql.css': { pkg: 'graphiql', file: 'graphiql.min.css', type: 'text/css' },
};

const require = createRequire(import.meta.url);
/** A file of an installed package; through its package.json, since react's `exports` does not list its UMD builds. */
const packageFile = (pkg: string, file: string): string => join(dirname(require.resolve(`${pkg}/package.json`)), file);

// Every GraphQL request needs a key (DESIGN section 8): the page asks for one once per tab and
// keeps it in sessionStorage (under the viewer's name, so one sign-in serves both), sending it as
// the Authorization header and in graphql-ws' connection_init. The header editor can override it.
// Subscriptions go over graphql-ws on the same path as queries.
const START = `
const KEY = 'cascade.apiKey';
let apiKey = sessionStorage.getItem(KEY);
if (!apiKey) {
  apiKey = (window.prompt('Cascade API key (Authorization: Bearer <key>)') || '').trim();
  if (apiKey) sessionStorage.setItem(KEY, apiKey);
}
const authorization = apiKey ? 'Bearer ' + apiKey : undefined;
const url = new URL('/graphql', window.location.href);
const subscriptionUrl = url.href.replace(/^http/, 'ws');
const fetcher = GraphiQL.createFetcher({
  url: url.href,
  subscriptionUrl,
  headers: authorization ? { authorization } : {},
  wsConnectionParams: authorization ? { authorization } : {},
});
ReactDOM.createRoot(document.getElementById('graphiql')).render(React.createElement(GraphiQL, { fetcher, shouldPersistHeaders: true }));
`;

const PAGE = `<!DOCTYPE html>
<html>
<head>
  <meta charset="utf-8">
  <title>Cascade GraphiQL</title>
  <meta name="robots" content="noindex">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <style>body { margin: 0; } #graphiql { height: 100vh; }</style>
  <link rel="stylesheet" href="/graphiql/graphiql.css">
</head>
<body>
  <div id="graphiql"></div>
  <script src="/graphiql/react.js"></script>
  <script src="/graphiql/react-dom.js"></script>
  <script src="/graphiql/graphiql.js"></script>
  <script src="/graphiql/start.js"></script>
</body>
</html>
`;

export async function graphiqlRoutes(app: FastifyInstance): Promise<void> {
  app.get('/graphiql', async (_, reply) => reply.type('text/html; charset=utf-8').send(PAGE));
  app.get('/graphiql/start.js', async (_, reply) => reply.type('application/javascript').send(START));
  for (const [name, { pkg, file, type }] of Object.entries(ASSETS)) {
    // Read once, at the first request: a few MB that most servers never serve.
    let content: Promise<Buffer> | undefined;
    app.get(`/graphiql/${name}`, async (_, reply) => {
      content ??= readFile(packageFile(pkg, file));
      return reply
        .type(type)
        .header('cache-control', 'public, max-age=86400')
        .send(await content);
    });
  }
}
