import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ANY,
  type AppendResult,
  ConcurrencyError,
  type EventStore,
  type ExpectedVersion,
  type NewEvent,
  NO_STREAM,
  type RecordedEvent,
  STREAM_EXISTS,
  type SubscribeOptions,
} from '../../src/eventstore/eventStore.js';

export interface ContractSubject {
  store: EventStore;
  /**
   * Appends in a transaction kept open `holdMs` before it commits, so that concurrent appends
   * commit out of order. Stores without transactions leave it out and append directly.
   */
  appendHeldOpen?(streamId: string, events: NewEvent[], expected: ExpectedVersion, holdMs: number): Promise<AppendResult>;
  dispose(): Promise<void>;
}

export interface ContractOptions {
  /** Events written by the concurrent appenders of the ordering test. */
  concurrentEvents?: number;
}

/**
 * The behaviour every EventStore adapter keeps. One subject serves the whole suite, so each test
 * works in streams of its own prefix and subscribes with that prefix as filter.
 */
export function eventStoreContract(name: string, factory: () => Promise<ContractSubject>, options: ContractOptions = {}): void {
  describe(name, () => {
    let subject: ContractSubject;
    let store: EventStore;
    beforeAll(async () => {
      subject = await factory();
      store = subject.store;
    });
    afterAll(async () => {
      await subject?.dispose();
    });

    it('appends and reads events with versions, metadata and increasing positions', async () => {
      const stream = `${prefix()}-a`;
      const events = newEvents(3);
      const result = await store.append(stream, events, NO_STREAM);
      const read = await store.read(stream);

      expect(result.nextVersion).toBe(3);
      expect(read.map((e) => e.streamVersion)).toEqual([1, 2, 3]);
      expect(read.map(({ id, type, data, metadata }) => ({ id, type, data, metadata }))).toEqual(events);
      expect(read.every((e) => e.streamId === stream && !Number.isNaN(Date.parse(e.recordedAt)))).toBe(true);
      expect(read[2]!.position).toBe(result.position);
      expect(isAscending(read.map((e) => e.position))).toBe(true);
    });

    it('checks each kind of expected version', async () => {
      const stream = `${prefix()}-v`;
      await expectConflict(store.append(stream, newEvents(1), STREAM_EXISTS), stream, STREAM_EXISTS, 0);
      await expectConflict(store.append(stream, newEvents(1), 1), stream, 1, 0);
      expect((await store.append(stream, newEvents(2), NO_STREAM)).nextVersion).toBe(2);
      await expectConflict(store.append(stream, newEvents(1), NO_STREAM), stream, NO_STREAM, 2);
      await expectConflict(store.append(stream, newEvents(1), 1), stream, 1, 2);
      expect((await store.append(stream, newEvents(1), 2)).nextVersion).toBe(3);
      expect((await store.append(stream, newEvents(1), STREAM_EXISTS)).nextVersion).toBe(4);
      expect((await store.append(stream, newEvents(1), ANY)).nextVersion).toBe(5);
      expect((await store.append(`${stream}-new`, newEvents(1), ANY)).nextVersion).toBe(1);
      expect(await store.read(stream)).toHaveLength(5);
    });

    it('treats appending ids the stream holds as a no-op, even with a stale expected version', async () => {
      const stream = `${prefix()}-i`;
      const first = newEvents(2);
      await store.append(stream, first, NO_STREAM);
      expect((await store.append(stream, first, NO_STREAM)).nextVersion).toBe(2);
      const [third] = newEvents(1);
      await store.append(stream, [third!], 2);

      expect((await store.append(stream, first, NO_STREAM)).nextVersion).toBe(3);
      expect((await store.append(stream, [third!], 2)).nextVersion).toBe(3);
      const read = await store.read(stream);
      expect(read.map((e) => e.id)).toEqual([...first, third!].map((e) => e.id));
    });

    it('reads version ranges', async () => {
      const stream = `${prefix()}-r`;
      await store.append(stream, newEvents(5), NO_STREAM);
      const versions = async (from?: number, to?: number) => (await store.read(stream, { fromVersion: from, toVersion: to })).map((e) => e.streamVersion);

      expect(await versions(2)).toEqual([2, 3, 4, 5]);
      expect(await versions(undefined, 3)).toEqual([1, 2, 3]);
      expect(await versions(2, 4)).toEqual([2, 3, 4]);
      expect(await versions(6)).toEqual([]);
      expect(await store.read(`${stream}-missing`)).toEqual([]);
    });

    it('subscribes from the start: past events, then live ones, in order', async () => {
      const p = prefix();
      await store.append(`${p}-1`, newEvents(3), NO_STREAM);
      await store.append(`${p}-2`, newEvents(2), NO_STREAM);
      const seen = collect(store, { from: 'start', filter: { streamPrefixes: [p] }, batchSize: 2 });
      await seen.subscription.caughtUp();
      expect(seen.events.map((e) => `${e.streamId.slice(p.length)}@${e.streamVersion}`)).toEqual(['-1@1', '-1@2', '-1@3', '-2@1', '-2@2']);

      await store.append(`${p}-1`, newEvents(1), 3);
      await waitFor(() => seen.events.length === 6);
      await seen.subscription.close();
      expect(seen.events[5]!.streamVersion).toBe(4);
      expect(seen.batchSizes.every((size) => size <= 2)).toBe(true);
    });

    it('resumes after a checkpoint', async () => {
      const p = prefix();
      await store.append(`${p}-1`, newEvents(4), NO_STREAM);
      const [, second] = await store.read(`${p}-1`);
      const seen = collect(store, { from: second!.position, filter: { streamPrefixes: [p] } });
      await seen.subscription.caughtUp();
      await seen.subscription.close();
      expect(seen.events.map((e) => e.streamVersion)).toEqual([3, 4]);
    });

    it("subscribes from 'end': only events appended afterwards", async () => {
      const p = prefix();
      await store.append(`${p}-1`, newEvents(2), NO_STREAM);
      const seen = collect(store, { from: 'end', filter: { streamPrefixes: [p] } });
      await seen.subscription.caughtUp();
      expect(seen.events).toEqual([]);

      await store.append(`${p}-1`, newEvents(1), 2);
      await seen.subscription.caughtUp();
      await seen.subscription.close();
      expect(seen.events.map((e) => e.streamVersion)).toEqual([3]);
    });

    it('filters by stream prefix and event type', async () => {
      const p = prefix();
      await store.append(`${p}-a-1`, [newEvent('Started'), newEvent('Finished')], NO_STREAM);
      await store.append(`${p}-b-1`, [newEvent('Started')], NO_STREAM);
      const seen = collect(store, { from: 'start', filter: { streamPrefixes: [`${p}-a`], types: ['Finished'] } });
      await seen.subscription.caughtUp();
      await seen.subscription.close();
      expect(seen.events.map((e) => `${e.streamId.slice(p.length)}:${e.type}`)).toEqual(['-a-1:Finished']);
    });

    it('hands a batch whose handler threw over again, reporting the error', async () => {
      const p = prefix();
      await store.append(`${p}-1`, newEvents(3), NO_STREAM);
      const errors: unknown[] = [];
      const delivered: number[] = [];
      let attempts = 0;
      const subscription = store.subscribe({
        from: 'start',
        filter: { streamPrefixes: [p] },
        async handler(events) {
          if (++attempts <= 2) throw new Error(`refused ${attempts}`);
          delivered.push(...events.map((e) => e.streamVersion));
        },
        onError: (error) => errors.push(error),
      });
      await subscription.caughtUp();
      await subscription.close();
      expect(errors.map((e) => (e as Error).message)).toEqual(['refused 1', 'refused 2']);
      expect(delivered).toEqual([1, 2, 3]);
    });

    it('close waits for the handler in flight and stops delivery', async () => {
      const p = prefix();
      await store.append(`${p}-1`, newEvents(1), NO_STREAM);
      let handlerFinished = false;
      let entered!: () => void;
      const inHandler = new Promise<void>((resolve) => (entered = resolve));
      const delivered: RecordedEvent[] = [];
      const subscription = store.subscribe({
        from: 'start',
        filter: { streamPrefixes: [p] },
        async handler(events) {
          entered();
          await sleep(50);
          delivered.push(...events);
          handlerFinished = true;
        },
      });
      await inHandler;
      await subscription.close();
      expect(handlerFinished).toBe(true);

      await store.append(`${p}-1`, newEvents(1), 1);
      await sleep(100);
      expect(delivered).toHaveLength(1);
    });

    it('delivers concurrent, out-of-order commits to a live subscriber exactly once and in stream order', async () => {
      const p = prefix();
      const total = options.concurrentEvents ?? 4_000;
      const seen = collect(store, { from: 'end', filter: { streamPrefixes: [p] }, batchSize: 100 });
      await seen.subscription.caughtUp();

      const append = (stream: string, events: NewEvent[], holdMs: number) => subject.appendHeldOpen?.(stream, events, ANY, holdMs) ?? store.append(stream, events, ANY);
      await Promise.all(range(8).map((worker) => appendConcurrently(append, p, worker, total / 8)));
      await seen.subscription.caughtUp();
      await seen.subscription.close();

      expect(seen.events).toHaveLength(total);
      expect(new Set(seen.events.map((e) => e.id)).size).toBe(total);
      expect(isAscending(seen.events.map((e) => e.position))).toBe(true);
      for (const [stream, versions] of versionsByStream(seen.events)) {
        expect(versions, stream).toEqual(range(versions.length).map((i) => i + 1));
      }
    }, 25_000);
  });
}

