import type { EventMetadata, RecordedEvent } from './eventStore.js';

/** Commit order of an event: its transaction id, then its global position within it. */
export interface SqlPosition {
  xact: bigint;
  seq: bigint;
}

export const ORIGIN: SqlPosition = { xact: 0n, seq: 0n };

const DIGITS = 20; // fits any unsigned 64-bit value, so plain string order is numeric order
const POSITION_PATTERN = /^(\d{20}):(\d{20})$/;

export function encodePosition({ xact, seq }: SqlPosition): string {
  return `${xact.toString().padStart(DIGITS, '0')}:${seq.toString().padStart(DIGITS, '0')}`;
}

export function decodePosition(position: string): SqlPosition {
  const match = POSITION_PATTERN.exec(position);
  if (!match) throw new TypeError(`not a position of the PostgreSQL event store: ${position}`);
  return { xact: BigInt(match[1]!), seq: BigInt(match[2]!) };
}

export function comparePositions(a: SqlPosition, b: SqlPosition): number {
  if (a.xact !== b.xact) return a.xact < b.xact ? -1 : 1;
  return a.seq === b.seq ? 0 : a.seq < b.seq ? -1 : 1;
}

/** Select list of every event query; ids come back as text because the drivers differ on int8. */
export const EVENT_COLUMNS = `stream_id, stream_version, event_id, type, data, metadata,
  to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS recorded_at,
  transaction_id::text AS xact, global_position::text AS seq`;

export interface EventRow {
  stream_id: string;
  stream_version: number;
  event_id: string;
  type: string;
  data: unknown;
  metadata: EventMetadata;
  /** ISO 8601 in UTC with milliseconds, as Date.toISOString() writes it: formatted by the database, not parsed here. */
  recorded_at: string;
  xact: string;
  seq: string;
}

export function rowPosition(row: Pick<EventRow, 'xact' | 'seq'>): SqlPosition {
  return { xact: BigInt(row.xact), seq: BigInt(row.seq) };
}

export function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    id: row.event_id,
    type: row.type,
    data: row.data,
    metadata: row.metadata,
    streamId: row.stream_id,
    streamVersion: row.stream_version,
    position: encodePosition(rowPosition(row)),
    recordedAt: row.recorded_at,
  };
}
