import { toExecutionEvent } from '../../domain/execution/events.js';
import type { SqlClient } from '../../db/sqlClient.js';
import { EXECUTION_STREAM_PREFIX } from '../../domain/execution/events.js';
import { foldExecution } from '../../domain/execution/evolve.js';
import { leafOutputs } from '../../domain/execution/leafOutputs.js';
import type { ExecutionState } from '../../domain/execution/state.js';
import type { EventStore, RecordedEvent } from '../../eventstore/eventStore.js';
import { isEventTriggerType } from '../../nodes/triggerEvent.js';
import { CheckpointedFeed } from '../feeds/checkpointedFeed.js';
import type { EventTriggers } from './eventTriggers.js';
import type { ErrorReporter } from '../../errors/errorReporter.js';
import type { CommandContext } from '../../commands/executionCommandHandler.js';

/** The event every ending execution emits, by how it ended. */
const OUTCOME_EVENTS: Readonly<Record<string, string>> = {
  ExecutionCompleted: 'execution.completed',
  ExecutionFailed: 'execution.failed',
  ExecutionCancelled: 'execution.cancelled',
};

export interface ExecutionOutcome {
  workflowId: string;
  executionId: string;
  status: string;
  /** Outputs of the completed nodes that have no dependents, by node id. */
  outputs: Record<string, unknown>;
  /** 1 for an execution not started by such an event, else one more than the one that started it. */
  chainDepth: number;
}

/** The waits (src/runtime/waits), which hear outcome events as they hear emitEvent's. */
export interface OutcomeWaits {
  listenedNames(names: readonly string[]): Promise<Set<string>>;
  emit(name: string, data: unknown, context: CommandContext): Promise<void>;
}

/** The outcome event names some wait listens to, and those some trigger does. */
interface Listened {
  waits: Set<string>;
  triggers: Set<string>;
}

export interface ExecutionOutcomesOptions {
  store: EventStore;
  db: SqlClient;
  events: EventTriggers;
  waits: OutcomeWaits;
  /** Longest chain of executions started by outcome events; a workflow that starts itself on completion loops until here. */
  maxChainDepth: number;
  onError: ErrorReporter;
}

/**
 * Emits `execution.completed` / `execution.failed` / `execution.cancelled` for every execution
 * that ends, so that workflows chain. Started executions derive their ids from the ending event,
 * so a replay (or a second process following the same log) starts nothing twice; an execution
 * that ends again after a manual retry emits again.
 */
export class ExecutionOutcomes {
  private readonly feed: CheckpointedFeed;

  constructor(private readonly options: ExecutionOutcomesOptions) {
    this.feed = new CheckpointedFeed({
      store: options.store,
      db: options.db,
      name: 'execution-outcomes',
      filter: { streamPrefixes: [EXECUTION_STREAM_PREFIX], types: Object.keys(OUTCOME_EVENTS) },
      handle: async (events, checkpoint) => {
        const listened = await this.listenedNames(events);
        for (const event of events) {
          const name = OUTCOME_EVENTS[event.type]!;
          const to = { waits: listened.waits.has(name), triggers: listened.triggers.has(name) };
          if (to.waits || to.triggers) await this.emit(event, to);
        }
        await checkpoint(options.db);
      },
      onError: options.onError,
    });
  }

  start(): Promise<void> {
    return this.feed.start();
  }

  stop(): Promise<void> {
    return this.feed.stop();
  }

  /** The outcome events of a batch that some wait, and some trigger, listens to: one lookup each per batch, not per event. */
  private async listenedNames(events: RecordedEvent[]): Promise<Listened> {
    const names = [...new Set(events.map((event) => OUTCOME_EVENTS[event.type]!))];
    const [waits, triggers] = await Promise.all([this.options.waits.listenedNames(names), this.options.events.listenedNames(names)]);
    return { waits, triggers };
  }

  /** Offers the outcome to whichever of the waits and the triggers listen to its name. */
  private async emit(ending: RecordedEvent, to: { waits: boolean; triggers: boolean }): Promise<void> {
    const name = OUTCOME_EVENTS[ending.type]!;
    const state = await this.stateAt(ending);
    const outcome = outcomeOf(state);
    if (outcome.chainDepth > this.options.maxChainDepth) {
      this.options.onError(new Error(`${name} of execution ${outcome.executionId} starts nothing: the event chain is ${this.options.maxChainDepth} executions long`), {
        executionId: outcome.executionId,
      });
      return;
    }
    // The chain stays in the tenant of the execution that ended; as with emitEvent, the waits hear it
    // first and the executions it starts do not (a wait's signal refuses a second delivery).
    const context = { causationId: ending.id, tenantId: state.tenantId };
    if (to.waits) await this.options.waits.emit(name, outcome, context);
    if (to.triggers) await this.options.events.emit(name, outcome, { sourceId: ending.id, context });
  }

  /** The execution as it was when it ended, also when a later retry reopened it. */
  private async stateAt(ending: RecordedEvent): Promise<ExecutionState> {
    const events = await this.options.store.read(ending.streamId, { toVersion: ending.streamVersion });
    return foldExecution(events.map(toExecutionEvent))!;
  }
}

function outcomeOf(state: ExecutionState): ExecutionOutcome {
  return { workflowId: state.workflowId, executionId: state.id, status: state.status, outputs: leafOutputs(state), chainDepth: chainDepthOf(state) + 1 };
}

/** How deep in a chain of outcome events the execution itself was started. */
function chainDepthOf(state: ExecutionState): number {
  const depth = (state.triggerData as { chainDepth?: unknown } | null)?.chainDepth;
  return isEventTriggerType(state.triggerType) && typeof depth === 'number' ? depth : 0;
}
