import { tenantOf } from '../../domain/tenants.js';
import type { SqlClient, SqlExecutor } from '../../db/sqlClient.js';
import type { Workflow } from '../../domain/workflow/workflow.js';
import { isScheduleTrigger } from '../../nodes/triggerSchedule.js';
import { nextOccurrence, scheduleTimezone } from './cronSchedule.js';
import { derivedId } from './derivedId.js';

/** One occurrence of a schedule, recorded as fired; its execution id is derived from it. */
export interface Firing {
  executionId: string;
  workflowId: string;
  nodeId: string;
  workflowVersion: number;
  scheduledAt: string;
  firedAt: string;
}

interface ScheduleRow {
  workflow_id: string;
  node_id: string;
  cron: string;
  timezone: string;
  next_fire_at: Date | string;
  workflow_version: number;
}

interface FiringRow {
  execution_id: string;
  workflow_id: string;
  node_id: string;
  workflow_version: number;
  scheduled_at: Date | string;
  fired_at: Date | string;
}

const iso = (value: Date | string): string => new Date(value).toISOString();

/**
 * Brings the schedules of a workflow in line with a new version of it. A schedule whose cron and
 * time zone did not change keeps its next fire time; a new or changed one waits for its first
 * occurrence after the version was made (`at`), so a late sync still fires it once.
 */
export async function syncSchedules(tx: SqlExecutor, workflow: Workflow, at: Date): Promise<void> {
  const nodes = workflow.nodes.filter(isScheduleTrigger);
  await tx.query('DELETE FROM schedules WHERE workflow_id = $1 AND NOT (node_id = ANY($2::text[]))', [workflow.id, nodes.map((node) => node.id)]);
  for (const node of nodes) {
    const cron = String(node.parameters?.cron);
    const timezone = scheduleTimezone(node.parameters);
    await tx.query(
      `INSERT INTO schedules (workflow_id, node_id, cron, timezone, next_fire_at, workflow_version, tenant_id) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (workflow_id, node_id) DO UPDATE SET workflow_version = EXCLUDED.workflow_version,
         next_fire_at = CASE WHEN schedules.cron = EXCLUDED.cron AND schedules.timezone = EXCLUDED.timezone
                             THEN schedules.next_fire_at ELSE EXCLUDED.next_fire_at END,
         cron = EXCLUDED.cron, timezone = EXCLUDED.timezone`,
      [workflow.id, node.id, cron, timezone, nextOccurrence(cron, timezone, at), workflow.version, tenantOf(workflow)],
    );
  }
}

/**
 * Claims the due schedules (rows another process holds are skipped), records one firing for each
 * and moves it to its first occurrence after `now`, all in one transaction: an occurrence is
 * recorded exactly once, and everything missed while no scheduler ran collapses into one firing.
 */
export async function claimDueFirings(db: SqlClient, now: Date, limit = 100): Promise<Firing[]> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<ScheduleRow>(`SELECT * FROM schedules WHERE next_fire_at <= $1 ORDER BY next_fire_at LIMIT $2 FOR UPDATE SKIP LOCKED`, [now, limit]);
    const firings: Firing[] = [];
    for (const row of rows) {
      const scheduledAt = iso(row.next_fire_at);
      const firing: Firing = {
        executionId: derivedId('schedule', row.workflow_id, row.node_id, scheduledAt),
        workflowId: row.workflow_id,
        nodeId: row.node_id,
        workflowVersion: row.workflow_version,
        scheduledAt,
        firedAt: now.toISOString(),
      };
      await recordFiring(tx, firing);
      await tx.query('UPDATE schedules SET next_fire_at = $3 WHERE workflow_id = $1 AND node_id = $2', [row.workflow_id, row.node_id, nextOccurrence(row.cron, row.timezone, now)]);
      firings.push(firing);
    }
    return firings;
  });
}

async function recordFiring(tx: SqlExecutor, firing: Firing): Promise<void> {
  await tx.query(
    `INSERT INTO schedule_firings (execution_id, workflow_id, node_id, workflow_version, scheduled_at, fired_at)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (execution_id) DO NOTHING`,
    [firing.executionId, firing.workflowId, firing.nodeId, firing.workflowVersion, firing.scheduledAt, firing.firedAt],
  );
}

/** The firing's execution exists (or never can): it leaves the outbox. */
export async function firingDone(db: SqlExecutor, executionId: string): Promise<void> {
  await db.query('DELETE FROM schedule_firings WHERE execution_id = $1', [executionId]);
}

/** Firings recorded before `before` whose start was never confirmed: their scheduler died mid-way. */
export async function unstartedFirings(db: SqlExecutor, before: Date): Promise<Firing[]> {
  const { rows } = await db.query<FiringRow>('SELECT * FROM schedule_firings WHERE fired_at < $1 ORDER BY scheduled_at', [before]);
  return rows.map((row) => ({
    executionId: row.execution_id,
    workflowId: row.workflow_id,
    nodeId: row.node_id,
    workflowVersion: row.workflow_version,
    scheduledAt: iso(row.scheduled_at),
    firedAt: iso(row.fired_at),
  }));
}

/** When the next schedule is due, or null when none is. */
export async function nextDueAt(db: SqlExecutor): Promise<Date | null> {
  const { rows } = await db.query<{ due: Date | string | null }>('SELECT min(next_fire_at) AS due FROM schedules');
  const due = rows[0]?.due;
  return due ? new Date(due) : null;
}
