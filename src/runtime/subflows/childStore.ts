import type { SqlExecutor } from '../../db/sqlClient.js';
import type { ChildPlan } from '../../nodes/nodeType.js';

/** The node attempt that starts children. */
export interface AttemptKey {
  executionId: string;
  nodeId: string;
  attempt: number;
}

/** What the runs table knows of one attempt's children. */
export interface RunRow extends AttemptKey {
  workflowId: string;
  workflowVersion: number;
  triggerNodeId: string;
  /** The children's depth (1: children of a top-level execution). */
  depth: number;
  userId: string | null;
  total: number;
  done: number;
  collect: ChildPlan['collect'];
  status: 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';
  error: string | null;
  errorCode: string | null;
  retryable: boolean;
}

/** A child to start now: its id is derived from its attempt and index, so starting it twice starts it once. */
export interface ChildToStart {
  childId: string;
  index: number;
  triggerData: unknown;
}

/** How a child ended, as its parent takes it. */
export interface ChildOutcome {
  childId: string;
  ok: boolean;
  /** The child's leaf outputs, or `{ error }`. */
  result: unknown;
  error: string | null;
  errorCode: string | null;
  retryable: boolean;
}

/** What applying outcomes to a run gave: children to start, and the run when it ended or moved. */
export interface RunChange {
  run: RunRow;
  start: ChildToStart[];
  /** Children to cancel: the run failed and these still run. */
  cancel: string[];
  /** How many children this change saw end. */
  ended: number;
}

export interface OpenRun extends AttemptKey {
  plan: ChildPlan;
  workflowVersion: number;
  depth: number;
  userId: string | null;
  childIds: string[];
}

interface RunRecord {
  execution_id: string;
  node_id: string;
  attempt: number;
  workflow_id: string;
  workflow_version: number;
  trigger_node_id: string;
  depth: number;
  user_id: string | null;
  total: number;
  concurrency: number;
  keep_failures: boolean;
  collect: ChildPlan['collect'];
  running: number;
  done: number;
  next_index: number;
  status: RunRow['status'];
  error: string | null;
  error_code: string | null;
  retryable: boolean | null;
}

const KEY = 'execution_id = $1 AND node_id = $2 AND attempt = $3';
const keyParams = (key: AttemptKey) => [key.executionId, key.nodeId, key.attempt];

const runRow = (row: RunRecord): RunRow => ({
  executionId: row.execution_id,
  nodeId: row.node_id,
  attempt: row.attempt,
  workflowId: row.workflow_id,
  workflowVersion: row.workflow_version,
  triggerNodeId: row.trigger_node_id,
  depth: row.depth,
  userId: row.user_id,
  total: row.total,
  done: row.done,
  collect: row.collect,
  status: row.status,
  error: row.error,
  errorCode: row.error_code,
  retryable: row.retryable ?? true,
});

const toStart = (rows: Array<{ child_execution_id: string; item_index: number; trigger_data: unknown }>): ChildToStart[] =>
  rows.map((row) => ({ childId: row.child_execution_id, index: row.item_index, triggerData: row.trigger_data }));

/**
 * The tables of child runs (migration 0017). Every change is conditional on the row's status,
 * so that a batch of events handled twice (a replay, a second process) changes nothing twice;
 * claims take the run's row lock, so that two processes never start more than `concurrency`.
 * Each function is given the transaction it runs in: none queries anything else meanwhile.
 */
