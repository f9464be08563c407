/**
 * What the runtime waits for: a `delay` node's end, a scheduled retry, a node attempt's timeout,
 * an execution's timeout, a lease running out, a wait's timeout.
 */
export type TimerKind = 'delay' | 'retry' | 'nodeTimeout' | 'executionTimeout' | 'lease' | 'waitTimeout';

export interface Timer {
  /** Deterministic: the same timer set twice (a replayed event, a renewed lease) is one row. */
  id: string;
  kind: TimerKind;
  executionId: string;
  /** '' for a timer of the whole execution. */
  nodeId: string;
  attempt: number;
  dueAt: Date;
}

export function timer(kind: TimerKind, executionId: string, nodeId: string, attempt: number, dueAt: Date): Timer {
  return { id: `${kind}:${executionId}:${nodeId}:${attempt}`, kind, executionId, nodeId, attempt, dueAt };
}
