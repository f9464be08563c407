import type { RunAhead } from '../../commands/executionCommandHandler.js';
import type { ExecutionCommand } from '../../domain/execution/commands.js';
import type { ExecutionState } from '../../domain/execution/state.js';
import { attemptBound } from './attemptBound.js';

/**
 * Side-effect-free nodes that one commit may carry beyond the node that made them ready: a chain
 * of transforms commits once per this many steps instead of once per step, and one commit's
 * events and the time the stream waits for it (its other commands queue meanwhile) stay bounded.
 */
export const MAX_RUN_AHEAD = 64;
/**
 * Longest a commit waits for its run-ahead: the stream's other commands (a pause, a cancel, a
 * worker's completion) queue behind it. An evaluation still under way then is aborted and its node
 * left to its own job, so that one slow expression (up to its time bound) never holds the commit.
 * 64 steps take about 15 ms here at rest; the margin is for a loaded machine.
 */
export const RUN_AHEAD_BUDGET_MS = 1000;

const QUEUE_READY: ExecutionCommand = { type: 'QueueReadyNodes' };

export interface RunAheadOptions {
  /** Whether a node of this type is computed in process, before its start is recorded. */
  computesInProcess(type: string): boolean;
  /** The attempt's outcome (CompleteNode, FailNode, or ReleaseNode when the runtime stops), computed until `signal` aborts. */
  outcome(nodeId: string, attempt: number, state: ExecutionState, signal: AbortSignal): Promise<ExecutionCommand>;
  start(nodeId: string, attempt: number): ExecutionCommand;
  /** The job's signal: once it aborts (cancelled, stopping, the job's own bound), nothing more runs ahead. */
  signal: AbortSignal;
  max?: number;
}

/**
 * Runs ahead the side-effect-free nodes that a commit being decided makes ready, so that they are
 * started, settled and followed by their dependents' readiness in that same commit, each with
 * its own NodeStarted and NodeCompleted after its NodeQueued. Nothing is recorded before that
 * commit: a crash loses only computations, done again after recovery (they have no side
 * effects). A node with a timeoutMs, or in an execution with a deadline, is left to its own job,
 * whose bound covers it.
 */
export function runAhead(options: RunAheadOptions): RunAhead {
  let left = options.max ?? MAX_RUN_AHEAD;
  const until = performance.now() + RUN_AHEAD_BUDGET_MS;
  return async (state, events) => {
    const groups: ExecutionCommand[][] = [];
    let budget: CommitBudget | null = null;
    try {
      for (const event of events) {
        if (left === 0 || options.signal.aborted || performance.now() > until) break;
        if (event.type !== 'NodeQueued') continue;
        const { nodeId, attempt } = event.data;
        const node = state.graph.nodes.get(nodeId);
        if (!node || !options.computesInProcess(node.type) || attemptBound(state, nodeId, Date.now())) continue;
        budget ??= commitBudget(options.signal, until);
        const outcome = await options.outcome(nodeId, attempt, state, budget.signal);
        // An outcome of an aborted job, or past the budget, is the abort's, not the node's.
        if (budget.signal.aborted || outcome.type === 'ReleaseNode') break;
        left -= 1;
        groups.push([options.start(nodeId, attempt), outcome, QUEUE_READY]);
      }
    } finally {
      budget?.release();
    }
    return groups;
  };
}

interface CommitBudget {
  signal: AbortSignal;
  release(): void;
}

/**
 * One signal for all the nodes a commit runs ahead: it aborts with the job or when the budget is
 * spent. One controller and one timer per commit, not per node: a signal and a timer per node
 * (AbortSignal.any + AbortSignal.timeout) made the many-executions bench spend 15 % more CPU.
 */
function commitBudget(job: AbortSignal, until: number): CommitBudget {
  const controller = new AbortController();
  const follow = () => controller.abort(job.reason);
  job.addEventListener('abort', follow, { once: true });
  const spent = () => controller.abort(new DOMException('the run-ahead budget is spent', 'TimeoutError'));
  const timer = setTimeout(spent, Math.max(0, Math.ceil(until - performance.now())));
  return {
    signal: controller.signal,
    release: () => {
      clearTimeout(timer);
      job.removeEventListener('abort', follow);
    },
  };
}
