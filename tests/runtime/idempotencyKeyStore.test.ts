import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrator.js';
import { IdempotencyKeyStore } from '../../src/runtime/idempotency/idempotencyKeyStore.js';
import { BACKENDS, type Backend } from '../support/backends.js';

const HOUR = 60 * 60 * 1000;

describe.each(BACKENDS)('idempotency keys on $name', ({ create }) => {
  let backend: Backend;
  let keys: IdempotencyKeyStore;
  beforeAll(async () => {
    backend = await create();
    await migrate(backend.db);
    keys = new IdempotencyKeyStore(backend.db);
  }, 120_000);
  afterAll(async () => {
    await backend?.dispose();
  });

  const count = async () => Number((await backend.db.query<{ n: string }>('SELECT count(*) AS n FROM idempotency_keys')).rows[0]!.n);

  it('sweeps only the keys whose window is over, and a swept key starts afresh', async () => {
    const t0 = new Date('2026-01-01T00:00:00Z');
    const at = (hours: number) => new Date(t0.getTime() + hours * HOUR);
    expect(await keys.claim('wf', 'old', 'e1', t0, at(-24))).toBe('e1');
    expect(await keys.claim('wf', 'new', 'e2', at(20), at(-4))).toBe('e2');
    await keys.sweep(at(1));
    expect(await count()).toBe(1);
    expect(await keys.claim('wf', 'new', 'e3', at(21), at(-3))).toBe('e2');
    expect(await keys.claim('wf', 'old', 'e4', at(21), at(-3))).toBe('e4');
  });
});
