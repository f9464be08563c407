import { toExecutionEvent, type ExecutionCommandHandler } from '../commands/executionCommandHandler.js';
import type { SqlExecutor } from '../db/sqlClient.js';
import type { ExecutionEvent } from '../domain/execution/events.js';
import type { RecordedEvent } from '../eventstore/eventStore.js';
import type { ExecutionFacts } from './executionFacts.js';
import { TableChanges } from './tableChanges.js';
import { planTimers } from './timerPlan.js';
import type { Timer, TimerScheduler } from './timers.js';
import { TimerStore } from './timerStore.js';
import { planJobs } from './workQueuePlan.js';
import { WorkQueueStore, type ExternalJob } from './workQueueStore.js';

/** The changes of one batch: written with the runtime's checkpoint, so that a crash loses neither. */
export interface SchedulePlan {
  /** Whether the batch puts any row; deletes alone may wait, a stale row only meets a refusal. */
  readonly puts: boolean;
  write(tx: SqlExecutor): Promise<void>;
  /** After the commit: wakes the scheduler if a timer is due earlier than it planned to wake. */
  committed(): void;
}

/**
 * Keeps the durable timers and the claimable external jobs in step with the execution events.
 * What an event implies comes from the event and the execution's node definitions, which never
 * change, so a replayed or late batch writes the same rows again; a row that outlived its
 * attempt only makes a timer fire or a claim fail on a command that the decider refuses.
 */
export class DurableSchedule {
  constructor(
    private readonly handler: ExecutionCommandHandler,
    private readonly scheduler: TimerScheduler,
  ) {}

  async plan(recorded: RecordedEvent[]): Promise<SchedulePlan> {
    const events = recorded.map((each) => ({ executionId: each.metadata.correlationId, event: toExecutionEvent(each) }));
    const facts = await this.factsOf(events);
    const timers = new TableChanges<Timer>();
    const jobs = new TableChanges<ExternalJob>();
    for (const { executionId, event } of events) {
      const execution = facts.get(executionId);
      if (!execution) continue;
      planTimers(timers, event, execution);
      planJobs(jobs, event, execution);
    }
    return {
      puts: timers.rows.length > 0 || jobs.rows.length > 0,
      write: async (tx) => {
        await TimerStore.apply(tx, timers);
        await WorkQueueStore.apply(tx, jobs);
      },
      committed: () => {
        for (const each of timers.rows) this.scheduler.notify(each.dueAt);
      },
    };
  }

  /** Definitions come from any state (they never change); a resume needs the current one. */
  private async factsOf(events: Array<{ executionId: string; event: ExecutionEvent }>): Promise<Map<string, ExecutionFacts>> {
    const resumed = new Set(events.filter(({ event }) => event.type === 'ExecutionResumed').map(({ executionId }) => executionId));
    const facts = await Promise.all(
      [...new Set(events.map((each) => each.executionId))].map(async (executionId): Promise<ExecutionFacts | null> => {
        const current = resumed.has(executionId) ? await this.handler.load(executionId) : null;
        const state = current ?? (await this.handler.current(executionId));
        return state && { executionId, nodes: state.graph.nodes, current };
      }),
    );
    return new Map(facts.filter((each) => each !== null).map((each) => [each.executionId, each]));
  }
}
