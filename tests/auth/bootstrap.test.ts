import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCascade } from '../../src/cascade.js';

const gql = async (url: string, key: string, query: string) => {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, ...((await response.json()) as { data?: any; errors?: unknown[] }) };
};

/** A Cascade on the embedded default in `dataDir`, its log lines kept. */
async function start(dataDir: string, settings: Record<string, unknown> = {}) {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _, done) => (lines.push(chunk.toString()), done()) }));
  const cascade = await startCascade({ dataDir, port: 0, host: '127.0.0.1', logger, ...settings });
  return { cascade, lines };
}

describe('the bootstrap admin key and GRAPHIQL', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'cascade-bootstrap-'));
  });
  afterAll(async () => rm(dataDir, { recursive: true, force: true }));

  // A fresh PGlite data directory takes seconds to initialise.
  it('makes an admin key on the first start, prints it once and writes it to <DATA_DIR>/admin-key (0600); not again on the next', { timeout: 180_000 }, async () => {
    const first = await start(dataDir);
    const key = (await readFile(join(dataDir, 'admin-key'), 'utf8')).trim();
    try {
      expect(key).toMatch(/^csk_/);
      expect((await stat(join(dataDir, 'admin-key'))).mode & 0o777).toBe(0o600);
      expect(first.lines.filter((line) => line.includes(key))).toHaveLength(1);
      expect((await gql(first.cascade.url, key, '{ me { roles tenantId } }')).data.me).toEqual({ roles: ['ADMIN'], tenantId: 'default' });
    } finally {
      await first.cascade.close();
    }
    const second = await start(dataDir, { adminKey: 'an-operator-chosen-key', graphiql: false });
    try {
      expect(second.lines.join('')).not.toContain('admin key');
      expect((await gql(second.cascade.url, key, '{ me { roles } }')).status).toBe(200);
      expect((await gql(second.cascade.url, 'an-operator-chosen-key', '{ me { roles } }')).data.me.roles).toEqual(['ADMIN']);
      expect((await fetch(`${second.cascade.url}/graphiql`)).status).toBe(404);
    } finally {
      await second.cascade.close();
    }
  });
});
