import { uuidV5 } from '../ids/uuidV5.js';
import {
  ANY as ESDB_ANY,
  type AppendExpectedRevision,
  type CurrentRevision,
  NO_STREAM as ESDB_NO_STREAM,
  type Position,
  STREAM_EXISTS as ESDB_STREAM_EXISTS,
} from '@eventstore/db-client';
import { ANY, type ExpectedVersion, NO_STREAM, STREAM_EXISTS } from './eventStore.js';

/** Our versions count events from 1; EventStoreDB revisions count from 0. */
export function toExpectedRevision(expected: ExpectedVersion): AppendExpectedRevision {
  if (expected === ANY) return ESDB_ANY;
  if (expected === NO_STREAM) return ESDB_NO_STREAM;
  if (expected === STREAM_EXISTS) return ESDB_STREAM_EXISTS;
  if (!Number.isSafeInteger(expected) || expected < 0) throw new RangeError(`invalid expected version ${expected}`);
  return expected === 0 ? ESDB_NO_STREAM : BigInt(expected - 1);
}

export function versionOfRevision(revision: bigint): number {
  return Number(revision) + 1;
}

export function versionOfCurrentRevision(current: CurrentRevision): number {
  return current === ESDB_NO_STREAM ? 0 : versionOfRevision(current);
}

const DIGITS = 20; // fits any unsigned 64-bit value, so plain string order is numeric order
const POSITION_PATTERN = /^(\d{20}):(\d{20})$/;

export function encodeEsdbPosition({ commit, prepare }: Position): string {
  return `${commit.toString().padStart(DIGITS, '0')}:${prepare.toString().padStart(DIGITS, '0')}`;
}

export function decodeEsdbPosition(position: string): Position {
  const match = POSITION_PATTERN.exec(position);
  if (!match) throw new TypeError(`not a position of the EventStoreDB event store: ${position}`);
  return { commit: BigInt(match[1]!), prepare: BigInt(match[2]!) };
}

export function compareEsdbPositions(a: Position, b: Position): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  return a.prepare === b.prepare ? 0 : a.prepare < b.prepare ? -1 : 1;
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Namespace of the name-based uuids derived from Cascade's event ids. Never change it. */
export const CASCADE_EVENT_ID_NAMESPACE = '7d8e5fa4-09a3-47bf-a452-286b17fb3e3f';

/**
 * EventStoreDB only takes uuids as event ids and deduplicates on them, so a retried append
 * must derive the same uuid from the same id: a uuid stays as it is, anything else becomes a
 * name-based (version 5, SHA-1) uuid.
 */
export function eventUuid(id: string, namespace = CASCADE_EVENT_ID_NAMESPACE): string {
  if (UUID_PATTERN.test(id)) return id.toLowerCase();
  return uuidV5([Buffer.from(namespace.replaceAll('-', ''), 'hex'), id]);
}
