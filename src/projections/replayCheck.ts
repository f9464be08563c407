import { toExecutionEvent } from '../domain/execution/events.js';
import { DomainError } from '../domain/errors.js';
import { executionStreamId, type ExecutionEvent } from '../domain/execution/events.js';
import { foldExecution } from '../domain/execution/evolve.js';
import type { EventStore } from '../eventstore/eventStore.js';
import { executionViewFromState } from './executionView.js';
import type { ExecutionView } from './executionViewTypes.js';
import type { ReadModel } from './readModel.js';
import { differences, type Difference } from './valueDifferences.js';

export interface ReplayReport {
  executionId: string;
  /** Events in the stream now. */
  eventCount: number;
  /** The stream version of the read model's row; null without one (not projected yet, or removed by retention). */
  readModelVersion: number | null;
  /** How the read model differs from the fold of as many events as it has seen. */
  differences: Difference[];
  consistent: boolean;
}

/**
 * Re-folds an execution's stored events with the current code and compares the view with the one
 * the read model serves. The fold stops at the read model's stream version, so that a read model
 * a few events behind (the projection lags by design) is not reported as a divergence. The
 * remaining-time estimate is left out: it depends on the clock and on other executions.
 */
export async function replayCheck(store: EventStore, readModel: ReadModel, executionId: string): Promise<ReplayReport> {
  const events = await store.read(executionStreamId(executionId));
  if (events.length === 0) throw new DomainError('NOT_FOUND', `execution ${executionId} not found`);
  const projected = await readModel.getExecution(executionId);
  const found = projected ? compare(events.slice(0, Math.max(1, projected.streamVersion)).map(toExecutionEvent), projected) : [];
  return { executionId, eventCount: events.length, readModelVersion: projected?.streamVersion ?? null, differences: found, consistent: found.length === 0 };
}

function compare(events: readonly ExecutionEvent[], projected: ExecutionView): Difference[] {
  return differences(withoutEstimate(executionViewFromState(foldExecution(events)!)), withoutEstimate(projected));
}

const withoutEstimate = ({ estimatedTimeRemainingMs: _, ...view }: ExecutionView) => view;
