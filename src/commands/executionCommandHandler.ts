import type { ExecutionCommand } from '../domain/execution/commands.js';
import { decide } from '../domain/execution/decide.js';
import { executionStreamId, type ExecutionEvent } from '../domain/execution/events.js';
import { evolve } from '../domain/execution/evolve.js';
import type { ExecutionState } from '../domain/execution/state.js';
import { ConcurrencyError, NO_STREAM, type EventStore, type RecordedEvent } from '../eventstore/eventStore.js';
import { eventId } from './eventIds.js';
import { KeyedSerialQueue } from './streamLock.js';

export interface CommandContext {
  userId?: string | null;
  /** The event or request that caused this command. */
  causationId?: string | null;
}

export interface CommandResult {
  state: ExecutionState;
  events: RecordedEvent[];
}

const MAX_CONFLICT_RETRIES = 20;
const DEFAULT_CACHE_SIZE = 2000;

export const toExecutionEvent = (event: RecordedEvent): ExecutionEvent => ({ type: event.type, data: event.data }) as ExecutionEvent;

/**
 * Read -> decide -> append with the expected version -> evolve. States are cached per stream, so
 * a command costs one append, not a re-fold of the stream: the cached version is the expected
 * version, and only a conflict (another process wrote) reads the events it missed.
 */
export class ExecutionCommandHandler {
  private readonly cache = new Map<string, ExecutionState>();
  private readonly queue = new KeyedSerialQueue();

  constructor(
    private readonly store: EventStore,
    private readonly clock: () => Date = () => new Date(),
    private readonly cacheSize = DEFAULT_CACHE_SIZE,
  ) {}

  handle(executionId: string, command: ExecutionCommand, context: CommandContext = {}): Promise<CommandResult> {
    return this.queue.run(executionId, () => this.decideAndAppend(executionId, command, context));
  }

  /** The current state, caught up with the store. */
  load(executionId: string): Promise<ExecutionState | null> {
    return this.queue.run(executionId, () => this.catchUp(executionId));
  }

  private async decideAndAppend(executionId: string, command: ExecutionCommand, context: CommandContext): Promise<CommandResult> {
    let state = this.cache.get(executionId) ?? (await this.catchUp(executionId));
    for (let attempt = 0; ; attempt++) {
      const events = decide(command, state, this.clock());
      if (events.length === 0) return { state: state!, events: [] };
      try {
        const recorded = await this.append(executionId, state, events, context);
        for (const event of events) state = evolve(state, event);
        this.remember(executionId, state!);
        return { state: state!, events: recorded };
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt >= MAX_CONFLICT_RETRIES) throw error;
        state = await this.catchUp(executionId);
      }
    }
  }

  private async append(executionId: string, state: ExecutionState | null, events: ExecutionEvent[], context: CommandContext): Promise<RecordedEvent[]> {
    const streamId = executionStreamId(executionId);
    const baseVersion = state?.version ?? 0;
    const newEvents = events.map((event, index) => ({
      id: eventId(streamId, baseVersion, index, event.type, event.data),
      type: event.type,
      data: event.data,
      metadata: { correlationId: executionId, causationId: context.causationId ?? null, userId: context.userId ?? null },
    }));
    const { position } = await this.store.append(streamId, newEvents, state ? state.version : NO_STREAM);
    return newEvents.map((event, index) => ({
      ...event,
      streamId,
      streamVersion: baseVersion + index + 1,
      position,
      recordedAt: this.clock().toISOString(),
    }));
  }

  /** Folds what the cached state has not seen yet (everything, when nothing is cached). */
  private async catchUp(executionId: string): Promise<ExecutionState | null> {
    let state = this.cache.get(executionId) ?? null;
    const events = await this.store.read(executionStreamId(executionId), { fromVersion: (state?.version ?? 0) + 1 });
    for (const event of events) state = evolve(state, toExecutionEvent(event));
    if (state) this.remember(executionId, state);
    return state;
  }

  /** Least recently used states leave the cache first (a Map iterates in insertion order). */
  private remember(executionId: string, state: ExecutionState): void {
    this.cache.delete(executionId);
    this.cache.set(executionId, state);
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
  }
}
