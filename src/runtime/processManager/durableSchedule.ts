import { type ExecutionCommandHandler } from '../../commands/executionCommandHandler.js';
import { toExecutionEvent } from '../../domain/execution/events.js';
import type { SqlExecutor } from '../../db/sqlClient.js';
import type { ExecutionEvent } from '../../domain/execution/events.js';
import type { NodeTypeLookup } from '../../domain/workflow/nodeCapabilities.js';
import type { RecordedEvent } from '../../eventstore/eventStore.js';
import type { ExecutionFacts } from './executionFacts.js';
import { isExecutionFault } from '../executionFaults.js';
import { TableChanges } from './tableChanges.js';
import { planTimers } from '../timers/timerPlan.js';
import type { Timer } from '../timers/timer.js';
import type { TimerScheduler } from '../timers/timers.js';
import { TimerStore } from '../timers/timerStore.js';
import type { EndedAttempt } from '../workQueue/jobNotices.js';
import { planJobs } from '../workQueue/workQueuePlan.js';
import { WorkQueueStore, type ExternalJob } from '../workQueue/workQueueStore.js';
import { planWaits } from '../waits/waitPlan.js';
import type { Wait } from '../waits/wait.js';
import { WaitStore } from '../waits/waitStore.js';

/** The changes of one batch: written with the runtime's checkpoint, so that a crash loses neither. */
export interface SchedulePlan {
  /** Whether the batch puts any row; deletes alone may wait, a stale row only meets a refusal. */
  readonly puts: boolean;
  write(tx: SqlExecutor): Promise<void>;
  /** After the commit: wakes the scheduler if a timer is due earlier than it planned to wake. */
  committed(): void;
}

/**
 * Keeps the durable timers, the claimable external jobs and the waits in step with the execution events.
 * What an event implies comes from the event and the execution's node definitions, which never
 * change, so a replayed or late batch writes the same rows again; a row that outlived its
 * attempt only makes a timer fire or a claim fail on a command that the decider refuses.
 */
export class DurableSchedule {
  constructor(
    private readonly handler: ExecutionCommandHandler,
    private readonly scheduler: TimerScheduler,
    private readonly nodeTypes: NodeTypeLookup,
  ) {}

  /**
   * `faulty` holds the executions whose handling failed; planning adds those whose events give
   * rows it cannot write (a due time that is no date: a delay of 1e300 ms) or whose state cannot
   * be read. Their events plan nothing, so that the batch's transaction holds only good rows.
   */
  async plan(recorded: RecordedEvent[], faulty: Map<string, unknown>): Promise<SchedulePlan> {
    const byExecution = new Map<string, ExecutionEvent[]>();
    for (const each of recorded) {
      const executionId = each.metadata.correlationId;
      const events = byExecution.get(executionId);
      if (events) events.push(toExecutionEvent(each));
      else byExecution.set(executionId, [toExecutionEvent(each)]);
    }
    const facts = await this.factsOf(byExecution, faulty);
    const timers = new TableChanges<Timer>();
    const jobs = new TableChanges<ExternalJob>();
    const ended: EndedAttempt[] = [];
    const waits = new TableChanges<Wait>();
    for (const [executionId, events] of byExecution) {
      const execution = facts.get(executionId);
      if (!execution || faulty.has(executionId)) continue;
      try {
        for (const event of events) {
          planTimers(timers, event, execution);
          planJobs(jobs, event, execution, ended);
          planWaits(waits, event, execution);
        }
        checkDates(timers.rowsOf(executionId).map((row) => row.dueAt));
        checkDates(jobs.rowsOf(executionId).map((row) => row.availableAt));
      } catch (error) {
        faulty.set(executionId, error);
        timers.forget(executionId);
        jobs.forget(executionId);
        waits.forget(executionId);
      }
    }
    return {
      // Ended attempts count as puts: their workers should hear at once, not at the next checkpoint.
      puts: timers.rows.length > 0 || jobs.rows.length > 0 || waits.rows.length > 0 || ended.length > 0,
      write: async (tx) => {
        await TimerStore.apply(tx, timers);
        await WorkQueueStore.apply(tx, jobs, ended);
        await WaitStore.apply(tx, waits);
      },
      committed: () => {
        for (const each of timers.rows) this.scheduler.notify(each.dueAt);
      },
    };
  }

  /** Definitions come from any state (they never change); a resume needs the current one. */
  private async factsOf(byExecution: Map<string, ExecutionEvent[]>, faulty: Map<string, unknown>): Promise<Map<string, ExecutionFacts>> {
    const facts = await Promise.all(
      [...byExecution].map(async ([executionId, events]): Promise<ExecutionFacts | null> => {
        try {
          const current = events.some((event) => event.type === 'ExecutionResumed') ? await this.handler.load(executionId) : null;
          const state = current ?? (await this.handler.current(executionId));
          return state && { executionId, nodes: state.graph.nodes, nodeTypes: this.nodeTypes, current, tenantId: state.tenantId };
        } catch (error) {
          if (!isExecutionFault(error)) throw error;
          faulty.set(executionId, error);
          return null;
        }
      }),
    );
    return new Map(facts.filter((each) => each !== null).map((each) => [each.executionId, each]));
  }
}

/** A date the database cannot store fails its execution here, not the batch's transaction. */
function checkDates(dates: Date[]): void {
  for (const date of dates) if (Number.isNaN(date.getTime())) throw new RangeError('a timer or job of this execution is due at a time that is not a date');
}
