import type { CommandContext, ExecutionCommandHandler } from '../../commands/executionCommandHandler.js';
import { isDatabaseFault } from '../../db/databaseFaults.js';
import { DomainError } from '../../domain/errors.js';
import type { ExecutionCommand } from '../../domain/execution/commands.js';
import type { ExecutionState } from '../../domain/execution/state.js';
import type { NodeTypeLookup } from '../../domain/workflow/nodeCapabilities.js';
import { tenantOf } from '../../domain/tenants.js';
import type { ErrorReporter } from '../../errors/errorReporter.js';
import type { ExpressionEvaluator } from '../expressions/expressionPool.js';
import { handleOnLatest } from '../latestState.js';
import type { ListeningWait, WaitCursor, WaitStore } from './waitStore.js';

export interface WaitsOptions {
  store: WaitStore;
  handler: ExecutionCommandHandler;
  expressions: ExpressionEvaluator;
  /** The registered types: a match may name one of the waiting node's outputs. */
  nodeTypes: NodeTypeLookup;
  /** Resolves once the waits table holds every wait started so far (the process manager caught up). */
  caughtUp: () => Promise<void>;
  onError: ErrorReporter;
}

/**
 * Waits offered an emitted event at once: a page of the table, its matches evaluated and its
 * signals appended together; pages follow one another, so that memory stays flat however many
 * executions wait.
 */
const PAGE_SIZE = 200;

/**
 * Completes waiting nodes: `emit` offers an emitted event to every wait of its name (the index
 * finds them; each match is evaluated by the bounded evaluator), and `signal` completes one by
 * id. A wait whose match throws fails alone, with WAIT_MATCH_FAILED; one that moved on meanwhile
 * (settled, cancelled, retried) refuses the signal, which is no error.
 */
export class Waits {
  constructor(private readonly options: WaitsOptions) {}

  /** signalNode: NOT_FOUND for an unknown execution (or another tenant's, alike) or node, INVALID_FLOW_STATE for a node that does not wait. */
  async signal(executionId: string, nodeId: string, data: unknown, outputName: string | null, context: CommandContext = {}): Promise<ExecutionState> {
    const state = await this.options.handler.current(executionId);
    if (!state || state.tenantId !== tenantOf(context)) throw new DomainError('NOT_FOUND', `execution ${executionId} not found`);
    const signal: ExecutionCommand = { type: 'SignalNode', data: { nodeId, output: data, outputName } };
    return (await handleOnLatest(this.options.handler, executionId, [signal, { type: 'QueueReadyNodes' }], context)).state;
  }

  /** Those of `names` that a started wait listens to (the engine's own outcome events skip the others). */
  async listenedNames(names: readonly string[]): Promise<Set<string>> {
    await this.options.caughtUp();
    return this.options.store.listenedNames(names);
  }

  /** Resolves once every wait of `name` in the emitter's tenant (`context.tenantId`) that had started when it was called has been offered `data`. */
  async emit(name: string, data: unknown, context: CommandContext = {}): Promise<void> {
    await this.options.caughtUp();
    const tenantId = tenantOf(context);
    let after: WaitCursor | null = null;
    for (;;) {
      const page = await this.options.store.listening(tenantId, name, after, PAGE_SIZE);
      const outcomes = await Promise.allSettled(page.map((wait) => this.offer(wait, data, context)));
      // A lost connection is the caller's to retry (emitting again only completes waits still waiting).
      const fault = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
      if (fault) throw fault.reason;
      if (page.length < PAGE_SIZE) return;
      after = page.at(-1)!;
    }
  }

  /** Only database faults reject: anything else about one wait stays with that wait. */
  private async offer(wait: ListeningWait, data: unknown, context: CommandContext): Promise<void> {
    const { executionId, nodeId, attempt } = wait;
    const send = (command: ExecutionCommand) => handleOnLatest(this.options.handler, executionId, [command, { type: 'QueueReadyNodes' }], context);
    try {
      let matched: Matched;
      try {
        matched = await this.matches(wait, data);
      } catch (error) {
        if (isDatabaseFault(error)) throw error;
        const message = `WAIT_MATCH_FAILED: the match of node ${nodeId} failed: ${error instanceof Error ? error.message : String(error)}`;
        await send({ type: 'FailNode', data: { nodeId, attempt, error: message, retryable: false, errorCode: 'WAIT_MATCH_FAILED' } });
        return;
      }
      if (matched.matched) await send({ type: 'SignalNode', data: { nodeId, attempt, output: data, outputName: matched.outputName } });
    } catch (error) {
      if (error instanceof DomainError) return;
      if (isDatabaseFault(error)) throw error;
      this.options.onError(error, { executionId, nodeId });
    }
  }

  /**
   * The match sees `{ event, trigger, input }`: the event's data, the execution's trigger data and
   * the node's input. On a type with several outputs (an approval) it may give one's name, which
   * the node takes; any other string there fails the wait, so that a typo never approves.
   */
  private async matches(wait: ListeningWait, data: unknown): Promise<Matched> {
    if (wait.match === null) return MATCHED;
    const state = await this.options.handler.current(wait.executionId);
    const node = state?.nodes.get(wait.nodeId);
    if (!state || !node) return NOT_MATCHED;
    const value = await this.options.expressions.evaluate(wait.match, { event: data, trigger: state.triggerData, input: node.input ?? {} });
    const outputs = this.options.nodeTypes.get(state.graph.nodes.get(wait.nodeId)!.type)?.outputs ?? [];
    if (typeof value !== 'string' || outputs.length < 2) return value ? MATCHED : NOT_MATCHED;
    if (!outputs.includes(value)) throw new Error(`it gave '${value}', which is none of the outputs ${outputs.map((name) => `'${name}'`).join(', ')}`);
    return { matched: true, outputName: value };
  }
}

/** Whether an event completes a wait, and on which output (null: the type's first). */
interface Matched {
  matched: boolean;
  outputName: string | null;
}

const MATCHED: Matched = { matched: true, outputName: null };
const NOT_MATCHED: Matched = { matched: false, outputName: null };
