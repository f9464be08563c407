/**
 * The event store port. The domain never sees it; command handlers, the runtime and the
 * projections do. Stream versions count events: a stream with N events is at version N, its
 * first event has version 1. `position` is opaque and totally orders every event of the store
 * (commit order for subscribers); compare positions only through the adapter that made them.
 */

export const NO_STREAM = 'no_stream' as const;
export const STREAM_EXISTS = 'stream_exists' as const;
export const ANY = 'any' as const;
export type ExpectedVersion = number | typeof NO_STREAM | typeof STREAM_EXISTS | typeof ANY;

export interface EventMetadata {
  /** The execution (or workflow) the event belongs to. */
  correlationId: string;
  /** The event id or command id that caused this event. */
  causationId: string | null;
  userId: string | null;
}

export interface NewEvent<Type extends string = string, Data = unknown> {
  /** Deterministic where a command may be retried: appending an id the stream holds is a no-op. */
  id: string;
  type: Type;
  data: Data;
  metadata: EventMetadata;
}

export interface RecordedEvent<Type extends string = string, Data = unknown> extends NewEvent<Type, Data> {
  streamId: string;
  streamVersion: number;
  position: string;
  recordedAt: string;
}

export interface AppendResult {
  nextVersion: number;
  position: string;
}

export interface ReadOptions {
  /** First version to return (inclusive); default 1. */
  fromVersion?: number;
  /** Last version to return (inclusive); default the end of the stream. */
  toVersion?: number;
}

export interface SubscriptionFilter {
  /** Only streams whose id starts with one of these prefixes. */
  streamPrefixes?: string[];
  /** Only events of these types. */
  types?: string[];
}

/** Whether events of this stream and type pass the filter (none: everything passes). */
export function passesFilter(filter: SubscriptionFilter | undefined, streamId: string, type: string): boolean {
  if (!filter) return true;
  const { streamPrefixes, types } = filter;
  if (streamPrefixes && !streamPrefixes.some((prefix) => streamId.startsWith(prefix))) return false;
  return !types || types.includes(type);
}

export interface SubscribeOptions {
  /**
   * Resume after this position ('start': from the first event, 'end': only new events). A
   * subscription starts asynchronously: with 'end', await `caughtUp()` before relying on it to
   * see an append made right after `subscribe`.
   */
  // eslint-disable-next-line @typescript-eslint/no-redundant-type-constituents -- the two words are documentation: a position is a string too
  from: string | 'start' | 'end';
  filter?: SubscriptionFilter;
  /** Largest batch handed to the handler at once. */
  batchSize?: number;
  /**
   * Receives events in commit order, one batch at a time; the next batch waits for the
   * returned promise. A throwing handler gets the same batch again after a short delay.
   */
  handler: (events: RecordedEvent[]) => Promise<void>;
  onError?: (error: unknown) => void;
}

export interface Subscription {
  /** Resolves once every event committed before the call has been handed to the handler. */
  caughtUp(): Promise<void>;
  close(): Promise<void>;
}

export interface EventStore {
  append(streamId: string, events: NewEvent[], expectedVersion: ExpectedVersion): Promise<AppendResult>;
  read(streamId: string, options?: ReadOptions): Promise<RecordedEvent[]>;
  subscribe(options: SubscribeOptions): Subscription;
  close(): Promise<void>;
}

export class ConcurrencyError extends Error {
  readonly code = 'CONCURRENT_EXECUTION_CONFLICT';
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedVersion,
    readonly actual: number,
  ) {
    super(`stream ${streamId} is at version ${actual}, expected ${String(expected)}`);
    this.name = 'ConcurrencyError';
  }
}
