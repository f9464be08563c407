import { describe, expect, it } from 'vitest';
import { decide } from '../../../src/domain/execution/decide.js';
import type { ExecutionEvent } from '../../../src/domain/execution/events.js';
import { foldExecution } from '../../../src/domain/execution/evolve.js';
import { applyTriggerRule, DEFAULT_TRIGGER_RULE, type RuleVerdict, type UpstreamSummary } from '../../../src/domain/execution/triggerRules.js';
import { TRIGGER_RULES, type RecoverySettings, type TriggerRule } from '../../../src/domain/workflow/workflow.js';
import { iso, T0, wf } from './harness.js';
import { BUILTIN_TYPES } from '../../support/nodeTypes.js';

/**
 * Every mix of upstream states a node with two dependencies A and B can see (plus a trigger with
 * none), as the summary readiness hands to the rule and as events that lead to it.
 */
type UpstreamState =
  | 'completed'
  | 'completedInactive' // completed, but took the other output of an `if`
  | 'skipped'
  | 'failed'
  | 'cancelled'
  | 'running'
  | 'queued';

interface Scenario {
  name: string;
  a: UpstreamState;
  b: UpstreamState;
  recovery?: RecoverySettings;
  summary: UpstreamSummary;
  /** X's input when it runs. */
  input: Record<string, unknown>;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'all completed, all edges active',
    a: 'completed',
    b: 'completed',
    summary: { total: 2, settled: 2, active: 2, failed: 0, ran: 2 },
    input: { A: 'out:A', B: 'out:B' },
  },
  {
    name: 'one skipped',
    a: 'completed',
    b: 'skipped',
    summary: { total: 2, settled: 2, active: 1, failed: 0, ran: 1 },
    input: { A: 'out:A' },
  },
  {
    name: 'one failed',
    a: 'completed',
    b: 'failed',
    recovery: { skipFailedBranches: true },
    summary: { total: 2, settled: 2, active: 1, failed: 1, ran: 2 },
    input: { A: 'out:A' },
  },
  {
    name: 'one cancelled',
    a: 'completed',
    b: 'cancelled',
    summary: { total: 2, settled: 2, active: 1, failed: 1, ran: 1 },
    input: { A: 'out:A' },
  },
  {
    name: 'one edge inactive (if took the other output)',
    a: 'completed',
    b: 'completedInactive',
    summary: { total: 2, settled: 2, active: 1, failed: 0, ran: 2 },
    input: { A: 'out:A' },
  },
  {
    name: 'all edges inactive (both ifs took the other output)',
    a: 'completedInactive',
    b: 'completedInactive',
    summary: { total: 2, settled: 2, active: 0, failed: 0, ran: 2 },
    input: {},
  },
  {
    name: 'one still running',
    a: 'completed',
    b: 'running',
    summary: { total: 2, settled: 1, active: 1, failed: 0, ran: 1 },
    input: { A: 'out:A' },
  },
  {
    name: 'none settled',
    a: 'running',
    b: 'queued',
    summary: { total: 2, settled: 0, active: 0, failed: 0, ran: 0 },
    input: {},
  },
  {
    name: 'all skipped',
    a: 'skipped',
    b: 'skipped',
    summary: { total: 2, settled: 2, active: 0, failed: 0, ran: 0 },
    input: {},
  },
  {
    name: 'one failed under continueOnNodeFailure (its edge counts as active)',
    a: 'completed',
    b: 'failed',
    recovery: { continueOnNodeFailure: true },
    summary: { total: 2, settled: 2, active: 2, failed: 0, ran: 2 },
    input: { A: 'out:A', B: { error: 'boom' } },
  },
];

const ZERO_DEPENDENCIES: UpstreamSummary = { total: 0, settled: 0, active: 0, failed: 0, ran: 0 };

