import { DomainError } from '../../../src/domain/errors.js';
import type { ExecutionCommand } from '../../../src/domain/execution/commands.js';
import { decide } from '../../../src/domain/execution/decide.js';
import { SETTLED_NODE_STATUSES, TERMINAL_EXECUTION_STATUSES, type ExecutionEvent } from '../../../src/domain/execution/events.js';
import { evolve } from '../../../src/domain/execution/evolve.js';
import type { ExecutionState, NodeState } from '../../../src/domain/execution/state.js';
import type { Connection, NodeDefinition, Workflow, WorkflowSettings } from '../../../src/domain/workflow/workflow.js';
import { BUILTIN_TYPES } from '../../support/nodeTypes.js';

/** The fixed clock every simulation starts at. */
export const T0 = Date.parse('2024-01-01T00:00:00.000Z');
export const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * A workflow from a compact edge spec: 'T>A A>B I>Y:true' (':x' is the edge's sourceOutput).
 * Nodes are created in order of first appearance; a node without incoming edges is a
 * `trigger.manual`, every other one a `noop`, unless `defs` says otherwise. Nodes that appear in
 * `defs` but in no edge are added too.
 */
export function wf(spec: string, defs: Record<string, Partial<NodeDefinition>> = {}, settings?: WorkflowSettings): Workflow {
  const ids: string[] = [];
  const connections: Connection[] = [];
  const see = (id: string) => {
    if (!ids.includes(id)) ids.push(id);
  };
  for (const token of spec.split(/\s+/).filter(Boolean)) {
    const match = /^([^>]+)>([^:]+)(?::(.+))?$/.exec(token);
    if (!match) throw new Error(`bad edge ${token}`);
    const [, source = '', target = '', output] = match;
    see(source);
    see(target);
    connections.push(output === undefined ? { source, target } : { source, target, sourceOutput: output });
  }
  for (const id of Object.keys(defs)) see(id);
  const nodes: NodeDefinition[] = ids.map((id) => {
    const root = !connections.some((c) => c.target === id);
    return { id, type: root ? 'trigger.manual' : 'noop', ...defs[id] };
  });
  return { id: 'wf-1', version: 1, name: 'test', nodes, connections, ...(settings ? { settings } : {}) };
}

/** Runs `fn` and returns the DomainError it threw; fails when it throws nothing or something else. */
export function domainErrorOf(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a DomainError, nothing was thrown');
}

export const defaultOutput = (nodeId: string): string => `out:${nodeId}`;

/**
 * One execution, driven command by command: each command is decided against the current state
 * and its events are folded in (decide -> evolve), as the command handler does.
 */
export class Sim {
  state: ExecutionState | null = null;
  readonly events: ExecutionEvent[] = [];
  now = T0;
  /** Called with every event folded, after it was folded. */
  onEvent: ((event: ExecutionEvent, state: ExecutionState) => void) | null = null;

  constructor(readonly workflow: Workflow) {}

  get st(): ExecutionState {
    if (!this.state) throw new Error('no execution yet');
    return this.state;
  }

  send(command: ExecutionCommand): ExecutionEvent[] {
    const events = decide(command, this.state, new Date(this.now), BUILTIN_TYPES);
    for (const event of events) {
      this.state = evolve(this.state, event);
      this.events.push(event);
      this.onEvent?.(event, this.state);
    }
    return events;
  }

  startExecution(triggerNodeId = 'T', triggerData: unknown = { hello: 'world' }, waitsForSlot = false): ExecutionEvent[] {
    return this.send({
      type: 'StartExecution',
      data: { executionId: 'ex-1', workflow: this.workflow, triggerNodeId, triggerData, waitsForSlot },
    });
  }

  queue(): ExecutionEvent[] {
    return this.send({ type: 'QueueReadyNodes' });
  }

  startNode(nodeId: string, attempt = this.node(nodeId).attempt): ExecutionEvent[] {
    return this.send({ type: 'StartNode', data: { nodeId, attempt, workerId: 'w-1', leaseMs: null } });
  }

  complete(nodeId: string, output: unknown = defaultOutput(nodeId), outputName: string | null = null): ExecutionEvent[] {
    return this.send({ type: 'CompleteNode', data: { nodeId, output, outputName } });
  }

  fail(nodeId: string, error = 'boom', retryable = true): ExecutionEvent[] {
    return this.send({ type: 'FailNode', data: { nodeId, error, retryable } });
  }

  /** Start then complete, the way a runner executes an ordinary node. */
  runNode(nodeId: string, output: unknown = defaultOutput(nodeId), outputName: string | null = null): ExecutionEvent[] {
    return [...this.startNode(nodeId), ...this.complete(nodeId, output, outputName)];
  }

  node(nodeId: string): NodeState {
    const node = this.st.nodes.get(nodeId);
    if (!node) throw new Error(`no node ${nodeId}`);
    return node;
  }

  statusOf(nodeId: string): string {
    return this.node(nodeId).status;
  }

  statuses(): Record<string, string> {
    return Object.fromEntries([...this.st.nodes].map(([id, node]) => [id, node.status]));
  }
}

export type Outcome = { output?: unknown; outputName?: string | null } | { error: string; retryable?: boolean };
export type Behaviour = Outcome | Outcome[] | ((ctx: { input: Record<string, unknown>; attempt: number; sim: Sim }) => Outcome);

export interface RunOptions {
  triggerData?: unknown;
  /** Called after every event the run folds (for invariant checks). */
  onEvent?: (event: ExecutionEvent, state: ExecutionState) => void;
  /** Continue an existing simulation instead of starting a new execution. */
  sim?: Sim;
}

export interface RunResult {
  sim: Sim;
  state: ExecutionState;
  events: ExecutionEvent[];
  /** Node ids in the order they were started (a node retried appears once per attempt). */
  started: string[];
  /** The input each node saw when it (last) started. */
  inputs: Record<string, Record<string, unknown> | null>;
  /** Events of one type, in order. */
  ofType<T extends ExecutionEvent['type']>(type: T): Extract<ExecutionEvent, { type: T }>[];
}

/**
 * Simulates a runner plus the process manager: StartExecution, QueueReadyNodes, then for each
 * queued node (first queued, first run; waiting for a scheduled retry by moving the clock)
 * StartNode and CompleteNode / FailNode as `steps` says, followed by QueueReadyNodes, until the
 * execution is finished or nothing is left to run. A node without a step completes with
 * `out:<id>`, a trigger with the trigger data. An array of outcomes gives one per attempt (the
 * last one repeats).
 */
export function run(workflow: Workflow, triggerId: string, steps: Record<string, Behaviour> = {}, options: RunOptions = {}): RunResult {
  const sim = options.sim ?? new Sim(workflow);
  const fifo: string[] = [];
  let head = 0;
  const started: string[] = [];
  const inputs: Record<string, Record<string, unknown> | null> = {};
  const attempts = new Map<string, number>();
  const previous = sim.onEvent;
  sim.onEvent = (event, state) => {
    if (event.type === 'NodeQueued' || event.type === 'NodeRetryScheduled' || event.type === 'NodeReleased') fifo.push(event.data.nodeId);
    options.onEvent?.(event, state);
  };
  try {
    const from = sim.events.length;
    // continuing a simulation: whatever is already queued runs first
    if (sim.state) for (const [id, node] of sim.state.nodes) if (node.status === 'QUEUED') fifo.push(id);
    if (!sim.state) sim.startExecution(triggerId, options.triggerData ?? { hello: 'world' });
    sim.queue();
    while (head < fifo.length && !TERMINAL_EXECUTION_STATUSES.has(sim.st.status)) {
      const id = fifo[head++]!;
      const node = sim.node(id);
      if (node.status !== 'QUEUED') continue;
      if (node.retryAt) sim.now = Math.max(sim.now, Date.parse(node.retryAt));
      sim.startNode(id);
      started.push(id);
      inputs[id] = node.input;
      const index = attempts.get(id) ?? 0;
      attempts.set(id, index + 1);
      const outcome = outcomeOf(sim, id, steps[id], index);
      if ('error' in outcome) sim.fail(id, outcome.error, outcome.retryable ?? true);
      else sim.complete(id, outcome.output === undefined ? defaultOutput(id) : outcome.output, outcome.outputName ?? null);
      sim.queue();
    }
    const events = sim.events.slice(from);
    return {
      sim,
      state: sim.st,
      events,
      started,
      inputs,
      ofType: <T extends ExecutionEvent['type']>(type: T) => events.filter((e): e is Extract<ExecutionEvent, { type: T }> => e.type === type),
    };
  } finally {
    sim.onEvent = previous;
  }
}

function outcomeOf(sim: Sim, id: string, behaviour: Behaviour | undefined, index: number): Outcome {
  const node = sim.node(id);
  if (behaviour === undefined) {
    return id === sim.st.triggerNodeId ? { output: sim.st.triggerData } : { output: defaultOutput(id) };
  }
  if (typeof behaviour === 'function') return behaviour({ input: node.input ?? {}, attempt: node.attempt, sim });
  if (Array.isArray(behaviour)) {
    const outcome = behaviour[Math.min(index, behaviour.length - 1)];
    if (!outcome) throw new Error(`no outcome for ${id}`);
    return outcome;
  }
  return behaviour;
}

/** Recomputes the fold's counters from the node statuses, to compare with what the fold keeps. */
export function recomputedCounters(state: ExecutionState): {
  settledCount: number;
  failedCount: number;
  unsettledDependencies: Map<string, number>;
} {
  let settledCount = 0;
  let failedCount = 0;
  for (const node of state.nodes.values()) {
    if (SETTLED_NODE_STATUSES.has(node.status)) settledCount += 1;
    if (node.status === 'FAILED') failedCount += 1;
  }
  const unsettledDependencies = new Map<string, number>();
  for (const id of state.nodes.keys()) {
    const dependencies = state.graph.dependencies.get(id) ?? [];
    unsettledDependencies.set(id, dependencies.filter((dep) => !SETTLED_NODE_STATUSES.has(state.nodes.get(dep)!.status)).length);
  }
  return { settledCount, failedCount, unsettledDependencies };
}

export function countersOf(state: ExecutionState): ReturnType<typeof recomputedCounters> {
  return { settledCount: state.settledCount, failedCount: state.failedCount, unsettledDependencies: new Map(state.unsettledDependencies) };
}
