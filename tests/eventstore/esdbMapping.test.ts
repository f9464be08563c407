import { NO_STREAM as ESDB_NO_STREAM } from '@eventstore/db-client';
import { describe, expect, it } from 'vitest';
import { ANY, NO_STREAM, STREAM_EXISTS } from '../../src/eventstore/eventStore.js';
import {
  compareEsdbPositions,
  decodeEsdbPosition,
  encodeEsdbPosition,
  eventUuid,
  toExpectedRevision,
  versionOfCurrentRevision,
  versionOfRevision,
} from '../../src/eventstore/esdbMapping.js';

describe('EventStoreDB mapping', () => {
  it('maps versions (from 1) to revisions (from 0) and back', () => {
    expect(toExpectedRevision(1)).toBe(0n);
    expect(toExpectedRevision(42)).toBe(41n);
    expect(toExpectedRevision(0)).toBe(ESDB_NO_STREAM);
    expect([ANY, NO_STREAM, STREAM_EXISTS].map(toExpectedRevision)).toEqual(['any', 'no_stream', 'stream_exists']);
    expect(() => toExpectedRevision(-1)).toThrow(RangeError);
    expect(() => toExpectedRevision(1.5)).toThrow(RangeError);
    expect(versionOfRevision(0n)).toBe(1);
    expect(versionOfCurrentRevision(ESDB_NO_STREAM)).toBe(0);
    expect(versionOfCurrentRevision(9n)).toBe(10);
  });

  it('encodes positions as strings that sort like the positions', () => {
    const positions = [
      { commit: 0n, prepare: 0n },
      { commit: 9n, prepare: 9n },
      { commit: 10n, prepare: 3n },
      { commit: 10n, prepare: 10n },
      { commit: 2n ** 64n - 1n, prepare: 2n ** 64n - 1n },
    ];
    const encoded = positions.map(encodeEsdbPosition);
    expect(encoded.map(decodeEsdbPosition)).toEqual(positions);
    expect([...encoded].sort()).toEqual(encoded);
    expect(compareEsdbPositions(positions[1]!, positions[2]!)).toBe(-1);
    expect(compareEsdbPositions(positions[3]!, positions[3]!)).toBe(0);
    expect(() => decodeEsdbPosition('12:34')).toThrow(TypeError);
  });

  it('keeps uuids and derives deterministic version 5 uuids from other ids', () => {
    const uuid = '0f8fad5b-d9cb-469f-a165-70867728950e';
    expect(eventUuid(uuid.toUpperCase())).toBe(uuid);
    // The RFC 4122 example: the DNS namespace and "www.example.com".
    expect(eventUuid('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
    const derived = eventUuid('execution-1/node-a/attempt-2');
    expect(derived).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(eventUuid('execution-1/node-a/attempt-2')).toBe(derived);
    expect(eventUuid('execution-1/node-a/attempt-3')).not.toBe(derived);
  });
});
