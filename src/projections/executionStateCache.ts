import { toExecutionEvent } from '../domain/execution/events.js';
import { executionStreamId } from '../domain/execution/events.js';
import { foldExecution } from '../domain/execution/evolve.js';
import type { ExecutionState } from '../domain/execution/state.js';
import type { EventStore } from '../eventstore/eventStore.js';
import { nodeOrdinals } from './executionRows.js';

/** A folded execution and each node's position in its definition (the row's ordinal). */
export interface ProjectedExecution {
  state: ExecutionState;
  ordinals: ReadonlyMap<string, number>;
}

export const withOrdinals = (state: ExecutionState): ProjectedExecution => ({
  state,
  ordinals: nodeOrdinals(state),
});

/**
 * The projection's folded executions, least recently used first out, so that a batch folds only
 * its own events instead of re-reading each stream. `evolve` changes states in place, so an
 * entry is taken out while a batch works on it and put back only once the batch committed: a
 * rolled-back batch can't leave a state that is ahead of the read model.
 */
export class ExecutionStateCache {
  private readonly entries = new Map<string, ProjectedExecution>();

  constructor(
    private readonly store: EventStore,
    private readonly capacity: number,
  ) {}

  /** The execution as of `version` (null before its first event), out of the cache. */
  async take(executionId: string, version: number): Promise<ProjectedExecution | null> {
    const cached = this.entries.get(executionId);
    this.entries.delete(executionId);
    if (cached?.state.version === version) return cached;
    if (version === 0) return null;
    const events = await this.store.read(executionStreamId(executionId), { toVersion: version });
    const state = foldExecution(events.map(toExecutionEvent));
    return state && withOrdinals(state);
  }

  put(executionId: string, entry: ProjectedExecution): void {
    this.entries.delete(executionId);
    this.entries.set(executionId, entry);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }
}