export const ChildStore = {
  /** Records the attempt and its children (an attempt without children is COMPLETED at once), then resumes it. */
  async open(tx: SqlExecutor, run: OpenRun): Promise<{ run: RunRow; start: ChildToStart[] }> {
    const { plan } = run;
    const { rows: created } = await tx.query<RunRecord>(
      `INSERT INTO subflow_runs (execution_id, node_id, attempt, workflow_id, workflow_version, trigger_node_id, depth, user_id, total, concurrency, keep_failures, collect, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING RETURNING *`,
      [
        ...keyParams(run),
        plan.workflowId,
        run.workflowVersion,
        plan.triggerNodeId,
        run.depth,
        run.userId,
        plan.triggers.length,
        plan.concurrency,
        plan.keepFailures,
        plan.collect,
        plan.triggers.length === 0 ? 'COMPLETED' : 'RUNNING',
      ],
    );
    if (created.length > 0) {
      await tx.query(
        `INSERT INTO subflow_children (execution_id, node_id, attempt, item_index, child_execution_id, trigger_data)
         SELECT $1, $2, $3, t.ordinality - 1, ($5::text[])[t.ordinality], t.value FROM jsonb_array_elements($4::jsonb) WITH ORDINALITY AS t`,
        [...keyParams(run), JSON.stringify(plan.triggers), run.childIds],
      );
    }
    return resume(tx, run);
  },

  /** The running children (to start again: a start of a started child starts nothing) and those that free slots take. */
  resume: (tx: SqlExecutor, key: AttemptKey) => resume(tx, key),

  /** The running children among these executions (the ones that just ended), with their attempts. */
  async runningChildren(db: SqlExecutor, childIds: string[]): Promise<Array<AttemptKey & { childId: string }>> {
    const { rows } = await db.query<{ execution_id: string; node_id: string; attempt: number; child_execution_id: string }>(
      `SELECT execution_id, node_id, attempt, child_execution_id FROM subflow_children WHERE child_execution_id = ANY($1::text[]) AND status = 'RUNNING'`,
      [childIds],
    );
    return rows.map((row) => ({ executionId: row.execution_id, nodeId: row.node_id, attempt: row.attempt, childId: row.child_execution_id }));
  },

  /**
   * Records how children ended: a run whose children are all done completes; a failure fails it
   * (unless it keeps failures) and cancels the children left; otherwise freed slots are claimed,
   * unless its execution is paused. Answers the runs that changed.
   */
  async finish(tx: SqlExecutor, outcomes: ChildOutcome[], paused: ReadonlySet<string>): Promise<RunChange[]> {
    const touched = new Map<string, AttemptKey & { failure: ChildOutcome | null; ended: number }>();
    for (const outcome of outcomes) {
      const { rows } = await tx.query<{ execution_id: string; node_id: string; attempt: number; keep_failures: boolean }>(
        `UPDATE subflow_children c SET status = $2, result = $3::jsonb, trigger_data = NULL FROM subflow_runs r
         WHERE c.child_execution_id = $1 AND c.status = 'RUNNING' AND r.execution_id = c.execution_id AND r.node_id = c.node_id AND r.attempt = c.attempt
         RETURNING c.execution_id, c.node_id, c.attempt, r.keep_failures`,
        [outcome.childId, outcome.ok ? 'COMPLETED' : 'FAILED', JSON.stringify(outcome.result)],
      );
      const row = rows[0];
      if (!row) continue;
      const id = `${row.execution_id}\u0000${row.node_id}\u0000${row.attempt}`;
      const entry = touched.get(id) ?? { executionId: row.execution_id, nodeId: row.node_id, attempt: row.attempt, failure: null, ended: 0 };
      entry.ended += 1;
      if (!outcome.ok && !row.keep_failures) entry.failure ??= outcome;
      touched.set(id, entry);
    }
    const changes: RunChange[] = [];
    for (const entry of touched.values()) changes.push(await settleCounts(tx, entry, entry.ended, entry.failure, paused.has(entry.executionId)));
    return changes;
  },

  /** The attempt is over (cancelled, timed out, abandoned): nothing more starts, and the running children are answered to be cancelled. */
  async cancel(tx: SqlExecutor, key: AttemptKey): Promise<string[]> {
    const { rows } = await tx.query(`UPDATE subflow_runs SET status = 'CANCELLED', settled = true WHERE ${KEY} AND status = 'RUNNING' RETURNING 1`, keyParams(key));
    if (rows.length === 0) return [];
    return cancelChildren(tx, key);
  },

  /** The running runs of these executions. */
  async runningRuns(db: SqlExecutor, executionIds: string[]): Promise<RunRow[]> {
    const { rows } = await db.query<RunRecord>(`SELECT * FROM subflow_runs WHERE execution_id = ANY($1::text[]) AND status = 'RUNNING'`, [executionIds]);
    return rows.map(runRow);
  },

  /** The ids of a run's children in a status. */
  async childIds(db: SqlExecutor, key: AttemptKey, status: string): Promise<string[]> {
    const { rows } = await db.query<{ child_execution_id: string }>(`SELECT child_execution_id FROM subflow_children WHERE ${KEY} AND status = $4`, [...keyParams(key), status]);
    return rows.map((row) => row.child_execution_id);
  },

  /** The children's results in item order. */
  async results(db: SqlExecutor, key: AttemptKey): Promise<unknown[]> {
    const { rows } = await db.query<{ result: unknown }>(`SELECT result FROM subflow_children WHERE ${KEY} ORDER BY item_index`, keyParams(key));
    return rows.map((row) => row.result);
  },

  /** Its parent was told: the children's rows are no longer needed. */
  async settled(db: SqlExecutor, key: AttemptKey): Promise<void> {
    await db.query(`DELETE FROM subflow_children WHERE ${KEY}`, keyParams(key));
    await db.query(`UPDATE subflow_runs SET settled = true WHERE ${KEY}`, keyParams(key));
  },

  /** Runs whose work a process may have left half done: running ones (children to start) and ended ones whose parent was not told. */
  async unfinished(db: SqlExecutor): Promise<RunRow[]> {
    const { rows } = await db.query<RunRecord>(`SELECT * FROM subflow_runs WHERE settled = false`);
    return rows.map(runRow);
  },
};

