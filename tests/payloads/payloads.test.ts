import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrator.js';
import { isPayloadReference, PAYLOAD_REFERENCE_KEY } from '../../src/domain/payloadReference.js';
import { Payloads } from '../../src/payloads/payloads.js';
import { PayloadStore } from '../../src/payloads/payloadStore.js';
import { BACKENDS, type Backend } from '../support/backends.js';

const INLINE = 1024;
const text = (length: number, fill = 'x') => fill.repeat(length);

describe('Payloads on pglite', () => {
  let backend: Backend;
  let writes: number;
  const payloads = () => {
    const store = new PayloadStore(backend.db);
    const put = store.put.bind(store);
    store.put = async (...args) => {
      writes += 1;
      return put(...args);
    };
    return new Payloads(store, INLINE);
  };
  const rows = async () => Number((await backend.db.query<{ n: string }>('SELECT count(*) AS n FROM payloads')).rows[0]!.n);

  beforeEach(async () => {
    backend = await BACKENDS[1]!.create();
    await migrate(backend.db);
    writes = 0;
  });
  afterEach(() => backend.dispose());

  it('leaves small values as they are, the very same object, and writes nothing', async () => {
    const value = { a: [1, 'two', { three: null }] };
    expect(await payloads().externalize('t', value)).toBe(value);
    expect(await rows()).toBe(0);
  });

  it('stores the innermost large part, once, however many wrappers and copies refer to it', async () => {
    const subject = payloads();
    const blob = { text: text(4 * INLINE) };
    // The text is the large part: `{ text }` around its reference is small, and stays inline.
    const first = (await subject.externalize('t', { a: blob })) as { a: { text: unknown } };
    expect(isPayloadReference(first.a.text)).toBe(true);
    const wrapped = (await subject.externalize('t', { b: { a: blob } })) as { b: { a: unknown } };
    expect(wrapped.b.a).toEqual(first.a);
    // The same content as another object (a JSON round trip): the same hash, no second write.
    const copy = (await subject.externalize('t', JSON.parse(JSON.stringify({ a: blob })) as unknown)) as { a: unknown };
    expect(copy.a).toEqual(first.a);
    expect([await rows(), writes]).toEqual([1, 1]);
    // Another process knows nothing: it writes again, and the row stays one.
    await payloads().externalize('t', { a: blob });
    expect(await rows()).toBe(1);
  });

  it('stores a large object of large parts as parts, and resolves it back whole, in another process too', async () => {
    const value = { parts: [text(2 * INLINE, 'a'), text(2 * INLINE, 'b'), ...Array.from({ length: 200 }, (_, i) => ({ i, name: `item ${i}` }))] };
    // Each text, then the array holding their references and 200 small items (still over the bound).
    const stored = (await payloads().externalize('t', value)) as { parts: unknown };
    expect(isPayloadReference(stored.parts)).toBe(true);
    expect(await rows()).toBe(3);
    expect(await payloads().resolve('t', stored)).toEqual(value);
    await expect(Promise.resolve(payloads().resolve('other tenant', stored))).rejects.toThrow(/not stored/);
  });

  it('keys payloads by tenant: the same value in two tenants is two rows', async () => {
    const subject = payloads();
    const value = text(2 * INLINE);
    const one = await subject.externalize('one', value);
    const two = await subject.externalize('two', value);
    expect(one).toEqual(two);
    expect((one as Record<string, unknown>)[PAYLOAD_REFERENCE_KEY]).toMatch(/^[0-9a-f]{64}$/);
    expect(await rows()).toBe(2);
  });
});
