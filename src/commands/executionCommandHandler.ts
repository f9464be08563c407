import type { ExecutionCommand } from '../domain/execution/commands.js';
import { decide } from '../domain/execution/decide.js';
import { executionStreamId, type ExecutionEvent, toExecutionEvent } from '../domain/execution/events.js';
import { evolve } from '../domain/execution/evolve.js';
import type { NodeTypeLookup } from '../domain/workflow/nodeCapabilities.js';
import type { ExecutionState } from '../domain/execution/state.js';
import { ConcurrencyError, NO_STREAM, type EventStore, type NewEvent, type RecordedEvent } from '../eventstore/eventStore.js';
import { eventId } from './eventIds.js';
import { KeyedSerialQueue } from './keyedSerialQueue.js';
import { externalizeEvents } from '../payloads/eventPayloads.js';
import type { Payloads } from '../payloads/payloads.js';
import { adoptStoredPayloads } from '../payloads/statePayloads.js';
import { DEFAULT_TENANT } from '../domain/tenants.js';

export interface CommandContext {
  userId?: string | null;
  /** The caller's tenant: a workflow created gets it, and only its own workflows and executions are found. Absent: `default`. */
  tenantId?: string;
  /** The event or request that caused this command. */
  causationId?: string | null;
}

export interface CommandResult {
  state: ExecutionState;
  events: RecordedEvent[];
}

/**
 * Asked, once a unit's commands are decided, for more command groups to decide and append in
 * the same commit, against the state those decisions lead to (not yet stored) and the events
 * that led there; asked again with the events of the groups it gave, until it gives none. Each
 * group stands or falls alone: a refused one is left out and the unit still commits.
 */
export type RunAhead = (state: ExecutionState, events: readonly ExecutionEvent[]) => Promise<ExecutionCommand[][]>;

/** Commands that stand or fall together, and whoever waits for their outcome. */
interface Unit {
  commands: ExecutionCommand[];
  context: CommandContext;
  resolve(result: CommandResult): void;
  reject(error: unknown): void;
  runAhead?: RunAhead;
  /** A group that a run-ahead added: its events are answered to this unit's caller. */
  parent?: Unit;
}

interface Decided {
  unit: Unit;
  events: ExecutionEvent[];
  error?: unknown;
}

const MAX_CONFLICT_RETRIES = 20;
/** Cap of the random wait after a conflict (exponential, full jitter). */
const MAX_CONFLICT_BACKOFF_MS = 100;
const DEFAULT_CACHE_SIZE = 2000;

/**
 * Read -> decide -> append with the expected version -> evolve. States are cached per stream, so
 * a command costs one append, not a re-fold of the stream: the cached version is the expected
 * version, and only a conflict (another process wrote) reads the events it missed.
 *
 * Group commit: commands that arrive for a stream while its previous append is in flight are
 * decided one after another and appended together, in one transaction. Each caller still hears
 * only after the commit that holds its events, so every transition stays durable; a stream with
 * many runners finishing at once pays one commit per batch instead of one per command.
 */
export class ExecutionCommandHandler {
  private readonly cache = new Map<string, ExecutionState>();
  private readonly queue = new KeyedSerialQueue();
  private readonly pending = new Map<string, Unit[]>();

  constructor(
    private readonly store: EventStore,
    private readonly nodeTypes: NodeTypeLookup,
    private readonly clock: () => Date = () => new Date(),
    private readonly cacheSize = DEFAULT_CACHE_SIZE,
    /** Where large payloads go before the events that refer to them are appended; none: everything inline. */
    private readonly payloads?: Payloads,
  ) {}

  handle(executionId: string, command: ExecutionCommand, context: CommandContext = {}): Promise<CommandResult> {
    return this.handleAll(executionId, [command], context);
  }

