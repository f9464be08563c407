import type { WorkflowCommandHandler } from '../../commands/workflowCommandHandler.js';
import type { SqlClient } from '../../db/sqlClient.js';
import type { EventStore } from '../../eventstore/eventStore.js';
import type { StartExecution } from '../admission/admission.js';
import { EventTriggers } from './eventTriggers.js';
import { ExecutionOutcomes, type OutcomeWaits } from './executionOutcomes.js';
import { Scheduler } from './scheduler.js';
import { TriggerCatalog } from './triggerCatalog.js';
import { WebhookRegistry } from './webhookRegistry.js';
import { WebhookTrigger } from './webhookTrigger.js';

export interface TriggerSourcesOptions {
  store: EventStore;
  db: SqlClient;
  workflows: Pick<WorkflowCommandHandler, 'get'>;
  start: StartExecution;
  clock: () => Date;
  maxEventChainDepth: number;
  waits: OutcomeWaits;
  onError: (error: unknown) => void;
}

/** Everything that starts executions by itself (webhooks, schedules, events), wired and run together. */
export class TriggerSources {
  readonly webhooks: WebhookRegistry;
  readonly webhook: WebhookTrigger;
  readonly events: EventTriggers;
  private readonly catalog: TriggerCatalog;
  private readonly scheduler: Scheduler;
  private readonly outcomes: ExecutionOutcomes;

  constructor(options: TriggerSourcesOptions) {
    const { store, db, workflows, start, clock, onError } = options;
    this.scheduler = new Scheduler({ db, workflows, start, clock, onError });
    this.catalog = new TriggerCatalog({ store, db, onError, onSchedulesChanged: () => this.scheduler.wake() });
    this.webhooks = new WebhookRegistry(db, this.catalog);
    this.webhook = new WebhookTrigger(this.webhooks, workflows, start);
    this.events = new EventTriggers(db, this.catalog, workflows, start);
    this.outcomes = new ExecutionOutcomes({ store, db, events: this.events, waits: options.waits, maxChainDepth: options.maxEventChainDepth, onError });
  }

  async start(): Promise<void> {
    await this.catalog.start();
    await this.outcomes.start();
    this.scheduler.start();
  }

  /** Stops starting executions first, then stops following the log. */
  async stop(): Promise<void> {
    await this.scheduler.stop();
    await this.outcomes.stop();
    await this.catalog.stop();
  }
}
