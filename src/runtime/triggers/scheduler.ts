import type { WorkflowCommandHandler } from '../../commands/workflowCommandHandler.js';
import { OutageReporter } from '../../db/faultRetry.js';
import type { SqlClient } from '../../db/sqlClient.js';
import { DomainError } from '../../domain/errors.js';
import type { StartExecution } from '../admission/admission.js';
import { claimDueFirings, firingDone, nextDueAt, unstartedFirings, type Firing } from './scheduleStore.js';

export interface SchedulerOptions {
  db: SqlClient;
  workflows: Pick<WorkflowCommandHandler, 'get'>;
  start: StartExecution;
  clock: () => Date;
  onError: (error: unknown) => void;
}

/** Looks at the schedules table at least this often: other processes and workflow changes move it. */
const MAX_SLEEP_MS = 1_000;
/** A due schedule another process holds is looked at again after this, not in a busy loop. */
const MIN_SLEEP_MS = 10;
/** A firing recorded this long ago and still in the outbox lost its process before it started. */
const STALE_FIRING_MS = 30_000;

/**
 * Fires `trigger.schedule` nodes. Each tick claims the due schedules and records their firings
 * (see claimDueFirings), then starts one execution per firing, with trigger data
 * `{ scheduledAt, firedAt }` and an id derived from the occurrence: if this process dies between
 * recording and starting, a later tick (of any process) starts the same execution, never a second.
 */
export class Scheduler {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private tick: Promise<void> = Promise.resolve();
  /** A tick that fails for a lost connection is tried again at the next one (MAX_SLEEP_MS): reported once per outage. */
  private readonly outage: OutageReporter;

  constructor(private readonly options: SchedulerOptions) {
    this.outage = new OutageReporter(options.onError);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.wake();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.tick;
  }

  /** Looks now rather than at the next planned time (a schedule may have been added). */
  wake(): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.tick = this.tick.then(() => this.runTick());
  }

  private async runTick(): Promise<void> {
    if (!this.running) return;
    let sleepMs = MAX_SLEEP_MS;
    try {
      const now = this.options.clock();
      const firings = await claimDueFirings(this.options.db, now);
      firings.push(...(await unstartedFirings(this.options.db, new Date(now.getTime() - STALE_FIRING_MS))));
      for (const firing of firings) await this.fire(firing);
      sleepMs = await this.untilNextDue();
      this.outage.succeeded();
    } catch (error) {
      this.outage.failed(error);
    }
    if (!this.running || this.timer) return;
    this.timer = setTimeout(() => this.wake(), sleepMs);
  }

  /** Starts the firing's execution; a firing that can never start (its workflow is gone) is dropped, others are retried. */
  private async fire(firing: Firing): Promise<void> {
    const { executionId, workflowId, nodeId, workflowVersion, scheduledAt, firedAt } = firing;
    try {
      const workflow = await this.options.workflows.get(workflowId, workflowVersion);
      if (!workflow) throw new DomainError('NOT_FOUND', `workflow ${workflowId} version ${workflowVersion} not found`);
      await this.options.start({ executionId, workflow, triggerNodeId: nodeId, triggerData: { scheduledAt, firedAt }, context: { causationId: `schedule:${nodeId}` } });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      this.options.onError(error);
    }
    await firingDone(this.options.db, executionId);
  }

  private async untilNextDue(): Promise<number> {
    const due = await nextDueAt(this.options.db);
    if (!due) return MAX_SLEEP_MS;
    return Math.min(MAX_SLEEP_MS, Math.max(MIN_SLEEP_MS, due.getTime() - this.options.clock().getTime()));
  }
}