type Append = (stream: string, events: NewEvent[], holdMs: number) => Promise<AppendResult>;

/** Streams are shared between workers, so appends to one stream also contend. */
async function appendConcurrently(append: Append, p: string, worker: number, count: number): Promise<void> {
  for (let written = 0; written < count;) {
    const size = Math.min(1 + Math.floor(Math.random() * 4), count - written);
    const stream = `${p}-s${Math.floor(Math.random() * 24)}`;
    await append(
      stream,
      range(size).map(() => newEvent(`Worker${worker}`)),
      Math.floor(Math.random() * 5),
    );
    written += size;
  }
}

let prefixes = 0;
function prefix(): string {
  return `contract${++prefixes}_${randomUUID().slice(0, 8)}`;
}

function newEvent(type = 'Happened'): NewEvent {
  const id = randomUUID();
  return {
    id,
    type,
    data: { id, nested: { list: [1, 'two', null] } },
    metadata: { correlationId: 'execution-1', causationId: null, userId: 'user-1' },
  };
}

function newEvents(count: number): NewEvent[] {
  return range(count).map(() => newEvent());
}

function collect(store: EventStore, options: Omit<SubscribeOptions, 'handler'>) {
  const events: RecordedEvent[] = [];
  const batchSizes: number[] = [];
  const subscription = store.subscribe({
    ...options,
    async handler(batch) {
      batchSizes.push(batch.length);
      events.push(...batch);
    },
  });
  return { events, batchSizes, subscription };
}

async function expectConflict(attempt: Promise<unknown>, streamId: string, expected: ExpectedVersion, actual: number) {
  const error = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConcurrencyError);
  expect(error).toMatchObject({ code: 'CONCURRENT_EXECUTION_CONFLICT', streamId, expected, actual });
}

function versionsByStream(events: RecordedEvent[]): Map<string, number[]> {
  const byStream = new Map<string, number[]>();
  for (const event of events) {
    const versions = byStream.get(event.streamId) ?? [];
    versions.push(event.streamVersion);
    byStream.set(event.streamId, versions);
  }
  return byStream;
}

function isAscending(values: string[]): boolean {
  return values.every((value, i) => i === 0 || values[i - 1]! < value);
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}
