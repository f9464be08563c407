import { describe, expect, it } from 'vitest';
import { createWorker } from '../../src/worker/index.js';

const valid = { url: 'http://127.0.0.1:1', apiKey: 'k', queue: 'q', handler: async () => null };

describe('createWorker options', () => {
  it.each([
    [{ concurrency: 0 }, RangeError, /concurrency/],
    [{ concurrency: 1_001 }, RangeError, /concurrency/],
    [{ concurrency: 1.5 }, RangeError, /concurrency/],
    [{ leaseMs: 999 }, RangeError, /leaseMs/],
    [{ leaseMs: 3_600_001 }, RangeError, /leaseMs/],
    [{ workerId: 'w'.repeat(257) }, RangeError, /workerId/],
    [{ queue: '' }, TypeError, /queue/],
    [{ apiKey: undefined }, TypeError, /apiKey/],
    [{ handler: 'not a function' }, TypeError, /handler/],
  ])('refuses %j before connecting to anything', (override, type, message) => {
    expect(() => createWorker({ ...valid, ...(override as object) })).toThrow(type);
    expect(() => createWorker({ ...valid, ...(override as object) })).toThrow(message);
  });
});