  /**
   * Decides the commands in order against each other's outcome and appends all their events, or
   * none; with `runAhead`, the groups it adds go into the same commit and their events into the answer.
   */
  handleAll(executionId: string, commands: ExecutionCommand[], context: CommandContext = {}, runAhead?: RunAhead): Promise<CommandResult> {
    return new Promise((resolve, reject) => {
      const waiting = this.pending.get(executionId);
      const unit: Unit = { commands, context, resolve, reject, runAhead };
      if (waiting) return waiting.push(unit);
      this.pending.set(executionId, [unit]);
      void this.queue.run(executionId, () => this.flush(executionId));
    });
  }

  /** The current state, caught up with the store. */
  load(executionId: string): Promise<ExecutionState | null> {
    return this.queue.run(executionId, () => this.catchUp(executionId));
  }

  /** The cached state when there is one (it may lag other processes), else the loaded one. */
  async current(executionId: string): Promise<ExecutionState | null> {
    return this.cache.get(executionId) ?? this.load(executionId);
  }

  private async flush(executionId: string): Promise<void> {
    const units = this.pending.get(executionId) ?? [];
    this.pending.delete(executionId);
    const refused = new Map<Unit, unknown>();
    const ranAhead = new Set<Unit>();
    try {
      let state = this.cache.get(executionId) ?? (startsStream(units) ? null : await this.catchUp(executionId));
      for (let attempt = 0; ; attempt++) {
        const baseVersion = state?.version ?? 0;
        const outcome = await this.decideWithRunAhead(units, state, refused, ranAhead);
        if (outcome instanceof PartiallyDecided) {
          refused.set(outcome.unit, outcome.refusal);
          state = await this.reload(executionId);
          continue;
        }
        const { decided, after } = outcome;
        try {
          const { recorded, externalized } = decided.some((each) => each.events.length > 0)
            ? await this.append(executionId, baseVersion, decided, after?.tenantId)
            : NOTHING_APPENDED;
          // The cache holds what the store holds: large payloads as references, not their values.
          if (after && externalized)
            adoptStoredPayloads(
              after,
              decided.flatMap((each) => each.events),
              recorded.map(toExecutionEvent),
            );
          if (after) this.remember(executionId, after);
          settle(decided, recorded, after);
          return;
        } catch (error) {
          if (!(error instanceof ConcurrencyError) || attempt >= MAX_CONFLICT_RETRIES) throw error;
          // Another process writes this stream with a backlog of its own: without a pause it could
          // win every race (its cached state is always current) and starve this one.
          await conflictBackoff(attempt);
          state = await this.reload(executionId);
        }
      }
    } catch (error) {
      this.cache.delete(executionId);
      for (const unit of units) unit.reject(error);
    }
  }

  /** The cached state already holds events that were never stored: fold the stream afresh. */
  private reload(executionId: string): Promise<ExecutionState | null> {
    this.cache.delete(executionId);
    return this.catchUp(executionId);
  }

  /**
   * Decides the units, then asks each unit's run-ahead (once per flush: a batch decided again
   * after a conflict keeps the groups it got) for groups to add, decided after every unit; the
   * groups join `units`, so that a batch decided again decides them too.
   */
  private async decideWithRunAhead(
    units: Unit[],
    state: ExecutionState | null,
    refused: Map<Unit, unknown>,
    ranAhead: Set<Unit>,
  ): Promise<{ decided: Decided[]; after: ExecutionState | null } | PartiallyDecided> {
    const outcome = this.decideAll(units, state, refused);
    if (outcome instanceof PartiallyDecided || !outcome.after) return outcome;
    const { decided } = outcome;
    let after: ExecutionState = outcome.after;
    for (const { unit, events, error } of [...decided]) {
      if (!unit.runAhead || ranAhead.has(unit) || error !== undefined) continue;
      ranAhead.add(unit);
      for (let latest = events; ;) {
        const groups = await unit.runAhead(after, latest);
        if (groups.length === 0) break;
        const children: Unit[] = groups.map((commands) => ({ commands, context: unit.context, resolve: () => {}, reject: () => {}, parent: unit }));
        units.push(...children);
        const more = this.decideAll(children, after, refused);
        if (more instanceof PartiallyDecided) return more;
        decided.push(...more.decided);
        after = more.after!;
        latest = more.decided.flatMap((each) => each.events);
      }
    }
    return { decided, after };
  }