async function resume(tx: SqlExecutor, key: AttemptKey): Promise<{ run: RunRow; start: ChildToStart[] }> {
  const running = await tx.query<{ child_execution_id: string; item_index: number; trigger_data: unknown }>(
    `SELECT child_execution_id, item_index, trigger_data FROM subflow_children WHERE ${KEY} AND status = 'RUNNING' ORDER BY item_index`,
    keyParams(key),
  );
  const claimed = await claim(tx, key);
  return { run: claimed.run, start: [...toStart(running.rows), ...claimed.start] };
}

/** Starts the items after `next_index` into the run's free slots, under its row lock. */
async function claim(tx: SqlExecutor, key: AttemptKey): Promise<{ run: RunRow; start: ChildToStart[] }> {
  const { rows } = await tx.query<RunRecord>(`SELECT * FROM subflow_runs WHERE ${KEY} FOR UPDATE`, keyParams(key));
  const run = rows[0]!;
  const count = run.status === 'RUNNING' ? Math.min(run.concurrency - run.running, run.total - run.next_index) : 0;
  if (count <= 0) return { run: runRow(run), start: [] };
  const claimed = await tx.query<{ child_execution_id: string; item_index: number; trigger_data: unknown }>(
    `UPDATE subflow_children SET status = 'RUNNING' WHERE ${KEY} AND item_index >= $4 AND item_index < $5 AND status = 'PENDING'
     RETURNING child_execution_id, item_index, trigger_data`,
    [...keyParams(key), run.next_index, run.next_index + count],
  );
  const { rows: updated } = await tx.query<RunRecord>(`UPDATE subflow_runs SET running = running + $4, next_index = next_index + $5 WHERE ${KEY} RETURNING *`, [
    ...keyParams(key),
    claimed.rows.length,
    count,
  ]);
  return { run: runRow(updated[0]!), start: toStart(claimed.rows).sort((a, b) => a.index - b.index) };
}

async function settleCounts(tx: SqlExecutor, key: AttemptKey, ended: number, failure: ChildOutcome | null, paused: boolean): Promise<RunChange> {
  const { rows } = await tx.query<RunRecord>(
    `UPDATE subflow_runs SET running = running - $4, done = done + $4,
       status = CASE WHEN $5::boolean THEN 'FAILED' WHEN done + $4 = total THEN 'COMPLETED' ELSE status END,
       error = CASE WHEN $5::boolean THEN $6 ELSE error END, error_code = CASE WHEN $5::boolean THEN $7 ELSE error_code END,
       retryable = CASE WHEN $5::boolean THEN $8::boolean ELSE retryable END
     WHERE ${KEY} AND status = 'RUNNING' RETURNING *`,
    [...keyParams(key), ended, failure !== null, failure?.error ?? null, failure?.errorCode ?? null, failure?.retryable ?? null],
  );
  const run = runRow(rows[0]!);
  if (run.status === 'FAILED') return { run, start: [], cancel: await cancelChildren(tx, key), ended };
  if (run.status !== 'RUNNING' || paused) return { run, start: [], cancel: [], ended };
  const claimed = await claim(tx, key);
  return { run: claimed.run, start: claimed.start, cancel: [], ended };
}

/** Marks the children not yet ended CANCELLED and answers those that were running. */
async function cancelChildren(tx: SqlExecutor, key: AttemptKey): Promise<string[]> {
  const { rows } = await tx.query<{ child_execution_id: string }>(`SELECT child_execution_id FROM subflow_children WHERE ${KEY} AND status = 'RUNNING'`, keyParams(key));
  await tx.query(`UPDATE subflow_children SET status = 'CANCELLED', trigger_data = NULL WHERE ${KEY} AND status IN ('PENDING', 'RUNNING')`, keyParams(key));
  return rows.map((row) => row.child_execution_id);
}
