import type { TriggerRule } from '../workflow/workflow.js';

/** What a node's dependencies look like when its trigger rule is asked. */
export interface UpstreamSummary {
  total: number;
  settled: number;
  /** Dependencies with at least one active edge into the node. */
  active: number;
  /** Dependencies that FAILED (and do not count as active) or were CANCELLED. */
  failed: number;
  /** Dependencies that actually ran (COMPLETED or FAILED). */
  ran: number;
}

export type RuleVerdict = 'run' | 'skip' | 'wait';

export const DEFAULT_TRIGGER_RULE: TriggerRule = 'NONE_FAILED_MIN_ONE_SUCCESS';

/**
 * Every rule but ONE_SUCCESS waits until each dependency settled; ONE_SUCCESS runs on the first
 * active edge. ALL_DONE differs from ALWAYS in that it skips when nothing upstream ran at all
 * (a clean-up step with nothing to clean up), while ALWAYS runs whatever happened.
 */
export function applyTriggerRule(rule: TriggerRule, upstream: UpstreamSummary): RuleVerdict {
  if (upstream.total === 0) return 'run';
  const allSettled = upstream.settled === upstream.total;
  if (rule === 'ONE_SUCCESS') return upstream.active > 0 ? 'run' : allSettled ? 'skip' : 'wait';
  if (!allSettled) return 'wait';
  return holds(rule, upstream) ? 'run' : 'skip';
}

function holds(rule: Exclude<TriggerRule, 'ONE_SUCCESS'>, upstream: UpstreamSummary): boolean {
  switch (rule) {
    case 'NONE_FAILED_MIN_ONE_SUCCESS':
      return upstream.failed === 0 && upstream.active > 0;
    case 'ALL_SUCCESS':
      return upstream.active === upstream.total;
    case 'NONE_FAILED':
      return upstream.failed === 0;
    case 'ALL_DONE':
      return upstream.ran > 0;
    case 'ALWAYS':
      return true;
  }
}