  /**
   * Decides every unit in turn, folding accepted events into the state as it goes. A unit whose
   * first command is refused leaves the state untouched; one refused halfway has been folded in
   * part, and the whole batch is decided again from the store without it.
   */
  private decideAll(units: Unit[], initial: ExecutionState | null, refused: Map<Unit, unknown>): { decided: Decided[]; after: ExecutionState | null } | PartiallyDecided {
    let state = initial;
    const decided: Decided[] = [];
    for (const unit of units) {
      if (refused.has(unit)) {
        decided.push({ unit, events: [], error: refused.get(unit) });
        continue;
      }
      const events: ExecutionEvent[] = [];
      try {
        for (const command of unit.commands) {
          const produced = decide(command, state, this.clock(), this.nodeTypes);
          for (const event of produced) state = evolve(state, event);
          events.push(...produced);
        }
        decided.push({ unit, events });
      } catch (error) {
        if (events.length > 0) return new PartiallyDecided(unit, error);
        decided.push({ unit, events: [], error });
      }
    }
    return { decided, after: state };
  }

  /** `tenantId`: the execution's, whose payloads the large values become. */
  private async append(executionId: string, baseVersion: number, decided: Decided[], tenantId = DEFAULT_TENANT): Promise<Appended> {
    const streamId = executionStreamId(executionId);
    const newEvents: NewEvent[] = [];
    let externalized = false;
    for (const { unit, events: given } of decided) {
      const events = this.payloads ? await externalizeEvents(this.payloads, tenantId, given) : given;
      externalized ||= events !== given;
      for (const event of events) {
        newEvents.push({
          id: eventId(streamId, baseVersion, newEvents.length, event.type, event.data),
          type: event.type,
          data: event.data,
          metadata: { correlationId: executionId, causationId: unit.context.causationId ?? null, userId: unit.context.userId ?? null },
        });
      }
    }
    const { position } = await this.store.append(streamId, newEvents, baseVersion === 0 ? NO_STREAM : baseVersion);
    const recordedAt = this.clock().toISOString();
    return { recorded: newEvents.map((event, index) => ({ ...event, streamId, streamVersion: baseVersion + index + 1, position, recordedAt })), externalized };
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

/** The events appended, and whether large payloads in them were replaced by references. */
interface Appended {
  recorded: RecordedEvent[];
  externalized: boolean;
}
const NOTHING_APPENDED: Appended = { recorded: [], externalized: false };

/** A unit refused after some of its events were folded: the batch must be decided again from the store. */
class PartiallyDecided {
  constructor(
    readonly unit: Unit,
    readonly refusal: unknown,
  ) {}
}

/**
 * A start names a new execution id: no need to read a stream that is almost surely empty. If it
 * does exist (a trigger started the same occurrence twice), the append's expected version says
 * so, and the batch is decided again from the store.
 */
const startsStream = (units: Unit[]): boolean => units[0]?.commands[0]?.type === 'StartExecution';

/** Hands each unit its own events (in batch order) or its refusal; a run-ahead's groups answer to their unit, and a refused group to no one. */
function settle(decided: Decided[], recorded: RecordedEvent[], state: ExecutionState | null): void {
  const answers = new Map<Unit, RecordedEvent[]>();
  let offset = 0;
  for (const { unit, events, error } of decided) {
    if (error !== undefined) {
      if (!unit.parent) unit.reject(error);
      continue;
    }
    const own = recorded.slice(offset, offset + events.length);
    offset += events.length;
    if (unit.parent) answers.get(unit.parent)?.push(...own);
    else answers.set(unit, own);
  }
  for (const [unit, events] of answers) unit.resolve({ state: state!, events });
}

const conflictBackoff = (attempt: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(MAX_CONFLICT_BACKOFF_MS, 2 ** attempt)));