/** Expected verdict per scenario name and rule. */
const EXPECTED: Record<string, Record<TriggerRule, RuleVerdict>> = {
  'all completed, all edges active': {
    NONE_FAILED_MIN_ONE_SUCCESS: 'run',
    ALL_SUCCESS: 'run',
    ALL_DONE: 'run',
    ONE_SUCCESS: 'run',
    NONE_FAILED: 'run',
    ALWAYS: 'run',
  },
  'one skipped': {
    NONE_FAILED_MIN_ONE_SUCCESS: 'run',
    ALL_SUCCESS: 'skip',
    ALL_DONE: 'run',
    ONE_SUCCESS: 'run',
    NONE_FAILED: 'run',
    ALWAYS: 'run',
  },
  'one failed': {
    NONE_FAILED_MIN_ONE_SUCCESS: 'skip',
    ALL_SUCCESS: 'skip',
    ALL_DONE: 'run',
    ONE_SUCCESS: 'run',
    NONE_FAILED: 'skip',
    ALWAYS: 'run',
  },
  'one cancelled': {
    NONE_FAILED_MIN_ONE_SUCCESS: 'skip',
    ALL_SUCCESS: 'skip',
    ALL_DONE: 'run',
    ONE_SUCCESS: 'run',
    NONE_FAILED: 'skip',
    ALWAYS: 'run',
  },
  'one edge inactive (if took the other output)': {
    NONE_FAILED_MIN_ONE_SUCCESS: 'run',
    ALL_SUCCESS: 'skip',
    ALL_DONE: 'run',
    ONE_SUCCESS: 'run',
    NONE_FAILED: 'run',
    ALWAYS: 'run',
  },
  // Rules that do not ask for an active edge run behind an untaken branch, with empty input.
  'all edges inactive (both ifs took the other output)': {
    NONE_FAILED_MIN_ONE_SUCCESS: 'skip',
    ALL_SUCCESS: 'skip',
    ALL_DONE: 'run',
    ONE_SUCCESS: 'skip',
    NONE_FAILED: 'run',
    ALWAYS: 'run',
  },
  'one still running': {
    NONE_FAILED_MIN_ONE_SUCCESS: 'wait',
    ALL_SUCCESS: 'wait',
    ALL_DONE: 'wait',
    ONE_SUCCESS: 'run',
    NONE_FAILED: 'wait',
    ALWAYS: 'wait',
  },
  'none settled': {
    NONE_FAILED_MIN_ONE_SUCCESS: 'wait',
    ALL_SUCCESS: 'wait',
    ALL_DONE: 'wait',
    ONE_SUCCESS: 'wait',
    NONE_FAILED: 'wait',
    ALWAYS: 'wait',
  },
  'all skipped': {
    NONE_FAILED_MIN_ONE_SUCCESS: 'skip',
    ALL_SUCCESS: 'skip',
    ALL_DONE: 'skip',
    ONE_SUCCESS: 'skip',
    NONE_FAILED: 'run',
    ALWAYS: 'run',
  },
  'one failed under continueOnNodeFailure (its edge counts as active)': {
    NONE_FAILED_MIN_ONE_SUCCESS: 'run',
    ALL_SUCCESS: 'run',
    ALL_DONE: 'run',
    ONE_SUCCESS: 'run',
    NONE_FAILED: 'run',
    ALWAYS: 'run',
  },
};

const cases = SCENARIOS.flatMap((scenario) => TRIGGER_RULES.map((rule) => ({ ...scenario, rule, verdict: EXPECTED[scenario.name]![rule] })));

describe('applyTriggerRule', () => {
  it('covers six rules, NONE_FAILED_MIN_ONE_SUCCESS being the default', () => {
    expect([...TRIGGER_RULES].sort()).toEqual(['ALL_DONE', 'ALL_SUCCESS', 'ALWAYS', 'NONE_FAILED', 'NONE_FAILED_MIN_ONE_SUCCESS', 'ONE_SUCCESS'].sort());
    expect(DEFAULT_TRIGGER_RULE).toBe('NONE_FAILED_MIN_ONE_SUCCESS');
  });

  it.each(cases)('$rule with $name -> $verdict', ({ rule, summary, verdict }) => {
    expect(applyTriggerRule(rule, summary)).toBe(verdict);
  });

  it.each([...TRIGGER_RULES])('%s runs a node with zero dependencies', (rule) => {
    expect(applyTriggerRule(rule, ZERO_DEPENDENCIES)).toBe('run');
  });

  it('ONE_SUCCESS waits while nothing is active and something is unsettled, skips once all settled inactive', () => {
    expect(applyTriggerRule('ONE_SUCCESS', { total: 3, settled: 2, active: 0, failed: 1, ran: 1 })).toBe('wait');
    expect(applyTriggerRule('ONE_SUCCESS', { total: 3, settled: 3, active: 0, failed: 1, ran: 1 })).toBe('skip');
    expect(applyTriggerRule('ONE_SUCCESS', { total: 3, settled: 0, active: 1, failed: 0, ran: 1 })).toBe('run');
  });
});

// ---- the same matrix through the decider ----

const at = (offsetMs: number) => iso(T0 + offsetMs);

/** Events that bring upstream `id` (already QUEUED at attempt 1) into `state`. */
function upstreamEvents(id: string, state: UpstreamState): ExecutionEvent[] {
  const startedEv: ExecutionEvent = { type: 'NodeStarted', data: { nodeId: id, attempt: 1, workerId: 'w', leaseExpiresAt: null, at: at(2) } };
  switch (state) {
    case 'completed':
      return [startedEv, { type: 'NodeCompleted', data: { nodeId: id, attempt: 1, output: `out:${id}`, outputName: null, at: at(3) } }];
    case 'completedInactive':
      return [startedEv, { type: 'NodeCompleted', data: { nodeId: id, attempt: 1, output: `out:${id}`, outputName: 'false', at: at(3) } }];
    case 'failed':
      return [startedEv, { type: 'NodeFailed', data: { nodeId: id, attempt: 1, error: 'boom', at: at(3) } }];
    case 'skipped':
      return [{ type: 'NodeSkipped', data: { nodeId: id, reason: 'skipped by user', at: at(3) } }];
    case 'cancelled':
      return [{ type: 'NodeCancelled', data: { nodeId: id, attempt: 1, reason: 'cancelled', at: at(3) } }];
    case 'running':
      return [startedEv];
    case 'queued':
      return [];
  }
}

/**
 * T -> A, T -> B, A -> X, B -> X, X having `rule`. An upstream in state 'completedInactive' is
 * an `if` whose edge into X wants output 'true' while it took 'false'.
 */
function stateFor(rule: TriggerRule, scenario: Scenario) {
  const inactive = (state: UpstreamState) => state === 'completedInactive';
  const edgeSpec = `T>A T>B A>X${inactive(scenario.a) ? ':true' : ''} B>X${inactive(scenario.b) ? ':true' : ''}`;
  const ifNode = { type: 'if', parameters: { condition: 'true' } };
  const workflow = wf(
    edgeSpec,
    { X: { triggerRule: rule }, ...(inactive(scenario.a) ? { A: ifNode } : {}), ...(inactive(scenario.b) ? { B: ifNode } : {}) },
    scenario.recovery ? { recovery: scenario.recovery } : undefined,
  );
  const events: ExecutionEvent[] = [
    ...decide({ type: 'StartExecution', data: { executionId: 'ex', workflow, triggerNodeId: 'T', triggerData: 'data', waitsForSlot: false } }, null, new Date(T0), BUILTIN_TYPES),
    { type: 'NodeQueued', data: { nodeId: 'T', attempt: 1, input: {}, at: at(0) } },
    { type: 'NodeStarted', data: { nodeId: 'T', attempt: 1, workerId: 'w', leaseExpiresAt: null, at: at(0) } },
    { type: 'NodeCompleted', data: { nodeId: 'T', attempt: 1, output: 'data', outputName: null, at: at(1) } },
    { type: 'NodeQueued', data: { nodeId: 'A', attempt: 1, input: { T: 'data' }, at: at(1) } },
    { type: 'NodeQueued', data: { nodeId: 'B', attempt: 1, input: { T: 'data' }, at: at(1) } },
    ...upstreamEvents('A', scenario.a),
    ...upstreamEvents('B', scenario.b),
  ];
  const state = foldExecution(events)!;
  return state;
}

describe('trigger rules through decide(QueueReadyNodes, BUILTIN_TYPES)', () => {
  it.each(cases)('$rule with $name -> $verdict', ({ rule, verdict, input, ...scenario }) => {
    const state = stateFor(rule, { ...scenario, input });
    expect(state.status).toBe('RUNNING');
    const events = decide({ type: 'QueueReadyNodes' }, state, new Date(T0 + 10), BUILTIN_TYPES);
    const forX = events.filter((e) => 'nodeId' in e.data && e.data.nodeId === 'X');
    if (verdict === 'run') {
      expect(events).toEqual([{ type: 'NodeQueued', data: { nodeId: 'X', attempt: 1, input, at: at(10) } }]);
    } else if (verdict === 'skip') {
      expect(forX).toHaveLength(1);
      const [skipped] = forX;
      expect(skipped!.type).toBe('NodeSkipped');
      expect(skipped!.type === 'NodeSkipped' && skipped.data.reason).toContain(rule);
      // X was the last unsettled node, so the execution ends with it.
      expect(events.at(-1)).toEqual({
        type: 'ExecutionCompleted',
        data: { status: scenario.b === 'failed' ? 'PARTIAL' : 'COMPLETED', at: at(10) },
      });
      expect(events).toHaveLength(2);
    } else {
      expect(events).toEqual([]);
    }
  });

  it.each([...TRIGGER_RULES])('%s on a trigger (zero dependencies) queues it with empty input', (rule) => {
    const workflow = wf('T>A', { T: { triggerRule: rule } });
    const started = decide(
      { type: 'StartExecution', data: { executionId: 'ex', workflow, triggerNodeId: 'T', triggerData: 1, waitsForSlot: false } },
      null,
      new Date(T0),
      BUILTIN_TYPES,
    );
    const events = decide({ type: 'QueueReadyNodes' }, foldExecution(started), new Date(T0), BUILTIN_TYPES);
    expect(events).toEqual([{ type: 'NodeQueued', data: { nodeId: 'T', attempt: 1, input: {}, at: at(0) } }]);
  });
});
